"""Hosting's services refuse bad input as SageMaker does: a ValidationException naming the field
and the rule (ResourceInUse, ResourceLimitExceeded where SageMaker answers those), and nothing
created. Also the request builders the hosting API and attack tests share."""

import copy
from typing import Any

import pytest

from domains.services import create_policy, update_user_profile
from jobs.models import Endpoint, EndpointConfig, Model
from jobs.models.hosting import EndpointStatus
from jobs.services import endpoint_configs, endpoints, hosted_models
from studio.core import storage
from studio.core.errors import (
    AccessDenied,
    ResourceInUse,
    ResourceLimitExceeded,
    StudioError,
    ValidationException,
)
from tests.integration.conftest import put

pytestmark = pytest.mark.usefixtures("live", "instance_types")

IMAGE = "studio/sklearn:latest"


def model_uri(domain_id: str, name: str = "model") -> str:
    return f"s3://{storage.domain_bucket(domain_id)}/models/{name}/model.tar.gz"


def stored_model(domain_id: str, name: str = "model") -> str:
    """A model archive in the domain's bucket (the services only check that it is there)."""
    return put(model_uri(domain_id, name), b"not unpacked by the services")


def model_request(name: str, url: str | None, **overrides: Any) -> dict[str, Any]:
    container = {"Image": IMAGE, **({"ModelDataUrl": url} if url else {})}
    return {"ModelName": name, "PrimaryContainer": container, **overrides}


def variant(model: str, name: str = "AllTraffic", **overrides: Any) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        **overrides,
    }


def config_request(name: str, *variants: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"EndpointConfigName": name, "ProductionVariants": list(variants), **overrides}


def in_service(
    actor, domain_id: str, name: str, config_name: str, status: str = EndpointStatus.IN_SERVICE
) -> Endpoint:
    """An endpoint deployed from `config_name`, as the worker leaves one in `status`: a row made
    here, so that no deployment moves it while the test runs."""
    config = endpoint_configs.describe_endpoint_config(actor, domain_id, config_name)
    return Endpoint.objects.create(
        name=name,
        domain=config.domain,
        profile=config.profile,
        status=status,
        config_name=config.name,
        config=config.request,
        desired=endpoints.desired_from(config.request),
        generation=1,
        latest_generation=1,
    )


def refused(call, error: type[StudioError], *words: str) -> StudioError:
    """`call()` raises `error`, whose message says each of `words` (the field, the rule)."""
    with pytest.raises(error) as caught:
        call()
    for word in words:
        assert word in caught.value.message, caught.value.message
    return caught.value


@pytest.fixture
def domain_id(alice_profile) -> str:
    return alice_profile.domain.domain_id


@pytest.fixture
def model(alice, domain_id) -> Model:
    return hosted_models.create_model(alice, domain_id, model_request("m", stored_model(domain_id)))


# CreateModel


def test_a_model_is_created_with_its_request_as_given(alice, domain_id, model):
    assert model.request["PrimaryContainer"] == {
        "Image": IMAGE,
        "ModelDataUrl": model_uri(domain_id),
    }
    assert hosted_models.describe_model(alice, domain_id, "m") == model


