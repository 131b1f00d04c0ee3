"""The model registry, through its services and through boto3 against a live server: groups and
versions numbered per group, approvals recorded with who and when, a version registered from
a finished training job with its metrics and lineage, models made from Approved versions only,
and bad input refused as a ValidationException naming the field."""

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from domains.services import create_access_key
from jobs.models import ModelPackage, ModelPackageGroup, TrainingJob
from jobs.services import create_training_job, hosted_models, registry
from studio.core import storage
from studio.core.errors import ConflictException, StudioError, ValidationException
from tests.integration.api import error_code, sagemaker
from tests.integration.conftest import put
from tests.integration.training import DATA, OUTPUT, ended
from tests.integration.training import request as training_request

pytestmark = pytest.mark.usefixtures("live")

IMAGE = "studio/sklearn:latest"


def stored_model(domain_id: str, name: str = "model") -> str:
    """A model archive in the domain's bucket (the registry only checks that it is there)."""
    uri = f"s3://{storage.domain_bucket(domain_id)}/models/{name}/model.tar.gz"
    return put(uri, b"not unpacked by the registry")


def version_request(group: str, url: str | None, **overrides: Any) -> dict[str, Any]:
    container = {"Image": IMAGE, **({"ModelDataUrl": url} if url else {})}
    return {
        "ModelPackageGroupName": group,
        "InferenceSpecification": {
            "Containers": [container],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **overrides,
    }


def finished_job(profile, name: str = "trained", metrics: list | None = None) -> TrainingJob:
    """A Completed training job as the worker leaves one: its request, its model.tar.gz in the
    store and its final metrics (a row made here: the registry reads only these)."""
    put(f"{OUTPUT}/{name}/output/model.tar.gz", b"a model")
    spec = training_request(name)
    spec["InputDataConfig"].append(
        {
            "ChannelName": "validation",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": DATA + "-val"}},
        }
    )
    return TrainingJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request=spec,
        status="Completed",
        instance_type="ml.m5.large",
        final_metrics=metrics
        if metrics is not None
        else [{"MetricName": "validation:accuracy", "Value": 0.93, "Timestamp": "2026-11-28"}],
    )


def refused(call, error: type[StudioError], field: str | None = None, *words: str):
    """`call()` raises `error` naming `field` (the ValidationException's field, which pages
    put beside the input) and saying each of `words`."""
    with pytest.raises(error) as caught:
        call()
    if field is not None:
        assert caught.value.field == field, (caught.value.field, caught.value.message)
    for word in words:
        assert word in caught.value.message, caught.value.message
    return caught.value


@pytest.fixture
def domain_id(alice_profile) -> str:
    return alice_profile.domain.domain_id


@pytest.fixture
def bob_admin(domain, bob, make_profile):
    return make_profile(domain, bob, role="Admin")


@pytest.fixture
def alice_api(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret)


@pytest.fixture
def bob_api(asgi_server, bob, bob_admin):
    key, secret = create_access_key(bob, bob_admin.domain.domain_id, bob_admin.name)
    return sagemaker(asgi_server, key.access_key_id, secret)


# --- boto3 -------------------------------------------------------------------------------------


