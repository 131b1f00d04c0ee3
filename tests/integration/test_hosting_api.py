"""Models, endpoint configs and endpoints through SageMaker's API, driven by boto3 as users'
code drives SageMaker: every answer in SageMaker's own response shape (checked on the raw JSON
against botocore's model), List filters, orders and pages, SageMaker's words for what is
missing (which botocore's waiters and the SageMaker SDK rely on), and a real deployment waited
for with boto3's own waiters."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from domains.services import create_access_key
from jobs.models import Endpoint, EndpointConfig, EndpointInstance, Model
from jobs.services import endpoint_configs
from studio.core import storage
from studio.core.errors import ValidationException
from studio.core.lifecycle import record_creation, transition
from studio.core.shapes import shape
from studio.web.api import hosting
from studio.web.api.auth import Caller
from tests.integration.api import sagemaker
from tests.integration.hosting import IMAGE, iris_model, store_model

pytestmark = pytest.mark.usefixtures("live", "instance_types")
FAST = {"Delay": 1, "MaxAttempts": 120}
# Members SageMaker's model marks required that Studio has no value for: it refuses KMS keys
# (endpoint_configs.py), so a data capture summary has none to name.
NO_VALUE_HERE = {("DataCaptureConfigSummary", "KmsKeyId")}


def conforms(value: Any, shape_name: str, path: str = "") -> None:
    """`value`, raw JSON as Studio sent it, fits SageMaker's response shape `shape_name`: no
    member the shape lacks (boto3 would drop it silently), every required one, timestamps as
    numbers."""
    spec = shape(shape_name)
    kind = spec["type"]
    if kind == "structure":
        assert isinstance(value, dict), path
        members = spec["members"]
        unknown = set(value) - set(members)
        assert not unknown, f"{path or shape_name}: members {unknown} are not in {shape_name}"
        for required in spec.get("required", []):
            if (shape_name, required) not in NO_VALUE_HERE:
                assert required in value, f"{path or shape_name}: {required} is missing"
        for key, item in value.items():
            conforms(item, members[key]["shape"], f"{path}.{key}" if path else key)
    elif kind == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            conforms(item, spec["member"]["shape"], f"{path}[{i}]")
    elif kind == "timestamp":
        assert isinstance(value, int | float), f"{path}: {value!r} is not seconds"
    elif kind == "string" and "enum" in spec:
        assert value in spec["enum"], f"{path}: {value!r} is not one of {spec['enum']}"


class ShapeChecker:
    """Checks every answer a client receives against its operation's output shape."""

    def __init__(self, client):
        self.checked: list[str] = []
        client.meta.events.register("before-parse.sagemaker.*", self)

    def __call__(self, operation_model, response_dict, **_) -> None:
        if response_dict["status_code"] != 200 or operation_model.output_shape is None:
            return
        conforms(json.loads(response_dict["body"]), operation_model.output_shape.name)
        self.checked.append(operation_model.name)


@pytest.fixture
def api(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret)


@pytest.fixture
def shapes(api) -> ShapeChecker:
    return ShapeChecker(api)


@pytest.fixture
def domain_id(alice_profile) -> str:
    return alice_profile.domain.domain_id


@pytest.fixture
def archive_uri(domain_id) -> str:
    uri = f"s3://{storage.domain_bucket(domain_id)}/models/iris/model.tar.gz"
    estimator, _ = iris_model()
    return store_model(uri, estimator)


def variant(model: str, name: str = "AllTraffic", **overrides: Any) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        **overrides,
    }


def error_of(call) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def row(config: EndpointConfig, name: str, status: str, **fields: Any) -> Endpoint:
    """An endpoint row as the worker leaves one in `status`, made here so that no deployment
    moves it while the test reads it."""
    endpoint = Endpoint.objects.create(
        name=name,
        domain=config.domain,
        profile=config.profile,
        status=status,
        config_name=config.name,
        config=config.request,
        desired={
            v["VariantName"]: {"weight": v["InitialVariantWeight"], "count": 1}
            for v in config.variants
        },
        generation=1,
        latest_generation=1,
        **fields,
    )
    record_creation(endpoint)
    return endpoint


# Models and endpoint configs


