"""Attacks on the model registry by a member holding her own key (alice, of `research`):

- another domain's groups and versions are unknown to her, by name and by ARN, exactly as
  names nobody uses (no existence leak), and she can neither approve, delete, add to nor
  deploy them;
- a version cannot name another domain's objects or the host's files, and shows no canary;
- she cannot approve, reject or delete a colleague's version (members change only their own
  resources, domains/permissions.py): a domain admin can; and a policy that denies
  sagemaker:UpdateModelPackage stops her approving even her own.
"""

import pytest
from botocore.exceptions import ClientError

from domains.services import create_policy, update_user_profile
from jobs.models import ModelPackage, ModelPackageGroup
from jobs.services import hosted_models, registry
from studio.core import storage
from studio.core.errors import AccessDenied, ValidationException
from tests.attacks.refusals import refused
from tests.integration.conftest import put

IMAGE = "studio/sklearn:latest"
DENIED, INVALID = "AccessDeniedException", "ValidationException"


def version_request(group: str, url: str, **overrides) -> dict:
    return {
        "ModelPackageGroupName": group,
        "InferenceSpecification": {"Containers": [{"Image": IMAGE, "ModelDataUrl": url}]},
        **overrides,
    }


def own_model(domain_id: str) -> str:
    return put(f"s3://{storage.domain_bucket(domain_id)}/models/m/model.tar.gz", b"a model")