def test_boto3_numbers_versions_per_group_and_reads_them_back(alice_api, alice_profile, domain_id):
    url = stored_model(domain_id)
    account = alice_profile.domain.account_id
    churn = alice_api.create_model_package_group(
        ModelPackageGroupName="Churn", ModelPackageGroupDescription="who leaves"
    )["ModelPackageGroupArn"]
    assert churn.endswith(f":{account}:model-package-group/churn")
    alice_api.create_model_package_group(ModelPackageGroupName="fraud")

    arns = [
        alice_api.create_model_package(**version_request(group, url))["ModelPackageArn"]
        for group in ("Churn", "Churn", "fraud", churn)
    ]

    assert [arn.split(":")[-1] for arn in arns] == [
        "model-package/churn/1",
        "model-package/churn/2",
        "model-package/fraud/1",
        "model-package/churn/3",
    ]
    by_arn = alice_api.describe_model_package(ModelPackageName=arns[1])
    by_name = alice_api.describe_model_package(ModelPackageName="Churn/2")
    for described in (by_arn, by_name):
        assert described["ModelPackageArn"] == arns[1]
        assert (described["ModelPackageName"], described["ModelPackageGroupName"]) == (
            "Churn",
            "Churn",
        )
        assert described["ModelPackageVersion"] == 2
        assert described["ModelPackageStatus"] == "Completed"
        assert described["ModelApprovalStatus"] == "PendingManualApproval"
        container = described["InferenceSpecification"]["Containers"][0]
        assert container == {"Image": IMAGE, "ModelDataUrl": url}
        assert described["CreatedBy"]["UserProfileName"] == "alice"
        assert described["CreatedBy"]["DomainId"] == domain_id
    group = alice_api.describe_model_package_group(ModelPackageGroupName="churn")
    assert (group["ModelPackageGroupName"], group["ModelPackageGroupStatus"]) == (
        "Churn",
        "Completed",
    )
    assert group["ModelPackageGroupDescription"] == "who leaves"
    assert group["CreatedBy"]["UserProfileName"] == "alice"

    listed = alice_api.list_model_packages(ModelPackageGroupName="Churn", SortOrder="Descending")
    assert [s["ModelPackageVersion"] for s in listed["ModelPackageSummaryList"]] == [3, 2, 1]
    first = alice_api.list_model_packages(ModelPackageGroupName="Churn", MaxResults=2)
    rest = alice_api.list_model_packages(
        ModelPackageGroupName="Churn", MaxResults=2, NextToken=first["NextToken"]
    )
    pages = first["ModelPackageSummaryList"] + rest["ModelPackageSummaryList"]
    assert [s["ModelPackageVersion"] for s in pages] == [1, 2, 3]
    assert "NextToken" not in rest
    # As in SageMaker: without a group, ListModelPackages lists unversioned packages unless
    # told otherwise, and Studio keeps none.
    assert alice_api.list_model_packages()["ModelPackageSummaryList"] == []
    everything = alice_api.list_model_packages(ModelPackageType="Versioned", SortBy="Name")
    assert [
        (s["ModelPackageGroupName"], s["ModelPackageVersion"])
        for s in everything["ModelPackageSummaryList"]
    ] == [("Churn", 1), ("Churn", 2), ("Churn", 3), ("fraud", 1)]
    groups = alice_api.list_model_package_groups(SortBy="Name", SortOrder="Descending")
    assert [g["ModelPackageGroupName"] for g in groups["ModelPackageGroupSummaryList"]] == [
        "fraud",
        "Churn",
    ]


def test_boto3_approval_is_recorded_with_who_and_when(
    alice_api, bob_api, alice, alice_profile, domain_id
):
    url = stored_model(domain_id)
    alice_api.create_model_package_group(ModelPackageGroupName="churn")
    arn = alice_api.create_model_package(**version_request("churn", url))["ModelPackageArn"]
    before = alice_api.describe_model_package(ModelPackageName=arn)
    assert "LastModifiedBy" not in before

    bob_api.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="AUC 0.91 ok"
    )

    after = alice_api.describe_model_package(ModelPackageName=arn)
    assert after["ModelApprovalStatus"] == "Approved"
    assert after["ApprovalDescription"] == "AUC 0.91 ok"
    assert after["LastModifiedBy"]["UserProfileName"] == "bob"
    assert after["LastModifiedTime"] >= after["CreationTime"]
    approved = alice_api.list_model_packages(
        ModelPackageGroupName="churn", ModelApprovalStatus="Approved"
    )["ModelPackageSummaryList"]
    assert [s["ModelPackageArn"] for s in approved] == [arn]
    history = list(registry.approval_history(alice, domain_id, "churn/1"))
    assert [(h.from_status, h.to_status) for h in history] == [
        ("", "PendingManualApproval"),
        ("PendingManualApproval", "Approved"),
    ]
    assert [h.changed_by["UserProfileName"] for h in history] == ["alice", "bob"]
    assert history[1].description == "AUC 0.91 ok"
    assert history[1].at >= history[0].at