def test_models_are_created_described_listed_and_deleted(api, shapes, domain_id, archive_uri):
    arn = api.create_model(
        ModelName="iris",
        PrimaryContainer={
            "Image": IMAGE,
            "ModelDataUrl": archive_uri,
            "Environment": {"SAGEMAKER_PROGRAM": "serve.py"},
        },
        ExecutionRoleArn="arn:aws:iam::000000000000:role/SageMakerExecution",
    )["ModelArn"]
    assert arn.endswith(":model/iris")
    described = api.describe_model(ModelName="iris")
    assert described["ModelArn"] == arn
    assert described["PrimaryContainer"] == {
        "Image": IMAGE,
        "ModelDataUrl": archive_uri,
        "Environment": {"SAGEMAKER_PROGRAM": "serve.py"},
    }
    assert described["CreationTime"] <= datetime.now(UTC)
    assert [m["ModelName"] for m in api.list_models()["Models"]] == ["iris"]
    api.delete_model(ModelName="iris")
    error = error_of(lambda: api.describe_model(ModelName="iris"))
    assert error == {"Code": "ValidationException", "Message": f'Could not find model "{arn}".'}
    # DeleteModel answers nothing, as SageMaker's does.
    assert shapes.checked == ["CreateModel", "DescribeModel", "ListModels"]


def test_list_models_filters_sorts_and_pages(api, shapes, domain_id, archive_uri):
    for name in ("b-iris", "a-iris", "c-other", "d-iris"):
        api.create_model(ModelName=name, PrimaryContainer={"Image": IMAGE})
    start = Model.objects.get(name="b-iris").created_at
    # Creation times a minute apart, in the order created.
    for i, name in enumerate(("b-iris", "a-iris", "c-other", "d-iris")):
        Model.objects.filter(name=name).update(created_at=start + timedelta(minutes=i))

    def names(**params) -> list[str]:
        return [m["ModelName"] for m in api.list_models(**params)["Models"]]

    assert names() == ["d-iris", "c-other", "a-iris", "b-iris"]  # newest first
    assert names(SortBy="Name", SortOrder="Ascending") == ["a-iris", "b-iris", "c-other", "d-iris"]
    assert names(NameContains="IRIS", SortBy="Name") == ["d-iris", "b-iris", "a-iris"]
    assert names(CreationTimeAfter=start + timedelta(seconds=30)) == [
        "d-iris",
        "c-other",
        "a-iris",
    ]
    assert names(CreationTimeBefore=start + timedelta(minutes=2)) == ["a-iris", "b-iris"]
    assert names(CreationTimeAfter=start + timedelta(minutes=3)) == ["d-iris"]
    paged = api.get_paginator("list_models").paginate(
        SortBy="Name", PaginationConfig={"PageSize": 3}
    )
    pages = [[m["ModelName"] for m in page["Models"]] for page in paged]
    assert pages == [["d-iris", "c-other", "b-iris"], ["a-iris"]]
    assert set(shapes.checked) == {"CreateModel", "ListModels"}


def test_endpoint_configs_are_created_described_listed_and_deleted(
    api, shapes, domain_id, archive_uri
):
    api.create_model(
        ModelName="iris", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": archive_uri}
    )
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 50,
        "DestinationS3Uri": f"s3://{storage.domain_bucket(domain_id)}/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    scaling = {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2}
    variants = [
        variant("iris", "live", ManagedInstanceScaling=scaling),
        {
            "VariantName": "lazy",
            "ModelName": "iris",
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            "InitialVariantWeight": 0.5,
        },
    ]
    arn = api.create_endpoint_config(
        EndpointConfigName="two", ProductionVariants=variants, DataCaptureConfig=capture
    )["EndpointConfigArn"]
    assert arn.endswith(":endpoint-config/two")
    api.create_endpoint_config(EndpointConfigName="one", ProductionVariants=[variant("iris")])
    described = api.describe_endpoint_config(EndpointConfigName="two")
    assert described["ProductionVariants"] == [
        {**variants[0], "InitialVariantWeight": 1.0},
        variants[1],
    ]
    assert described["DataCaptureConfig"] == capture
    listed = api.list_endpoint_configs(SortBy="Name", SortOrder="Ascending")["EndpointConfigs"]
    assert [c["EndpointConfigName"] for c in listed] == ["one", "two"]
    assert [
        c["EndpointConfigName"]
        for c in api.list_endpoint_configs(NameContains="tw")["EndpointConfigs"]
    ] == ["two"]
    api.delete_endpoint_config(EndpointConfigName="two")
    error = error_of(lambda: api.describe_endpoint_config(EndpointConfigName="two"))
    assert error == {
        "Code": "ValidationException",
        "Message": f'Could not find endpoint configuration "{arn}".',
    }
    assert "DescribeEndpointConfig" in shapes.checked and "ListEndpointConfigs" in shapes.checked


