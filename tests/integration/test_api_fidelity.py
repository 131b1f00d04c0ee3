"""SageMaker's API as botocore and AWS define it, called with the real boto3 against the live
server: request ids, unknown operations, malformed members, stable pages, every List's filters
and order, not-found answers word for word, and botocore's waiters reading them."""

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, WaiterError
from botocore.loaders import Loader
from django.utils import timezone

from domains.services import create_access_key
from jobs.models import (
    Endpoint,
    EndpointConfig,
    Model,
    ProcessingJob,
    TrainingJob,
    TransformJob,
)
from jobs.services.endpoint_configs import create_endpoint_config
from jobs.services.hosted_models import create_model
from studio.core.models import StatusTransition
from tests.integration.api import sagemaker
from tests.integration.training import request as training_request

pytestmark = pytest.mark.usefixtures("live")

IMAGE = "studio/sklearn:latest"
NOT_FOUND = "Requested resource not found."
FAST = {"Delay": 1, "MaxAttempts": 3}


@pytest.fixture
def credentials(alice, alice_profile) -> tuple[str, str]:
    made, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return made.access_key_id, secret


@pytest.fixture
def api(asgi_server, credentials):
    return sagemaker(asgi_server, *credentials)


@pytest.fixture
def raw(asgi_server, credentials):
    """POST a body as given (no botocore validation or serialization), signed with the key."""

    def post(target: str, body: bytes | dict) -> httpx.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = AWSRequest(
            method="POST",
            url=asgi_server + "/",
            data=data,
            headers={
                "X-Amz-Target": f"SageMaker.{target}",
                "Content-Type": "application/x-amz-json-1.1",
            },
        )
        SigV4Auth(Credentials(*credentials), "sagemaker", "us-east-1").add_auth(request)
        return httpx.post(asgi_server + "/", content=data, headers=dict(request.headers.items()))

    return post


def error_of(call) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def refused(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return response.json()


def training_row(profile, name: str, status: str = "Completed", **fields) -> TrainingJob:
    """A job as the worker leaves one, made here so that no container moves it while the
    test reads it."""
    return TrainingJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request={**training_request(name), "RoleArn": "arn:aws:iam::123456789012:role/studio"},
        status=status,
        secondary_status=status if status != "InProgress" else "Training",
        instance_type="ml.m5.large",
        **fields,
    )


def processing_row(profile, name: str, status: str = "Completed") -> ProcessingJob:
    return ProcessingJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request={
            "ProcessingJobName": name,
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 1,
                }
            },
            "AppSpecification": {"ImageUri": IMAGE},
            "RoleArn": "arn:aws:iam::123456789012:role/studio",
        },
        status=status,
        instance_type="ml.m5.large",
    )


def transform_row(profile, name: str, status: str = "Completed") -> TransformJob:
    return TransformJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request={
            "TransformJobName": name,
            "ModelName": "iris",
            "TransformInput": {
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://research-data/in"}
                }
            },
            "TransformOutput": {"S3OutputPath": "s3://research-output/out"},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
        status=status,
        instance_type="ml.m5.large",
    )


def spread(model, names: list[str], **fields) -> None:
    """Creation (and modification) times a minute apart, in the order of `names`."""
    start = timezone.now() - timedelta(hours=1)
    for i, name in enumerate(names):
        model.objects.filter(name=name).update(created_at=start + timedelta(minutes=i), **fields)


# The dispatcher


def test_every_answer_carries_a_request_id(api):
    answer = api.list_training_jobs()
    assert uuid.UUID(answer["ResponseMetadata"]["RequestId"])
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    with pytest.raises(ClientError) as caught:
        api.describe_training_job(TrainingJobName="nowhere")
    assert uuid.UUID(caught.value.response["ResponseMetadata"]["RequestId"])
    assert (
        caught.value.response["ResponseMetadata"]["RequestId"]
        != (answer["ResponseMetadata"]["RequestId"])
    )