def test_boto3_deleting_a_group_is_refused_while_it_holds_versions(alice_api, domain_id):
    url = stored_model(domain_id)
    alice_api.create_model_package_group(ModelPackageGroupName="churn")
    for _ in range(2):
        alice_api.create_model_package(**version_request("churn", url))

    with pytest.raises(ClientError) as caught:
        alice_api.delete_model_package_group(ModelPackageGroupName="churn")
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    assert "holds 2 model package versions" in caught.value.response["Error"]["Message"]

    alice_api.delete_model_package(ModelPackageName="churn/2")
    # A number is never given twice, not even that of a deleted version.
    third = alice_api.create_model_package(**version_request("churn", url))["ModelPackageArn"]
    assert third.endswith("model-package/churn/3")
    assert error_code(lambda: alice_api.describe_model_package(ModelPackageName="churn/2")) == (
        "ValidationException"
    )
    for version in ("churn/1", third):
        alice_api.delete_model_package(ModelPackageName=version)
    alice_api.delete_model_package_group(ModelPackageGroupName="churn")
    with pytest.raises(ClientError) as caught:
        alice_api.describe_model_package_group(ModelPackageGroupName="churn")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "model-package-group/churn does not exist" in caught.value.response["Error"]["Message"]
    assert not ModelPackage.objects.exists() and not ModelPackageGroup.objects.exists()


def test_boto3_bad_input_is_a_validation_error_naming_the_field(alice_api, domain_id):
    alice_api.create_model_package_group(ModelPackageGroupName="churn")
    cases = [
        (
            lambda: alice_api.create_model_package_group(ModelPackageGroupName="churn"),
            "already exists",
        ),
        (
            lambda: alice_api.create_model_package(
                **version_request("churn", f"s3://studio-{domain_id}/nothing/model.tar.gz")
            ),
            "ModelDataUrl",
        ),
        (
            lambda: alice_api.create_model_package(**version_request("nosuch", None)),
            "model-package-group/nosuch does not exist",
        ),
        (
            lambda: alice_api.list_model_package_groups(NextToken="not-a-token"),
            "NextToken",
        ),
        (lambda: alice_api.describe_model_package(ModelPackageName="churn"), "<group>/<version>"),
    ]
    for call, words in cases:
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response["Error"]
        assert error["Code"] == "ValidationException", error
        assert words in error["Message"], error


def test_hostile_shapes_through_the_api_are_validation_errors_naming_the_field(
    asgi_server, alice, alice_profile, domain_id
):
    # boto3 without its own checks, to send what a hand-made client could.
    key, secret = create_access_key(alice, domain_id, alice_profile.name)
    raw = sagemaker(asgi_server, key.access_key_id, secret, parameter_validation=False)
    raw.create_model_package_group(ModelPackageGroupName="churn")
    arn = raw.create_model_package(**version_request("churn", stored_model(domain_id)))[
        "ModelPackageArn"
    ]
    cases = [
        (
            lambda: raw.create_model_package_group(ModelPackageGroupName=123),
            "ModelPackageGroupName",
        ),
        (
            lambda: raw.create_model_package(
                ModelPackageGroupName="churn",
                InferenceSpecification={"Containers": [{"Image": 5}]},
            ),
            "InferenceSpecification.Containers[0].Image",
        ),
        (
            lambda: raw.create_model_package(
                **version_request("churn", None, CustomerMetadataProperties={"k": {"v": 1}})
            ),
            "CustomerMetadataProperties.k",
        ),
        (
            lambda: raw.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=["Approved"]),
            "ModelApprovalStatus",
        ),
        (lambda: raw.describe_model_package(ModelPackageName={"a": 1}), "ModelPackageName"),
        (lambda: raw.list_model_packages(MaxResults=100_000), "MaxResults"),
    ]
    for call, field in cases:
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response["Error"]
        assert error["Code"] == "ValidationException", error
        assert field in error["Message"], error
    assert raw.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )


# --- from a training job -----------------------------------------------------------------------