# Endpoints


@pytest.fixture
def config(api, alice, domain_id, archive_uri) -> EndpointConfig:
    api.create_model(
        ModelName="iris", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": archive_uri}
    )
    api.create_endpoint_config(
        EndpointConfigName="iris",
        ProductionVariants=[
            variant("iris", "blue", InitialVariantWeight=3.0),
            variant("iris", "green"),
        ],
        DataCaptureConfig={
            "InitialSamplingPercentage": 10,
            "DestinationS3Uri": f"s3://{storage.domain_bucket(domain_id)}/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}],
        },
    )
    return endpoint_configs.describe_endpoint_config(alice, domain_id, "iris")


def test_an_endpoint_starts_creating(api, shapes, config):
    arn = api.create_endpoint(EndpointName="iris", EndpointConfigName="iris")["EndpointArn"]
    assert arn.endswith(":endpoint/iris")
    endpoint = Endpoint.objects.get(name="iris")
    assert endpoint.transitions().first().to_status == "Creating"
    assert endpoint.config_name == "iris"


def test_describe_endpoint_summarises_variants_instances_and_capture(api, shapes, config):
    endpoint = row(config, "iris", "InService")
    EndpointInstance.objects.bulk_create(
        EndpointInstance(
            endpoint=endpoint,
            generation=generation,
            variant_name="blue",
            model_name="iris",
            instance_type="ml.m5.large",
            runtime="docker",
            uid=10_000,
            status=status,
        )
        for generation, status in [(1, "InService"), (1, "Pending"), (0, "InService")]
    )
    described = api.describe_endpoint(EndpointName="iris")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "iris")
    assert described["LastModifiedTime"] >= described["CreationTime"]
    blue, green = described["ProductionVariants"]
    # Only the InService instances of the generation traffic goes to.
    assert blue == {
        "VariantName": "blue",
        "DeployedImages": [{"SpecifiedImage": IMAGE, "ResolvedImage": IMAGE}],
        "CurrentWeight": 3.0,
        "DesiredWeight": 3.0,
        "CurrentInstanceCount": 1,
        "DesiredInstanceCount": 1,
    }
    assert (green["CurrentInstanceCount"], green["DesiredInstanceCount"]) == (0, 1)
    assert described["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 10,
        "DestinationS3Uri": config.request["DataCaptureConfig"]["DestinationS3Uri"],
    }
    assert "PendingDeploymentSummary" not in described
    assert shapes.checked[-1] == "DescribeEndpoint"