def test_an_operation_studio_does_not_know_answers_as_aws_does(api, raw):
    error = refused(raw("NoSuchOperation", {}))
    assert error["__type"] == "UnknownOperationException"
    # An operation of botocore's model that Studio does not implement: the same answer.
    assert error_of(lambda: api.list_clusters())["Code"] == "UnknownOperationException"
    assert raw("NoSuchOperation", {}).headers["x-amzn-requestid"]


@pytest.mark.parametrize(
    "target,body,member",
    [
        ("ListTrainingJobs", {"NameContains": None}, "NameContains"),
        ("ListModels", {"MaxResults": None}, "MaxResults"),
        (
            "CreateModel",
            {"ModelName": "m", "PrimaryContainer": {"Image": IMAGE, "Environment": {"A": None}}},
            "PrimaryContainer.Environment.A",
        ),
        ("CreateModel", {"ModelName": "m", "Containers": [None]}, "Containers[0]"),
    ],
)
def test_json_null_is_a_validation_exception_naming_the_member(raw, target, body, member):
    error = refused(raw(target, body))
    assert error["__type"] == "ValidationException"
    assert f"'{member}'" in error["message"] and "null" in error["message"]
    assert not Model.objects.exists()


@pytest.mark.parametrize("value", ["not a date", True, [1], {"a": 1}, 1e300])
def test_a_timestamp_of_the_wrong_type_is_a_validation_exception(raw, value):
    error = refused(raw("ListTrainingJobs", {"CreationTimeAfter": value}))
    assert error["__type"] == "ValidationException"
    assert "CreationTimeAfter" in error["message"] and "timestamp" in error["message"]


def test_timestamps_as_seconds_or_iso_dates_are_accepted(raw, alice_profile):
    training_row(alice_profile, "dated")
    for value in (0, 0.5, "2000-01-01T00:00:00Z", "2000-01-01"):
        answer = raw("ListTrainingJobs", {"CreationTimeAfter": value})
        assert answer.status_code == 200, answer.text
        assert [s["TrainingJobName"] for s in answer.json()["TrainingJobSummaries"]] == ["dated"]


@pytest.mark.parametrize(
    "body,says",
    [
        (b"[1]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b'{"a":' + b"[" * 200 + b"]" * 200 + b"}", "nested"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
    ],
    ids=["list", "string", "deep", "very deep"],
)
def test_bodies_that_are_no_request_are_refused_clearly(raw, body, says):
    error = refused(raw("ListTrainingJobs", body))
    assert error["__type"] == "ValidationException" and says in error["message"]


# Pages


def test_a_paginator_walks_three_pages_unshifted_by_rows_added_between_them(
    api, alice, alice_profile
):
    domain_id = alice_profile.domain.domain_id
    names = [f"model-{i}" for i in range(6)]
    for name in names:
        create_model(alice, domain_id, {"ModelName": name, "PrimaryContainer": {"Image": IMAGE}})
    spread(Model, names)
    pages = iter(api.get_paginator("list_models").paginate(PaginationConfig={"PageSize": 2}))
    seen = [[m["ModelName"] for m in next(pages)["Models"]]]
    # Newer models come first in SageMaker's default order: with offsets as tokens, these
    # would push the rest of the walk along and repeat what was seen.
    for name in ("late-1", "late-2"):
        create_model(alice, domain_id, {"ModelName": name, "PrimaryContainer": {"Image": IMAGE}})
    seen += [[m["ModelName"] for m in page["Models"]] for page in pages]
    assert seen == [["model-5", "model-4"], ["model-3", "model-2"], ["model-1", "model-0"]]