def error_of(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


@pytest.fixture
def elsewhere(canaries, carol):
    """carol's domain (the canaries' `elsewhere`) with a group `churn` and its version 1,
    Approved: everything an attacker would want to deploy or spoil."""
    profile = carol.studio_profiles.get()
    domain_id = profile.domain.domain_id
    url = own_model(domain_id)
    group = registry.create_model_package_group(
        carol, domain_id, {"ModelPackageGroupName": "churn"}
    )
    package = registry.create_model_package(
        carol, domain_id, version_request("churn", url, ModelApprovalStatus="Approved")
    )
    return group, package


@pytest.fixture
def colleague(domain, bob, make_profile):
    return make_profile(domain, bob)


@pytest.fixture
def admin(domain, django_user_model, make_profile):
    dana = django_user_model.objects.create_user("dana", "dana@example.com", "dana-pass-1")
    return make_profile(domain, dana, role="Admin")


def test_another_domains_registry_is_unknown_by_name_and_by_arn(member, canaries, elsewhere):
    group, package = elsewhere
    api = member.api
    never = group.arn.replace("/churn", "/nobody-has-this")

    # By name: the same answer as for a name nobody uses, but for the name.
    taken = error_of(lambda: api.describe_model_package_group(ModelPackageGroupName="churn"))
    free = error_of(lambda: api.describe_model_package_group(ModelPackageGroupName="nosuch"))
    assert (taken["Code"], free["Code"]) == (INVALID, INVALID)
    assert taken["Message"].replace("churn", "nosuch") == free["Message"]
    # By ARN: the same answer as for an ARN of that account that names nothing.
    by_arn = error_of(lambda: api.describe_model_package_group(ModelPackageGroupName=group.arn))
    unknown = error_of(lambda: api.describe_model_package_group(ModelPackageGroupName=never))
    assert by_arn["Message"].replace("churn", "nobody-has-this") == unknown["Message"]
    for reference in (package.arn, "churn/1"):
        error = error_of(lambda r=reference: api.describe_model_package(ModelPackageName=r))
        assert (error["Code"], "does not exist" in error["Message"]) == (INVALID, True), error
    assert api.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    assert api.list_model_packages(ModelPackageType="Both")["ModelPackageSummaryList"] == []
    assert api.list_model_packages(ModelPackageGroupName=group.arn)["ModelPackageSummaryList"] == []

    # Nor can she change, delete, add to or deploy them: each "does not exist", not a denial.
    attempts = [
        lambda: api.update_model_package(
            ModelPackageArn=package.arn, ModelApprovalStatus="Rejected"
        ),
        lambda: api.delete_model_package(ModelPackageName=package.arn),
        lambda: api.delete_model_package_group(ModelPackageGroupName=group.arn),
        lambda: api.create_model_package(**version_request(group.arn, own_model(member.domain_id))),
    ]
    for attempt in attempts:
        error = error_of(attempt)
        assert (error["Code"], "does not exist" in error["Message"]) == (INVALID, True), error
        canaries.assert_absent(error)
    with pytest.raises(ValidationException) as caught:
        hosted_models.create_model(
            member.user,
            member.domain_id,
            {"ModelName": "stolen", "Containers": [{"ModelPackageName": package.arn}]},
        )
    assert "does not exist" in caught.value.message
    package.refresh_from_db()
    assert package.approval_status == "Approved"
    assert ModelPackageGroup.objects.get(pk=group.pk).latest_version == 1
    # Names are the domain's own: hers is a group of her own, numbered from 1.
    api.create_model_package_group(ModelPackageGroupName="churn")
    mine = api.create_model_package(**version_request("churn", own_model(member.domain_id)))
    assert mine["ModelPackageArn"].endswith(
        f":{member.profile.domain.account_id}:model-package/churn/1"
    )


@pytest.mark.parametrize(
    ("place", "field"),
    [
        ("ModelDataUrl", "InferenceSpecification.Containers[0].ModelDataUrl"),
        ("Statistics", "ModelMetrics.ModelQuality.Statistics.S3Uri"),
        ("SamplePayloadUrl", "SamplePayloadUrl"),
    ],
)
def test_a_version_cannot_name_another_domains_objects(member, canaries, place, field):
    api = member.api
    api.create_model_package_group(ModelPackageGroupName="churn")
    theirs = canaries.other_bucket_uri
    request = version_request("churn", own_model(member.domain_id))
    if place == "ModelDataUrl":
        request["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] = theirs
    elif place == "Statistics":
        statistics = {"ContentType": "application/json", "S3Uri": theirs}
        request["ModelMetrics"] = {"ModelQuality": {"Statistics": statistics}}
    else:
        request["SamplePayloadUrl"] = theirs

    refused(member, canaries, "create_model_package", request, DENIED, field)
    assert not ModelPackage.objects.exists()


def test_a_version_cannot_name_the_hosts_files(member, canaries):
    member.api.create_model_package_group(ModelPackageGroupName="churn")
    request = version_request("churn", f"file://{canaries.host_file}")

    refused(
        member,
        canaries,
        "create_model_package",
        request,
        INVALID,
        "InferenceSpecification.Containers[0].ModelDataUrl",
    )
    assert not ModelPackage.objects.exists()


def test_a_member_cannot_approve_or_delete_a_colleagues_version(
    member, canaries, colleague, admin, bob
):
    domain_id = member.domain_id
    registry.create_model_package_group(bob, domain_id, {"ModelPackageGroupName": "churn"})
    package = registry.create_model_package(
        bob, domain_id, version_request("churn", own_model(domain_id))
    )
    api = member.api

    for status in ("Approved", "Rejected"):
        error = error_of(
            lambda s=status: api.update_model_package(
                ModelPackageArn=package.arn, ModelApprovalStatus=s
            )
        )
        assert error["Code"] == DENIED, error
        assert "belongs to another user profile" in error["Message"], error
    for attempt in (
        lambda: api.delete_model_package(ModelPackageName=package.arn),
        lambda: api.delete_model_package_group(ModelPackageGroupName="churn"),
    ):
        assert error_of(attempt)["Code"] == DENIED
    package.refresh_from_db()
    assert package.approval_status == "PendingManualApproval"
    assert package.approval_changes.count() == 1
    # Reading it and adding a version of her own to the team's group are hers to do.
    assert api.describe_model_package(ModelPackageName=package.arn)["ModelPackageVersion"] == 1
    assert api.create_model_package(**version_request("churn", own_model(domain_id)))[
        "ModelPackageArn"
    ].endswith("/churn/2")

    # A domain admin approves any version of the domain, and is recorded as the approver.
    registry.update_model_package(
        admin.user,
        domain_id,
        {"ModelPackageArn": package.arn, "ModelApprovalStatus": "Approved"},
    )
    package.refresh_from_db()
    assert package.approval_status == "Approved"
    assert package.last_modified_by["UserProfileName"] == "dana"
    assert [c.changed_by["UserProfileName"] for c in package.approval_changes.all()] == [
        "bob",
        "dana",
    ]


def test_a_policy_denying_update_model_package_stops_approving_ones_own(member, root):
    domain_id = member.domain_id
    create_policy(
        root,
        domain_id,
        name="NoApprovals",
        allow=["sagemaker:*"],
        deny=["sagemaker:UpdateModelPackage"],
    )
    update_user_profile(root, domain_id, member.profile.name, policies=["NoApprovals"])
    member.api.create_model_package_group(ModelPackageGroupName="churn")
    arn = member.api.create_model_package(**version_request("churn", own_model(domain_id)))[
        "ModelPackageArn"
    ]

    error = error_of(
        lambda: member.api.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    )

    assert error["Code"] == DENIED
    assert "sagemaker:UpdateModelPackage" in error["Message"]
    with pytest.raises(AccessDenied):
        registry.update_model_package(
            member.user, domain_id, {"ModelPackageArn": arn, "ModelApprovalStatus": "Approved"}
        )
    assert ModelPackage.objects.get().approval_status == "PendingManualApproval"