def test_describe_endpoint_shows_the_update_under_way(api, shapes, alice, domain_id, config):
    serverless = endpoint_configs.create_endpoint_config(
        alice,
        domain_id,
        {
            "EndpointConfigName": "lazy",
            "ProductionVariants": [
                {
                    "VariantName": "lazy",
                    "ModelName": "iris",
                    "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 2},
                },
                variant(
                    "iris",
                    "scaled",
                    InitialInstanceCount=2,
                    ManagedInstanceScaling={"MinInstanceCount": 0, "MaxInstanceCount": 4},
                ),
            ],
        },
    )
    endpoint = row(
        config,
        "iris",
        "InService",
        pending_config_name="lazy",
        pending_config=serverless.request,
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(latest_generation=2)
    endpoint.refresh_from_db()
    transition(endpoint, "Updating")
    described = api.describe_endpoint(EndpointName="iris")
    assert described["EndpointStatus"] == "Updating"
    assert described["EndpointConfigName"] == "iris"  # the config in force until it is done
    pending = described["PendingDeploymentSummary"]
    assert pending["EndpointConfigName"] == "lazy"
    assert pending["StartTime"] >= described["CreationTime"]
    lazy, scaled = pending["ProductionVariants"]
    assert lazy["CurrentServerlessConfig"] == {"MemorySizeInMB": 1024, "MaxConcurrency": 2}
    assert "CurrentInstanceCount" not in lazy
    assert scaled["InstanceType"] == "ml.m5.large"
    assert (scaled["CurrentInstanceCount"], scaled["DesiredInstanceCount"]) == (0, 2)
    assert scaled["ManagedInstanceScaling"] == {"MinInstanceCount": 0, "MaxInstanceCount": 4}
    assert shapes.checked[-1] == "DescribeEndpoint"


def test_list_endpoints_filters_sorts_and_pages_stably(api, shapes, config):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = {}
    for i, (name, status) in enumerate(
        [("b-ep", "InService"), ("a-ep", "Failed"), ("c-ep", "InService"), ("d-other", "Creating")]
    ):
        made[name] = row(config, name, status)
        Endpoint.objects.filter(name=name).update(
            created_at=start + timedelta(days=i), last_modified_at=start + timedelta(days=10 - i)
        )

    def names(**params) -> list[str]:
        return [e["EndpointName"] for e in api.list_endpoints(**params)["Endpoints"]]

    assert names() == ["d-other", "c-ep", "a-ep", "b-ep"]
    assert names(SortOrder="Ascending") == ["b-ep", "a-ep", "c-ep", "d-other"]
    assert names(SortBy="Name", SortOrder="Ascending") == ["a-ep", "b-ep", "c-ep", "d-other"]
    # Ties (two InService) in the order they were made.
    assert names(SortBy="Status", SortOrder="Ascending") == ["d-other", "a-ep", "b-ep", "c-ep"]
    assert names(NameContains="-EP") == ["c-ep", "a-ep", "b-ep"]
    assert names(StatusEquals="InService") == ["c-ep", "b-ep"]
    assert names(CreationTimeAfter=start + timedelta(hours=12)) == ["d-other", "c-ep", "a-ep"]
    # At or after, as SageMaker documents it; before is strictly before.
    assert names(CreationTimeAfter=start + timedelta(days=2)) == ["d-other", "c-ep"]
    assert names(CreationTimeBefore=start + timedelta(days=1)) == ["b-ep"]
    assert names(CreationTimeBefore=start + timedelta(days=1, hours=12)) == ["a-ep", "b-ep"]
    assert names(LastModifiedTimeAfter=start + timedelta(days=8, hours=12)) == ["a-ep", "b-ep"]
    assert names(LastModifiedTimeBefore=start + timedelta(days=7, hours=12)) == ["d-other"]
    assert names(StatusEquals="InService", NameContains="c") == ["c-ep"]
    # Pages do not shift between calls, even among endpoints made at one moment.
    Endpoint.objects.update(created_at=start)
    whole = names(MaxResults=100)
    paged = api.get_paginator("list_endpoints").paginate(PaginationConfig={"PageSize": 1})
    assert [e["EndpointName"] for page in paged for e in page["Endpoints"]] == whole
    assert sorted(whole) == sorted(made)
    assert shapes.checked[-1] == "ListEndpoints"


def test_a_missing_endpoint_is_not_found_in_sagemakers_words(api, shapes, alice_profile):
    arn = Endpoint(name="nowhere", domain=alice_profile.domain).arn
    error = error_of(lambda: api.describe_endpoint(EndpointName="nowhere"))
    assert error == {"Code": "ValidationException", "Message": f'Could not find endpoint "{arn}".'}
    for call in (
        lambda: api.delete_endpoint(EndpointName="nowhere"),
        lambda: api.update_endpoint(EndpointName="nowhere", EndpointConfigName="iris"),
        lambda: api.update_endpoint_weights_and_capacities(
            EndpointName="nowhere",
            DesiredWeightsAndCapacities=[{"VariantName": "blue", "DesiredWeight": 1.0}],
        ),
    ):
        assert error_of(call) == error
    # botocore's waiter takes "Could not find" as deleted, at once.
    api.get_waiter("endpoint_deleted").wait(EndpointName="nowhere", WaiterConfig=FAST)


def test_an_endpoint_cannot_be_updated_while_it_is_creating(api, shapes, config):
    row(config, "iris", "Creating")
    error = error_of(lambda: api.update_endpoint(EndpointName="iris", EndpointConfigName="iris"))
    assert error["Code"] == "ValidationException"
    assert "is Creating" in error["Message"] and "InService or Failed" in error["Message"]
    error = error_of(
        lambda: api.update_endpoint_weights_and_capacities(
            EndpointName="iris",
            DesiredWeightsAndCapacities=[{"VariantName": "blue", "DesiredWeight": 1.0}],
        )
    )
    assert "is Creating" in error["Message"]
    endpoint = Endpoint.objects.get(name="iris")
    assert (endpoint.status, endpoint.latest_generation) == ("Creating", 1)


def test_bad_requests_name_the_field_and_create_nothing(asgi_server, alice, domain_id, config):
    key, secret = create_access_key(alice, domain_id, "alice")
    client = sagemaker(asgi_server, key.access_key_id, secret, parameter_validation=False)
    error = error_of(
        lambda: client.create_model(
            ModelName="bad", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "file:///etc/passwd"}
        )
    )
    assert error["Code"] == "ValidationException"
    assert "'PrimaryContainer.ModelDataUrl'" in error["Message"]
    error = error_of(
        lambda: client.create_endpoint_config(
            EndpointConfigName="bad", ProductionVariants=[variant("iris", InitialInstanceCount=17)]
        )
    )
    assert error["Code"] == "ValidationException"
    assert "ProductionVariants[0].InstanceCount must be between 1 and 16" in error["Message"]
    error = error_of(
        lambda: client.update_endpoint(
            EndpointName="iris",
            EndpointConfigName="iris",
            ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DesiredWeight"}],
        )
    )
    assert error == {
        "Code": "ValidationException",
        "Message": "ExcludeRetainedVariantProperties is not supported here.",
    }
    assert not Model.objects.filter(name="bad").exists()
    assert not EndpointConfig.objects.filter(name="bad").exists()