def test_pages_resume_after_the_last_row_even_when_it_is_gone(api, alice_profile):
    names = [f"job-{i}" for i in range(5)]
    for name in names:
        training_row(alice_profile, name)
    spread(TrainingJob, names)
    first = api.list_training_jobs(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert [s["TrainingJobName"] for s in first["TrainingJobSummaries"]] == ["job-0", "job-1"]
    TrainingJob.objects.filter(name="job-1").delete()
    training_row(alice_profile, "job-00")  # sorts before the mark: not part of this walk
    rest = api.list_training_jobs(
        MaxResults=10, SortBy="Name", SortOrder="Ascending", NextToken=first["NextToken"]
    )
    assert [s["TrainingJobName"] for s in rest["TrainingJobSummaries"]] == [
        "job-2",
        "job-3",
        "job-4",
    ]
    assert "NextToken" not in rest


def test_a_token_studio_did_not_give_for_this_listing_is_refused(api, alice_profile):
    for i in range(3):
        training_row(alice_profile, f"job-{i}")
    token = api.list_training_jobs(MaxResults=1)["NextToken"]
    for bad in ("not-a-token", token[:-2] + "xx", token + "x"):
        error = error_of(lambda bad=bad: api.list_training_jobs(MaxResults=1, NextToken=bad))
        assert error["Code"] == "ValidationException" and "NextToken" in error["Message"]
    # A token of one order is no place in another.
    error = error_of(lambda: api.list_training_jobs(SortBy="Name", NextToken=token))
    assert error["Code"] == "ValidationException"
    # Nor of another List operation's.
    assert error_of(lambda: api.list_processing_jobs(NextToken=token))["Code"] == (
        "ValidationException"
    )


def test_max_results_is_bounded_as_botocore_says(raw):
    for size in (0, 101, "5"):
        error = refused(raw("ListTrainingJobs", {"MaxResults": size}))
        assert error["__type"] == "ValidationException" and "MaxResults" in error["message"]


# Every List: filters, SortBy/SortOrder and the default order


def names_of(answer: dict, key: str, member: str) -> list[str]:
    return [s[member] for s in answer[key]]


@pytest.mark.parametrize(
    "operation,key,member,make,default_descending",
    [
        ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName", training_row, False),
        (
            "list_processing_jobs",
            "ProcessingJobSummaries",
            "ProcessingJobName",
            processing_row,
            False,
        ),
        ("list_transform_jobs", "TransformJobSummaries", "TransformJobName", transform_row, True),
    ],
)
def test_job_lists_filter_and_sort_as_sagemaker(
    api, alice_profile, operation, key, member, make, default_descending
):
    made = [("b-run", "Completed"), ("a-run", "Failed"), ("c-run", "Completed"), ("d-x", "Stopped")]
    for name, status in made:
        make(alice_profile, name, status)
    model = {"training_row": TrainingJob, "processing_row": ProcessingJob}.get(
        make.__name__, TransformJob
    )
    start = timezone.now() - timedelta(days=20)
    for i, (name, _) in enumerate(made):
        model.objects.filter(name=name).update(
            created_at=start + timedelta(days=i), last_modified_at=start + timedelta(days=10 - i)
        )
    listed = getattr(api, operation)

    def names(**params) -> list[str]:
        return names_of(listed(**params), key, member)

    oldest_first = ["b-run", "a-run", "c-run", "d-x"]
    # botocore documents Ascending as the default for training and processing jobs,
    # Descending for transform jobs.
    assert names() == (oldest_first[::-1] if default_descending else oldest_first)
    assert names(SortOrder="Descending") == oldest_first[::-1]
    assert names(SortBy="Name", SortOrder="Ascending") == ["a-run", "b-run", "c-run", "d-x"]
    assert names(SortBy="Status", SortOrder="Ascending") == ["b-run", "c-run", "a-run", "d-x"]
    assert names(NameContains="-RUN", SortOrder="Ascending") == ["b-run", "a-run", "c-run"]
    assert names(StatusEquals="Completed", SortOrder="Ascending") == ["b-run", "c-run"]
    assert names(CreationTimeAfter=start + timedelta(days=2), SortOrder="Ascending") == [
        "c-run",
        "d-x",
    ]
    assert names(CreationTimeBefore=start + timedelta(days=1), SortOrder="Ascending") == ["b-run"]
    assert names(
        LastModifiedTimeAfter=start + timedelta(days=8, hours=12), SortOrder="Ascending"
    ) == ["b-run", "a-run"]
    assert names(LastModifiedTimeBefore=start + timedelta(days=7, hours=12)) == ["d-x"]
    if operation == "list_training_jobs":
        # Studio keeps no training warm pools: no job has one.
        assert names(WarmPoolStatusEquals="Available") == []


def test_hosting_lists_filter_and_sort_as_sagemaker(api, alice, alice_profile, instance_types):
    domain_id = alice_profile.domain.domain_id
    order = ["b-iris", "a-iris", "c-other"]
    for name in order:
        create_model(alice, domain_id, {"ModelName": name, "PrimaryContainer": {"Image": IMAGE}})
        create_endpoint_config(
            alice,
            domain_id,
            {
                "EndpointConfigName": name,
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": name,
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": 1,
                    }
                ],
            },
        )
    spread(Model, order)
    spread(EndpointConfig, order)
    for operation, key, member in (
        ("list_models", "Models", "ModelName"),
        ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName"),
    ):
        listed = getattr(api, operation)
        assert names_of(listed(), key, member) == ["c-other", "a-iris", "b-iris"]  # newest first
        assert names_of(listed(SortBy="Name", SortOrder="Ascending"), key, member) == [
            "a-iris",
            "b-iris",
            "c-other",
        ]
        assert names_of(listed(NameContains="IRIS"), key, member) == ["a-iris", "b-iris"]


