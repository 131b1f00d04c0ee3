"""Keys act only as their profile: a key of a profile whose user is a superuser (or staff) is
held to that profile's suspension, policies and domain, as any member's key is. Through boto3
against the live server, as the key's holder would call."""

import pytest
from botocore.exceptions import ClientError

from domains.services import (
    create_access_key,
    create_policy,
    suspend_user_profile,
    update_user_profile,
)
from tests.attacks.quota_helpers import boto_request as request
from tests.integration.api import sagemaker


@pytest.fixture
def root_key(asgi_server, domain, root, make_profile):
    """A profile in "research" for the superuser, and a boto3 client signed with its key."""
    profile = make_profile(domain, root, "ops")
    key, secret = create_access_key(root, domain.domain_id, profile.name)
    return profile, sagemaker(asgi_server, key.access_key_id, secret)


def refusal(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


@pytest.mark.usefixtures("instance_types")
def test_a_superuser_backed_profiles_key_is_refused_once_the_profile_is_suspended(
    root_key, domain, bob, make_profile, canaries, data
):
    profile, api = root_key
    admin = make_profile(domain, bob, role="Admin")
    suspend_user_profile(bob, domain.domain_id, profile.name)
    assert admin.is_admin

    listed = refusal(lambda: api.list_training_jobs())
    created = refusal(lambda: api.create_training_job(**request("as-root-while-suspended")))

    for answer in (listed, created):
        assert answer["Error"]["Code"] == "AccessDeniedException"
        assert "suspended" in answer["Error"]["Message"]
    canaries.assert_absent(listed, created)
    from jobs.models import TrainingJob

    assert not TrainingJob.objects.filter(name="as-root-while-suspended").exists()


@pytest.mark.usefixtures("instance_types")
def test_a_superuser_backed_profiles_key_under_a_deny_policy_is_denied(
    root_key, domain, root, canaries, data
):
    profile, api = root_key
    create_policy(
        root,
        domain.domain_id,
        name="NoTraining",
        allow=["sagemaker:*"],
        deny=["sagemaker:CreateTrainingJob", "sagemaker:ListTrainingJobs"],
    )
    update_user_profile(root, domain.domain_id, profile.name, policies=["NoTraining"])

    listed = refusal(lambda: api.list_training_jobs())
    created = refusal(lambda: api.create_training_job(**request("as-root-denied")))

    for answer in (listed, created):
        assert answer["Error"]["Code"] == "AccessDeniedException"
        assert "explicitly denies" in answer["Error"]["Message"]
    canaries.assert_absent(listed, created)


def test_a_superuser_backed_key_sees_only_its_own_domain(root_key, domain, canaries):
    _, api = root_key
    from domains.models import Domain

    elsewhere = Domain.objects.get(name="elsewhere")  # made by canaries, carol's

    domains = api.list_domains()["Domains"]
    profiles = refusal(lambda: api.list_user_profiles(DomainIdEquals=elsewhere.domain_id))
    described = refusal(lambda: api.describe_domain(DomainId=elsewhere.domain_id))

    assert [d["DomainId"] for d in domains] == [domain.domain_id]
    assert profiles["Error"]["Code"] == described["Error"]["Code"] == "ResourceNotFound"
    canaries.assert_absent(domains, profiles, described)