def test_boto3_deploys_updates_and_deletes_an_endpoint(runtime, api, shapes, config):
    api.create_endpoint(EndpointName="iris", EndpointConfigName="iris")
    api.get_waiter("endpoint_in_service").wait(EndpointName="iris", WaiterConfig=FAST)
    described = api.describe_endpoint(EndpointName="iris")
    assert [
        (v["VariantName"], v["CurrentInstanceCount"], v["CurrentWeight"])
        for v in described["ProductionVariants"]
    ] == [("blue", 1, 3.0), ("green", 1, 1.0)]
    api.update_endpoint_weights_and_capacities(
        EndpointName="iris",
        DesiredWeightsAndCapacities=[{"VariantName": "green", "DesiredWeight": 2.0}],
    )
    api.get_waiter("endpoint_in_service").wait(EndpointName="iris", WaiterConfig=FAST)
    green = api.describe_endpoint(EndpointName="iris")["ProductionVariants"][1]
    assert (green["DesiredWeight"], green["CurrentInstanceCount"]) == (2.0, 1)
    api.create_endpoint_config(EndpointConfigName="single", ProductionVariants=[variant("iris")])
    api.update_endpoint(EndpointName="iris", EndpointConfigName="single")
    api.get_waiter("endpoint_in_service").wait(EndpointName="iris", WaiterConfig=FAST)
    described = api.describe_endpoint(EndpointName="iris")
    assert described["EndpointConfigName"] == "single", described.get("FailureReason")
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["AllTraffic"]
    assert "PendingDeploymentSummary" not in described
    api.delete_endpoint(EndpointName="iris")
    api.get_waiter("endpoint_deleted").wait(EndpointName="iris", WaiterConfig=FAST)
    assert not Endpoint.objects.filter(name="iris").exists()
    assert {
        "CreateEndpoint",
        "DescribeEndpoint",
        "UpdateEndpointWeightsAndCapacities",
        "UpdateEndpoint",
    } <= set(shapes.checked)


def test_list_times_may_be_iso_8601_and_a_bad_one_names_the_field(alice, domain_id, config):
    """Clients other than boto3 may send ISO 8601; the operation reads either."""
    key, _ = create_access_key(alice, domain_id, "alice")
    caller = Caller(key)
    created = EndpointConfig.objects.get(name="iris").created_at
    before = (created - timedelta(seconds=1)).isoformat()
    listed = hosting.list_endpoint_configs(caller, {"CreationTimeAfter": before})
    assert [c["EndpointConfigName"] for c in listed["EndpointConfigs"]] == ["iris"]
    naive = (created + timedelta(seconds=1)).replace(tzinfo=None).isoformat()  # read as UTC
    assert hosting.list_models(caller, {"CreationTimeAfter": naive})["Models"] == []
    for bad in ("yesterday", True, 1e300, {"at": 1}):
        with pytest.raises(ValidationException) as caught:
            hosting.list_endpoints(caller, {"LastModifiedTimeBefore": bad})
        assert caught.value.field == "LastModifiedTimeBefore"
        assert "seconds since the epoch or an ISO 8601" in caught.value.message