def test_registry_lists_filter_and_sort_as_sagemaker(api):
    for name in ("churn", "fraud", "alpha"):
        api.create_model_package_group(ModelPackageGroupName=name)
        api.create_model_package(
            ModelPackageGroupName=name,
            ModelApprovalStatus="Approved" if name != "fraud" else "Rejected",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
    groups = api.list_model_package_groups()["ModelPackageGroupSummaryList"]
    # botocore documents CreationTime, Ascending as the default.
    assert [g["ModelPackageGroupName"] for g in groups] == ["churn", "fraud", "alpha"]
    by_name = api.list_model_package_groups(SortBy="Name", SortOrder="Ascending")
    assert [g["ModelPackageGroupName"] for g in by_name["ModelPackageGroupSummaryList"]] == [
        "alpha",
        "churn",
        "fraud",
    ]
    approved = api.list_model_packages(ModelPackageType="Versioned", ModelApprovalStatus="Approved")
    assert sorted(p["ModelPackageGroupName"] for p in approved["ModelPackageSummaryList"]) == [
        "alpha",
        "churn",
    ]
    in_group = api.list_model_packages(ModelPackageGroupName="fraud")
    assert [p["ModelApprovalStatus"] for p in in_group["ModelPackageSummaryList"]] == ["Rejected"]
    paged = api.get_paginator("list_model_package_groups").paginate(
        PaginationConfig={"PageSize": 1}
    )
    assert [
        g["ModelPackageGroupName"] for p in paged for g in p["ModelPackageGroupSummaryList"]
    ] == [
        "churn",
        "fraud",
        "alpha",
    ]


# Not found, exactly as AWS answers each operation


def test_missing_jobs_are_not_found_in_sagemakers_words(api):
    calls = [
        lambda: api.describe_training_job(TrainingJobName="nowhere"),
        lambda: api.stop_training_job(TrainingJobName="nowhere"),
        lambda: api.delete_training_job(TrainingJobName="nowhere"),
        lambda: api.describe_processing_job(ProcessingJobName="nowhere"),
        lambda: api.stop_processing_job(ProcessingJobName="nowhere"),
        lambda: api.delete_processing_job(ProcessingJobName="nowhere"),
        lambda: api.describe_transform_job(TransformJobName="nowhere"),
        lambda: api.stop_transform_job(TransformJobName="nowhere"),
    ]
    for call in calls:
        assert error_of(call) == {"Code": "ValidationException", "Message": NOT_FOUND}


def test_missing_hosting_resources_are_not_found_in_sagemakers_words(api, alice_profile):
    domain = alice_profile.domain
    model_arn = Model(name="nowhere", domain=domain).arn
    config_arn = EndpointConfig(name="nowhere", domain=domain).arn
    endpoint_arn = Endpoint(name="nowhere", domain=domain).arn
    expected = {
        "model": {"Code": "ValidationException", "Message": f'Could not find model "{model_arn}".'},
        "config": {
            "Code": "ValidationException",
            "Message": f'Could not find endpoint configuration "{config_arn}".',
        },
        "endpoint": {
            "Code": "ValidationException",
            "Message": f'Could not find endpoint "{endpoint_arn}".',
        },
    }
    assert error_of(lambda: api.describe_model(ModelName="nowhere")) == expected["model"]
    assert error_of(lambda: api.delete_model(ModelName="nowhere")) == expected["model"]
    for call in (
        lambda: api.describe_endpoint_config(EndpointConfigName="nowhere"),
        lambda: api.delete_endpoint_config(EndpointConfigName="nowhere"),
    ):
        assert error_of(call) == expected["config"]
    for call in (
        lambda: api.describe_endpoint(EndpointName="nowhere"),
        lambda: api.delete_endpoint(EndpointName="nowhere"),
    ):
        assert error_of(call) == expected["endpoint"]
    for call in (
        lambda: api.describe_model_package_group(ModelPackageGroupName="nowhere"),
        lambda: api.describe_model_package(ModelPackageName="nowhere/1"),
    ):
        error = error_of(call)
        assert error["Code"] == "ValidationException" and "does not exist" in error["Message"]


def test_another_domains_resources_answer_as_missing_ones(
    api, alice_profile, make_domain, make_profile, carol
):
    other = make_profile(make_domain("elsewhere"), carol, "carol")
    training_row(other, "theirs")
    processing_row(other, "theirs")
    transform_row(other, "theirs")
    for call in (
        lambda: api.describe_training_job(TrainingJobName="theirs"),
        lambda: api.delete_training_job(TrainingJobName="theirs"),
        lambda: api.describe_processing_job(ProcessingJobName="theirs"),
        lambda: api.describe_transform_job(TransformJobName="theirs"),
    ):
        assert error_of(call) == {"Code": "ValidationException", "Message": NOT_FOUND}
    assert api.list_training_jobs()["TrainingJobSummaries"] == []
    assert TrainingJob.objects.filter(name="theirs").exists()


# Waiters


def test_botocore_waiters_read_studios_answers_as_they_read_aws(api, alice_profile):
    with pytest.raises(WaiterError) as caught:
        api.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName="nowhere", WaiterConfig=FAST
        )
    assert caught.value.last_response["Error"]["Code"] == "ValidationException"
    with pytest.raises(WaiterError):
        api.get_waiter("processing_job_completed_or_stopped").wait(
            ProcessingJobName="nowhere", WaiterConfig=FAST
        )
    # A deleted endpoint is one Describe no longer finds: the waiter succeeds on it.
    api.get_waiter("endpoint_deleted").wait(EndpointName="nowhere", WaiterConfig=FAST)
    with pytest.raises(WaiterError):
        api.get_waiter("endpoint_in_service").wait(EndpointName="nowhere", WaiterConfig=FAST)
    training_row(alice_profile, "done", "Completed")
    api.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="done", WaiterConfig=FAST
    )