def test_a_version_from_a_training_job_carries_its_metrics_and_lineage(
    alice_api, alice, alice_profile, domain_id
):
    job = finished_job(alice_profile)

    package = registry.model_package_from_training_job(
        alice,
        domain_id,
        "trained",
        "churn",
        description="from the nightly run",
        inference={"SupportedContentTypes": ["text/csv"]},
        create_group=True,
    )

    assert (package.group.name, package.version) == ("churn", 1)
    assert package.lineage == {
        "TrainingJobName": "trained",
        "TrainingJobArn": job.arn,
        "Datasets": [
            {"ChannelName": "train", "S3Uri": DATA},
            {"ChannelName": "validation", "S3Uri": DATA + "-val"},
        ],
    }
    assert [(m["MetricName"], m["Value"]) for m in package.metrics] == [
        ("validation:accuracy", 0.93)
    ]
    described = alice_api.describe_model_package(ModelPackageName=package.arn)
    assert described["MetadataProperties"] == {"GeneratedBy": job.arn}
    assert described["CustomerMetadataProperties"] == {
        "studio:lineage:TrainingJob": job.arn,
        "studio:lineage:Dataset:train": DATA,
        "studio:lineage:Dataset:validation": DATA + "-val",
    }
    assert described["ModelPackageDescription"] == "from the nightly run"
    assert described["InferenceSpecification"]["Containers"] == [
        {"Image": "studio/sklearn:latest", "ModelDataUrl": f"{OUTPUT}/trained/output/model.tar.gz"}
    ]
    statistics = described["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    with storage.artifact_store().open(statistics["S3Uri"]) as stream:
        report = json.load(stream)
    assert report["metrics"] == {"validation:accuracy": {"value": 0.93}}
    assert report["training_job"] == job.arn

    registry.delete_model_package(alice, domain_id, package.arn)
    assert storage.artifact_store().head(statistics["S3Uri"]) is None


def test_a_real_training_run_is_registered_approved_and_made_a_model(
    runtime, data, alice, domain_id
):
    job = ended(create_training_job(alice, domain_id, training_request("real-run")))
    assert job.status == "Completed", job.failure_reason

    package = registry.model_package_from_training_job(
        alice, domain_id, "real-run", "linear", create_group=True
    )
    registry.update_model_package(
        alice, domain_id, {"ModelPackageArn": package.arn, "ModelApprovalStatus": "Approved"}
    )
    model = hosted_models.create_model(
        alice,
        domain_id,
        {"ModelName": "linear", "PrimaryContainer": {"ModelPackageName": "linear/1"}},
    )

    assert package.containers[0]["ModelDataUrl"] == job.model_artifacts
    assert package.lineage["Datasets"] == [{"ChannelName": "train", "S3Uri": DATA}]
    assert package.metrics, "the built-in algorithm's metrics were not found in its log"
    assert [(m["MetricName"], m["Value"]) for m in package.metrics] == [
        (m["MetricName"], m["Value"]) for m in job.final_metrics
    ]
    assert package.request["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert model.containers[0]["Image"] == hosted_models.training_job_image(job)
    assert model.containers[0]["ModelDataUrl"] == job.model_artifacts


def test_a_job_that_did_not_complete_registers_nothing(alice, alice_profile, domain_id):
    job = finished_job(alice_profile)
    job.status = "Failed"
    job.save(update_fields=["status"])

    refused(
        lambda: registry.model_package_from_training_job(
            alice, domain_id, "trained", "churn", create_group=True
        ),
        ValidationException,
        "TrainingJobName",
        "Failed",
    )
    assert not ModelPackageGroup.objects.exists()


def test_a_retried_create_with_its_client_token_is_the_same_version(alice, domain_id):
    url = stored_model(domain_id)
    registry.create_model_package_group(alice, domain_id, {"ModelPackageGroupName": "churn"})
    request = version_request("churn", url, ClientToken="nightly-2026-11-28")

    first = registry.create_model_package(alice, domain_id, request)
    again = registry.create_model_package(alice, domain_id, request)

    assert again.pk == first.pk
    assert ModelPackage.objects.count() == 1


# --- deploying -------------------------------------------------------------------------------


def test_only_an_approved_version_becomes_a_model(alice, bob, bob_admin, domain_id):
    url = stored_model(domain_id)
    registry.create_model_package_group(alice, domain_id, {"ModelPackageGroupName": "churn"})
    package = registry.create_model_package(
        alice,
        domain_id,
        version_request("churn", url, ModelApprovalStatus="PendingManualApproval"),
    )

    def create_model(name: str):
        return hosted_models.create_model(
            alice,
            domain_id,
            {"ModelName": name, "Containers": [{"ModelPackageName": package.arn}]},
        )

    refused(
        lambda: create_model("pending"),
        ValidationException,
        "Containers[0].ModelPackageName",
        f"Model package {package.arn} is PendingManualApproval; only Approved",
    )
    registry.update_model_package(
        bob, domain_id, {"ModelPackageArn": package.arn, "ModelApprovalStatus": "Approved"}
    )
    model = create_model("approved")
    assert model.containers[0]["Image"] == IMAGE
    assert model.containers[0]["ModelDataUrl"] == url
    assert model.containers[0]["ModelPackageName"] == package.arn

    registry.update_model_package(
        bob,
        domain_id,
        {
            "ModelPackageArn": package.arn,
            "ModelApprovalStatus": "Rejected",
            "ApprovalDescription": "leaks the label",
        },
    )
    refused(lambda: create_model("rejected"), ValidationException, None, "is Rejected")
    # The image cannot be given beside the package to deploy something else under its name.
    refused(
        lambda: hosted_models.create_model(
            alice,
            domain_id,
            {
                "ModelName": "smuggled",
                "PrimaryContainer": {"ModelPackageName": "churn/1", "Image": IMAGE},
            },
        ),
        ValidationException,
        "PrimaryContainer.Image",
    )
    assert [m.name for m in hosted_models.list_models(alice, domain_id)] == ["approved"]


# --- bad input -------------------------------------------------------------------------------


def _bad_versions(domain_id: str, url: str) -> list[tuple[dict[str, Any], str, str]]:
    """(request, the field its error names, words its message says)."""
    spec = version_request("churn", url)["InferenceSpecification"]
    container = spec["Containers"][0]
    two = {**spec, "Containers": [container, container]}
    return [
        (
            {**version_request("churn", url), "ModelPackageGroupName": None},
            "ModelPackageGroupName",
            "versioned",
        ),
        (version_request("churn", url, ModelPackageName="churn"), "ModelPackageName", "Both"),
        ({"ModelPackageGroupName": "churn"}, "InferenceSpecification", "required"),
        (
            version_request("churn", url, InferenceSpecification=two),
            "InferenceSpecification.Containers",
            "one",
        ),
        (
            version_request(
                "churn", url, InferenceSpecification={"Containers": [{"ModelDataUrl": url}]}
            ),
            "InferenceSpecification.Containers[0].Image",
            "required",
        ),
        (
            version_request(
                "churn", url, InferenceSpecification={"Containers": [{"Image": "nosuch/image:1"}]}
            ),
            "InferenceSpecification.Containers[0].Image",
            "nosuch/image",
        ),
        (
            version_request(
                "churn",
                None,
                InferenceSpecification={
                    "Containers": [
                        {
                            "Image": IMAGE,
                            "ModelDataSource": {
                                "S3DataSource": {
                                    "S3Uri": url,
                                    "S3DataType": "S3Object",
                                    "CompressionType": "Gzip",
                                }
                            },
                        }
                    ]
                },
            ),
            "InferenceSpecification.Containers[0].ModelDataSource",
            "ModelDataUrl",
        ),
        (version_request("churn", url, ModelApprovalStatus="Maybe"), "ModelApprovalStatus", "enum"),
        (version_request("churn", url, Tags=[{"Key": "a", "Value": "b"}]), "Tags", "group"),
        (
            version_request(
                "churn", url, CustomerMetadataProperties={"studio:lineage:TrainingJob": "x"}
            ),
            "CustomerMetadataProperties key 'studio:lineage:TrainingJob'",
            "lineage",
        ),
        (version_request("churn", url, Domain="x" * 2000), "Domain", "1024"),
        (
            version_request("churn", url, CertifyForMarketplace=True),
            "CertifyForMarketplace",
            "versioned",
        ),
        (
            version_request("churn", url, DriftCheckBaselines={"Bias": {}}),
            "DriftCheckBaselines",
            "not supported",
        ),
        (version_request("churn", url, Unknown=1), "Unknown", "Unknown member"),
        ([], "CreateModelPackage", "object"),
    ]


def test_each_bad_version_request_is_refused_naming_its_field(alice, domain_id):
    url = stored_model(domain_id)
    registry.create_model_package_group(alice, domain_id, {"ModelPackageGroupName": "churn"})
    for request, field, words in _bad_versions(domain_id, url):
        refused(
            lambda request=request: registry.create_model_package(alice, domain_id, request),
            ValidationException,
            field,
            field.rsplit(".", 1)[-1],
            words,
        )
    assert not ModelPackage.objects.exists()
    assert ModelPackageGroup.objects.get().latest_version == 0


def test_each_bad_group_list_or_update_request_is_refused_naming_its_field(alice, domain_id):
    url = stored_model(domain_id)
    registry.create_model_package_group(alice, domain_id, {"ModelPackageGroupName": "Churn"})
    arn = registry.create_model_package(alice, domain_id, version_request("churn", url)).arn
    calls = [
        (
            lambda: registry.create_model_package_group(
                alice, domain_id, {"ModelPackageGroupName": "CHURN"}
            ),
            "ModelPackageGroupName",
            "ModelPackageGroupName",
            "already exists",
        ),
        (
            lambda: registry.create_model_package_group(
                alice, domain_id, {"ModelPackageGroupName": "bad_name!"}
            ),
            "ModelPackageGroupName",
            "ModelPackageGroupName",
            "pattern",
        ),
        (
            lambda: registry.describe_model_package_group(alice, domain_id, "../etc"),
            "ModelPackageGroupName",
            "ModelPackageGroupName",
            "pattern",
        ),
        (
            lambda: registry.update_model_package(alice, domain_id, {"ModelPackageArn": arn}),
            "ModelApprovalStatus",
            "give ModelApprovalStatus",
        ),
        (
            lambda: registry.update_model_package(
                alice,
                domain_id,
                {"ModelPackageArn": arn, "InferenceSpecification": {"Containers": [{}]}},
            ),
            "InferenceSpecification",
            "InferenceSpecification",
            "cannot be changed",
        ),
        (
            lambda: registry.update_model_package(
                alice, domain_id, {"ModelPackageArn": "churn/1", "ModelApprovalStatus": "Approved"}
            ),
            "ModelPackageArn",
            "ModelPackageArn",
            "pattern",
        ),
        (
            lambda: registry.update_model_package(
                alice,
                domain_id,
                {"ModelPackageArn": arn.replace("/1", "/9"), "ModelApprovalStatus": "Approved"},
            ),
            "ModelPackageArn",
            "does not exist",
        ),
        (
            lambda: registry.update_model_package(
                alice,
                domain_id,
                {"ModelPackageArn": arn, "CustomerMetadataPropertiesToRemove": ["studio:x"]},
            ),
            "CustomerMetadataProperties key 'studio:x'",
            "CustomerMetadataProperties key 'studio:x'",
            "lineage",
        ),
        (
            lambda: registry.list_model_packages(alice, domain_id, sort_by="Size"),
            "SortBy",
            "SortBy",
            "one of",
        ),
        (
            lambda: registry.list_model_packages(alice, domain_id, approval_status="Fine"),
            "ModelApprovalStatus",
            "ModelApprovalStatus",
            "one of",
        ),
        (
            lambda: registry.list_model_package_groups(alice, domain_id, sort_order="Up"),
            "SortOrder",
            "SortOrder",
            "one of",
        ),
    ]
    for call, field, *words in calls:
        refused(call, ValidationException, field, *words)
    package = ModelPackage.objects.get()
    assert package.approval_status == "PendingManualApproval"
    assert list(package.approval_changes.values_list("to_status", flat=True)) == [
        "PendingManualApproval"
    ]


def test_customer_metadata_is_changed_and_removed_by_update(alice, domain_id):
    url = stored_model(domain_id)
    registry.create_model_package_group(alice, domain_id, {"ModelPackageGroupName": "churn"})
    arn = registry.create_model_package(
        alice, domain_id, version_request("churn", url, CustomerMetadataProperties={"team": "a"})
    ).arn

    package = registry.update_model_package(
        alice,
        domain_id,
        {
            "ModelPackageArn": arn,
            "CustomerMetadataProperties": {"stage": "canary"},
            "CustomerMetadataPropertiesToRemove": ["team"],
        },
    )

    assert package.request["CustomerMetadataProperties"] == {"stage": "canary"}
    assert package.approval_status == "PendingManualApproval"
    assert package.last_modified_by["UserProfileName"] == "alice"


def test_a_group_with_versions_is_not_deleted_by_the_service_either(alice, domain_id):
    url = stored_model(domain_id)
    registry.create_model_package_group(alice, domain_id, {"ModelPackageGroupName": "churn"})
    registry.create_model_package(alice, domain_id, version_request("churn", url))

    refused(
        lambda: registry.delete_model_package_group(alice, domain_id, "churn"),
        ConflictException,
        None,
        "delete them before the group",
    )
    assert ModelPackageGroup.objects.filter(name="churn").exists()