MODEL_CASES = {
    "no image": (
        {"PrimaryContainer": {"ModelDataUrl": "{url}"}},
        "PrimaryContainer.Image",
        "is required",
    ),
    "an unknown image": (
        {"PrimaryContainer": {"Image": "team/nosuch:1"}},
        "PrimaryContainer.Image",
        "is not a registered image",
    ),
    "an archive that is not there": (
        {"PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "{url}.missing"}},
        "PrimaryContainer.ModelDataUrl",
        "there is no object",
    ),
    "a file on the host": (
        {"PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "file:///etc/passwd"}},
        "PrimaryContainer.ModelDataUrl",
        "file:// URIs",
    ),
    "a URL that is not S3": (
        {"PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "https://example.com/m.tar.gz"}},
        "PrimaryContainer.ModelDataUrl",
        "must be an s3://bucket/key URI",
    ),
    "both PrimaryContainer and Containers": (
        {"Containers": [{"Image": IMAGE}]},
        "PrimaryContainer",
        "exactly one of PrimaryContainer or Containers",
    ),
    "neither PrimaryContainer nor Containers": (
        {"PrimaryContainer": None},
        "PrimaryContainer",
        "exactly one of PrimaryContainer or Containers",
    ),
    "two containers": (
        {"PrimaryContainer": None, "Containers": [{"Image": IMAGE}, {"Image": IMAGE}]},
        "Containers",
        "inference pipelines",
    ),
    "a null container in a list": (
        {"PrimaryContainer": None, "Containers": [None]},
        "Containers[0]",
        "Member must be an object",
    ),
    "a null image": (
        {"PrimaryContainer": {"Image": None}},
        "PrimaryContainer.Image",
        "is required",
    ),
    "a null environment value": (
        {"PrimaryContainer": {"Image": IMAGE, "Environment": {"A": None}}},
        "PrimaryContainer.Environment.A",
        "Member must be a string",
    ),
    "a null name": ({"ModelName": None}, "ModelName", "Member must not be null"),
    "a name with a slash": ({"ModelName": "a/b"}, "ModelName", "regular expression"),
    "a multi-model container": (
        {"PrimaryContainer": {"Image": IMAGE, "Mode": "MultiModel"}},
        "PrimaryContainer.Mode",
        "only SingleModel",
    ),
}


@pytest.mark.parametrize("case", MODEL_CASES, ids=list(MODEL_CASES))
def test_a_bad_model_request_names_the_field_and_creates_nothing(alice, domain_id, case):
    overrides, field, rule = MODEL_CASES[case]
    url = stored_model(domain_id)
    overrides = {
        key: (
            {k: v.format(url=url) if isinstance(v, str) else v for k, v in value.items()}
            if isinstance(value, dict)
            else value
        )
        for key, value in overrides.items()
    }
    request = model_request("bad", url, **overrides)
    error = refused(
        lambda: hosted_models.create_model(alice, domain_id, request), ValidationException, rule
    )
    assert error.field == field
    assert field.rsplit(".", 1)[-1] in error.message
    assert not Model.objects.exists()


def test_a_model_archive_in_another_domains_bucket_is_refused(
    alice, domain_id, make_domain, make_profile, carol
):
    other = make_domain("elsewhere")
    make_profile(other, carol, "carol")
    theirs = stored_model(other.domain_id)
    for url in (theirs, theirs + ".missing", "s3://studio/platform/model.tar.gz"):
        error = refused(
            lambda url=url: hosted_models.create_model(
                alice, domain_id, model_request("stolen", url)
            ),
            AccessDenied,
            "PrimaryContainer.ModelDataUrl",
            "belongs to another domain or to the platform",
        )
        # The same words whether or not something is stored there.
        assert "no object" not in error.message
    assert not Model.objects.exists()


def test_a_duplicate_model_name_is_in_use(alice, domain_id, model):
    refused(
        lambda: hosted_models.create_model(alice, domain_id, model_request("m", None)),
        ResourceInUse,
        "Cannot create already existing model",
        model.arn,
    )
    assert Model.objects.count() == 1


def test_a_missing_model_is_not_found_in_sagemakers_words(alice, alice_profile, domain_id):
    arn = Model(name="none", domain=alice_profile.domain).arn
    refused(
        lambda: hosted_models.describe_model(alice, domain_id, "none"),
        ValidationException,
        f'Could not find model "{arn}".',
    )


# CreateEndpointConfig


def _variants(count: int) -> list[dict[str, Any]]:
    return [variant("m", f"v{i}") for i in range(count)]


CONFIG_CASES = {
    "no variants": ({"ProductionVariants": []}, "ProductionVariants", "greater than or equal to 1"),
    "eleven variants": (
        {"ProductionVariants": _variants(11)},
        "ProductionVariants",
        "less than or equal to 10",
    ),
    "a variant name twice": (
        {"ProductionVariants": [variant("m", "a"), variant("m", "a")]},
        "ProductionVariants[1].VariantName",
        "appears twice",
    ),
    "an unknown model": (
        {"ProductionVariants": [variant("nosuch")]},
        "ProductionVariants[0].ModelName",
        "could not find model 'nosuch'",
    ),
    "a variant without a model": (
        {"ProductionVariants": [{**variant("m"), "ModelName": None}]},
        "ProductionVariants[0].ModelName",
        "is required",
    ),
    "serverless memory of 1500 MB": (
        {
            "ProductionVariants": [
                {
                    "VariantName": "s",
                    "ModelName": "m",
                    "ServerlessConfig": {"MemorySizeInMB": 1500, "MaxConcurrency": 2},
                }
            ]
        },
        "ProductionVariants[0].ServerlessConfig.MemorySizeInMB",
        "must be 1024, 2048",
    ),
    "serverless and instances both": (
        {
            "ProductionVariants": [
                variant("m", ServerlessConfig={"MemorySizeInMB": 1024, "MaxConcurrency": 2})
            ]
        },
        "ProductionVariants[0].ServerlessConfig",
        "not both",
    ),
    "an instance type not offered here": (
        {"ProductionVariants": [variant("m", InstanceType="ml.m5.24xlarge")]},
        "ProductionVariants[0].InstanceType",
        "is not offered here",
    ),
    "an instance type SageMaker does not have": (
        {"ProductionVariants": [variant("m", InstanceType="ml.nope")]},
        "ProductionVariants[0].InstanceType",
        "enum value set",
    ),
    "no instance type nor serverless": (
        {"ProductionVariants": [{"VariantName": "v", "ModelName": "m"}]},
        "ProductionVariants[0].InstanceType",
        "needs InstanceType and InitialInstanceCount",
    ),
    "too many instances": (
        {"ProductionVariants": [variant("m", InitialInstanceCount=17)]},
        "ProductionVariants[0].InstanceCount",
        "between 1 and 16",
    ),
    "managed scaling with min above max": (
        {
            "ProductionVariants": [
                variant(
                    "m",
                    ManagedInstanceScaling={
                        "Status": "ENABLED",
                        "MinInstanceCount": 3,
                        "MaxInstanceCount": 2,
                    },
                )
            ]
        },
        "ProductionVariants[0].ManagedInstanceScaling",
        "MinInstanceCount ≤ MaxInstanceCount",
    ),
    "managed scaling without bounds": (
        {"ProductionVariants": [variant("m", ManagedInstanceScaling={"Status": "ENABLED"})]},
        "ProductionVariants[0].ManagedInstanceScaling",
        "needs MinInstanceCount and MaxInstanceCount",
    ),
    "an initial count outside managed scaling": (
        {
            "ProductionVariants": [
                variant(
                    "m",
                    InitialInstanceCount=4,
                    ManagedInstanceScaling={"MinInstanceCount": 1, "MaxInstanceCount": 2},
                )
            ]
        },
        "ProductionVariants[0].ManagedInstanceScaling.InitialInstanceCount",
        "must lie between MinInstanceCount 1 and MaxInstanceCount 2",
    ),
    "every weight 0": (
        {
            "ProductionVariants": [
                variant("m", "a", InitialVariantWeight=0),
                variant("m", "b", InitialVariantWeight=0),
            ]
        },
        "ProductionVariants",
        "at least one InitialVariantWeight must be above 0",
    ),
    "a negative weight": (
        {"ProductionVariants": [variant("m", InitialVariantWeight=-1)]},
        "ProductionVariants[0].InitialVariantWeight",
        "greater than or equal to 0",
    ),
    "a null variant": (
        {"ProductionVariants": [None]},
        "ProductionVariants[0]",
        "Member must be an object",
    ),
    "a null variant name": (
        {"ProductionVariants": [variant("m", VariantName=None)]},
        "ProductionVariants[0].VariantName",
        "Member must not be null",
    ),
    "a null instance count": (
        {"ProductionVariants": [variant("m", InitialInstanceCount=None)]},
        "ProductionVariants[0].InitialInstanceCount",
        "needs InstanceType and InitialInstanceCount",
    ),
    "data capture to a host path": (
        {
            "DataCaptureConfig": {
                "InitialSamplingPercentage": 10,
                "DestinationS3Uri": "file:///tmp/capture",
                "CaptureOptions": [{"CaptureMode": "Input"}],
            }
        },
        "DataCaptureConfig.DestinationS3Uri",
        "Member must satisfy regular expression pattern",
    ),
    "an unsupported option": (
        {"AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://bucket/out"}}},
        "AsyncInferenceConfig",
        "is not supported here",
    ),
}


@pytest.mark.parametrize("case", CONFIG_CASES, ids=list(CONFIG_CASES))
def test_a_bad_endpoint_config_names_the_field_and_creates_nothing(alice, domain_id, model, case):
    overrides, field, rule = CONFIG_CASES[case]
    request = config_request("bad", variant("m"), **copy.deepcopy(overrides))
    error = refused(
        lambda: endpoint_configs.create_endpoint_config(alice, domain_id, request),
        ValidationException,
        rule,
    )
    assert error.field == field, error.message
    assert not EndpointConfig.objects.exists()


def test_a_config_is_created_with_default_weights(alice, domain_id, model):
    config = endpoint_configs.create_endpoint_config(
        alice, domain_id, config_request("c", variant("m", "a"), variant("m", "b"))
    )
    assert [v["InitialVariantWeight"] for v in config.variants] == [1.0, 1.0]


def test_a_null_weight_is_sagemakers_default_weight(alice, domain_id, model):
    """JSON null is a member left out, as SageMaker reads it: weight 1.0, not a crash."""
    config = endpoint_configs.create_endpoint_config(
        alice, domain_id, config_request("c", variant("m", InitialVariantWeight=None))
    )
    assert config.variants[0]["InitialVariantWeight"] == 1.0


def test_a_duplicate_config_name_is_in_use(alice, domain_id, model):
    endpoint_configs.create_endpoint_config(alice, domain_id, config_request("c", variant("m")))
    refused(
        lambda: endpoint_configs.create_endpoint_config(
            alice, domain_id, config_request("c", variant("m"))
        ),
        ResourceInUse,
        "Cannot create already existing endpoint configuration",
    )
    assert EndpointConfig.objects.count() == 1


# CreateEndpoint, UpdateEndpoint, UpdateEndpointWeightsAndCapacities


@pytest.fixture
def config(alice, domain_id, model) -> EndpointConfig:
    scaling = {"Status": "ENABLED", "MinInstanceCount": 1, "MaxInstanceCount": 3}
    return endpoint_configs.create_endpoint_config(
        alice,
        domain_id,
        config_request(
            "c",
            variant("m", "a", ManagedInstanceScaling=scaling),
            variant("m", "b", InstanceType="ml.c5.large"),
        ),
    )


def test_an_endpoint_starts_creating_with_the_configs_weights_and_counts(alice, domain_id, config):
    endpoint = endpoints.create_endpoint(
        alice, domain_id, {"EndpointName": "e", "EndpointConfigName": "c"}
    )
    assert endpoint.status == EndpointStatus.CREATING
    assert endpoint.desired == {"a": {"weight": 1.0, "count": 1}, "b": {"weight": 1.0, "count": 1}}
    assert (endpoint.generation, endpoint.latest_generation) == (0, 1)


def test_a_duplicate_endpoint_name_is_in_use(alice, domain_id, config):
    endpoints.create_endpoint(alice, domain_id, {"EndpointName": "e", "EndpointConfigName": "c"})
    refused(
        lambda: endpoints.create_endpoint(
            alice, domain_id, {"EndpointName": "e", "EndpointConfigName": "c"}
        ),
        ResourceInUse,
        "Cannot create already existing endpoint",
    )
    assert Endpoint.objects.count() == 1


def test_an_endpoint_of_an_unknown_config_is_not_created(alice, domain_id):
    refused(
        lambda: endpoints.create_endpoint(
            alice, domain_id, {"EndpointName": "e", "EndpointConfigName": "nosuch"}
        ),
        ValidationException,
        "Could not find endpoint configuration",
    )
    assert not Endpoint.objects.exists()


def test_an_endpoint_past_the_instance_quota_is_refused(root, alice, domain_id, model):
    create_policy(
        root,
        domain_id,
        name="OneLarge",
        allow=["sagemaker:*"],
        max_instances_per_type={"ml.m5.large": 1},
    )
    update_user_profile(root, domain_id, "alice", policies=["OneLarge"])
    # Two variants of one instance type count together.
    endpoint_configs.create_endpoint_config(
        alice, domain_id, config_request("two", variant("m", "a"), variant("m", "b"))
    )
    refused(
        lambda: endpoints.create_endpoint(
            alice, domain_id, {"EndpointName": "e", "EndpointConfigName": "two"}
        ),
        ResourceLimitExceeded,
        "'OneLarge' allows at most 1 ml.m5.large",
        "2 more were requested",
    )
    assert not Endpoint.objects.exists()


def test_an_update_is_refused_until_the_endpoint_is_in_service(alice, domain_id, config):
    in_service(alice, domain_id, "e", "c", EndpointStatus.CREATING)
    refused(
        lambda: endpoints.update_endpoint(
            alice, domain_id, {"EndpointName": "e", "EndpointConfigName": "c"}
        ),
        ValidationException,
        "is Creating",
        "InService or Failed",
    )
    endpoint = Endpoint.objects.get()
    assert (endpoint.status, endpoint.latest_generation) == ("Creating", 1)
    assert endpoint.pending_config is None
    refused(
        lambda: endpoints.update_endpoint_weights_and_capacities(
            alice, domain_id, "e", [{"VariantName": "a", "DesiredWeight": 2.0}]
        ),
        ValidationException,
        "is Creating",
        "when it is InService",
    )


def test_an_update_records_the_pending_config_and_a_new_generation(alice, domain_id, config):
    in_service(alice, domain_id, "e", "c")
    endpoint = endpoints.update_endpoint(
        alice, domain_id, {"EndpointName": "e", "EndpointConfigName": "c"}
    )
    assert (endpoint.status, endpoint.latest_generation, endpoint.generation) == (
        "Updating",
        2,
        1,
    )
    assert endpoint.pending_config_name == "c"


WEIGHT_CASES = {
    "an unknown variant": (
        [{"VariantName": "z", "DesiredWeight": 1.0}],
        "DesiredWeightsAndCapacities[0].VariantName",
        "has no variant 'z'",
    ),
    "a count above managed scaling's maximum": (
        [{"VariantName": "a", "DesiredInstanceCount": 4}],
        "DesiredWeightsAndCapacities[0].DesiredInstanceCount",
        "must lie between 1 and 3, not 4",
    ),
    "a count of 0 without scaling to zero": (
        [{"VariantName": "b", "DesiredInstanceCount": 0}],
        "DesiredWeightsAndCapacities[0].DesiredInstanceCount",
        "must lie between 1 and 16, not 0",
    ),
    "every weight 0": (
        [
            {"VariantName": "a", "DesiredWeight": 0.0},
            {"VariantName": "b", "DesiredWeight": 0.0},
        ],
        "DesiredWeightsAndCapacities",
        "at least one variant must keep a weight above 0",
    ),
    "no change at all": ([], "DesiredWeightsAndCapacities", "greater than or equal to 1"),
    "a null variant name": (
        [{"VariantName": None, "DesiredWeight": 1.0}],
        "DesiredWeightsAndCapacities[0].VariantName",
        "Member must not be null",
    ),
}


@pytest.mark.parametrize("case", WEIGHT_CASES, ids=list(WEIGHT_CASES))
def test_bad_weights_and_capacities_name_the_field_and_change_nothing(
    alice, domain_id, config, case
):
    changes, field, rule = WEIGHT_CASES[case]
    before = in_service(alice, domain_id, "e", "c")
    error = refused(
        lambda: endpoints.update_endpoint_weights_and_capacities(alice, domain_id, "e", changes),
        ValidationException,
        rule,
    )
    assert error.field == field, error.message
    after = Endpoint.objects.get()
    assert (after.status, after.desired) == ("InService", before.desired)


def test_null_weights_and_capacities_change_nothing_but_what_is_given(alice, domain_id, config):
    in_service(alice, domain_id, "e", "c")
    endpoint = endpoints.update_endpoint_weights_and_capacities(
        alice,
        domain_id,
        "e",
        [{"VariantName": "a", "DesiredWeight": None, "DesiredInstanceCount": 2}],
    )
    assert endpoint.desired["a"] == {"weight": 1.0, "count": 2}


def test_null_tags_are_no_tags(alice, domain_id, config):
    endpoint = endpoints.create_endpoint(
        alice, domain_id, {"EndpointName": "e", "EndpointConfigName": "c", "Tags": None}
    )
    endpoint.refresh_from_db()
    assert endpoint.tags == []


def test_weights_and_capacities_change_what_is_desired(alice, domain_id, config):
    in_service(alice, domain_id, "e", "c")
    endpoint = endpoints.update_endpoint_weights_and_capacities(
        alice,
        domain_id,
        "e",
        [{"VariantName": "a", "DesiredWeight": 3.0, "DesiredInstanceCount": 3}],
    )
    assert endpoint.status == "Updating"
    assert endpoint.desired == {"a": {"weight": 3.0, "count": 3}, "b": {"weight": 1.0, "count": 1}}


def _one_large(root, domain_id) -> None:
    create_policy(
        root,
        domain_id,
        name="OneLarge",
        allow=["sagemaker:*"],
        max_instances_per_type={"ml.m5.large": 1},
    )
    update_user_profile(root, domain_id, "alice", policies=["OneLarge"])


def test_endpoints_still_creating_hold_their_instances_against_the_quota(
    root, alice, domain_id, model
):
    _one_large(root, domain_id)
    endpoint_configs.create_endpoint_config(alice, domain_id, config_request("one", variant("m")))
    # No worker runs here: the first endpoint stays Creating, with no instance yet.
    endpoints.create_endpoint(alice, domain_id, {"EndpointName": "e1", "EndpointConfigName": "one"})
    refused(
        lambda: endpoints.create_endpoint(
            alice, domain_id, {"EndpointName": "e2", "EndpointConfigName": "one"}
        ),
        ResourceLimitExceeded,
        "'OneLarge' allows at most 1 ml.m5.large",
    )
    assert list(Endpoint.objects.values_list("name", flat=True)) == ["e1"]


def test_a_failed_endpoint_holds_no_instances(root, alice, domain_id, model):
    _one_large(root, domain_id)
    endpoint_configs.create_endpoint_config(alice, domain_id, config_request("one", variant("m")))
    endpoints.create_endpoint(alice, domain_id, {"EndpointName": "e1", "EndpointConfigName": "one"})
    Endpoint.objects.filter(name="e1").update(status=EndpointStatus.FAILED)
    endpoints.create_endpoint(alice, domain_id, {"EndpointName": "e2", "EndpointConfigName": "one"})
    assert Endpoint.objects.count() == 2


def test_a_scaling_policy_claims_its_maximum_against_the_quota(root, alice, domain_id, model):
    _one_large(root, domain_id)
    endpoint_configs.create_endpoint_config(alice, domain_id, config_request("one", variant("m")))
    endpoints.create_endpoint(alice, domain_id, {"EndpointName": "e1", "EndpointConfigName": "one"})
    Endpoint.objects.filter(name="e1").update(status=EndpointStatus.IN_SERVICE)
    refused(
        lambda: endpoints.put_scaling_policy(
            alice,
            domain_id,
            "e1",
            "AllTraffic",
            min_count=1,
            max_count=3,
            target_per_instance_per_minute=100,
        ),
        ResourceLimitExceeded,
        "ml.m5.large",
    )
    assert "autoscaling" not in Endpoint.objects.get(name="e1").desired["AllTraffic"]