# Required members


def required(output: str) -> list[str]:
    model = Loader().load_service_model("sagemaker", "service-2")
    return model["shapes"][model["operations"][output]["output"]["shape"]]["required"]


def test_describe_answers_hold_every_member_botocore_requires(
    api, alice, alice_profile, instance_types
):
    job = training_row(alice_profile, "running", "InProgress")
    described = api.describe_training_job(TrainingJobName="running")
    also = ["AlgorithmSpecification", "ResourceConfig", "RoleArn"]
    for member in [*required("DescribeTrainingJob"), *also]:
        assert member in described, member
    # Before the job uploads its model: where SageMaker will put it.
    assert described["ModelArtifacts"]["S3ModelArtifacts"] == (
        f"{job.request['OutputDataConfig']['S3OutputPath']}/running/output/model.tar.gz"
    )
    processing_row(alice_profile, "prep")
    described = api.describe_processing_job(ProcessingJobName="prep")
    assert set(required("DescribeProcessingJob")) <= set(described)
    transform_row(alice_profile, "batch")
    described = api.describe_transform_job(TransformJobName="batch")
    assert set(required("DescribeTransformJob")) <= set(described)
    create_model(
        alice,
        alice_profile.domain.domain_id,
        {"ModelName": "m", "PrimaryContainer": {"Image": IMAGE}},
    )
    assert set(required("DescribeModel")) <= set(api.describe_model(ModelName="m"))
    api.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    described = api.describe_endpoint_config(EndpointConfigName="c")
    assert set(required("DescribeEndpointConfig")) <= set(described)
    api.create_model_package_group(ModelPackageGroupName="g")
    described = api.describe_model_package_group(ModelPackageGroupName="g")
    assert set(required("DescribeModelPackageGroup")) <= set(described)
    api.create_model_package(
        ModelPackageGroupName="g",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
    described = api.describe_model_package(ModelPackageName="g/1")
    assert set(required("DescribeModelPackage")) <= set(described)


def test_status_history_keyed_by_name_is_gone_with_a_deleted_job(api, alice_profile):
    training_row(alice_profile, "old", "Failed")
    job = TrainingJob.objects.get(name="old")
    StatusTransition.objects.create(
        resource_type="TrainingJob", resource_id=job.resource_id, to_status="Failed"
    )
    api.delete_training_job(TrainingJobName="old")
    assert not StatusTransition.objects.filter(resource_id=job.resource_id).exists()


# Tags on Create*


def test_create_requests_keep_their_tags_and_bad_tags_create_nothing(
    api, alice_profile, instance_types
):
    tags = [{"Key": "team", "Value": "fraud"}]
    arns = [
        api.create_model(ModelName="tagged", PrimaryContainer={"Image": IMAGE}, Tags=tags)[
            "ModelArn"
        ],
        api.create_endpoint_config(
            EndpointConfigName="tagged",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "tagged",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
            Tags=tags,
        )["EndpointConfigArn"],
        api.create_model_package_group(ModelPackageGroupName="tagged", Tags=tags)[
            "ModelPackageGroupArn"
        ],
    ]
    for arn in arns:
        assert api.list_tags(ResourceArn=arn)["Tags"] == tags
    for bad in ([{"Key": "aws:owner", "Value": "x"}], [{"Key": "a<b", "Value": "x"}], tags * 2):
        error = error_of(
            lambda bad=bad: api.create_model(
                ModelName="refused", PrimaryContainer={"Image": IMAGE}, Tags=bad
            )
        )
        assert error["Code"] == "ValidationException" and "Tags" in error["Message"]
    assert not Model.objects.filter(name="refused").exists()


def test_a_name_already_taken_is_answered_as_aws_and_the_sdk_expect(api, instance_types):
    """The SDK's Session.create_model reuses a model only on ValidationException "Cannot
    create already existing model"; its create-if-missing helper accepts that too."""
    api.create_model(ModelName="taken", PrimaryContainer={"Image": IMAGE})
    error = error_of(lambda: api.create_model(ModelName="taken", PrimaryContainer={"Image": IMAGE}))
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("Cannot create already existing model")
    variants = [
        {
            "VariantName": "AllTraffic",
            "ModelName": "taken",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
        }
    ]
    api.create_endpoint_config(EndpointConfigName="taken", ProductionVariants=variants)
    error = error_of(
        lambda: api.create_endpoint_config(EndpointConfigName="taken", ProductionVariants=variants)
    )
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("Cannot create already existing endpoint configuration")
