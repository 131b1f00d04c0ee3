"""One user trying to reach another's domain, profile or settings: every attempt is refused."""

import pytest

from domains.models import UserProfile
from domains.permissions import authorize
from domains.services import (
    create_user_profile,
    delete_user_profile,
    describe_domain,
    list_user_profiles,
    update_domain,
    update_user_profile,
)
from studio.core.errors import AccessDenied, ResourceNotFound

pytestmark = pytest.mark.usefixtures("live")


@pytest.fixture
def other_domain(make_domain, carol, make_profile):
    domain = make_domain("other")
    make_profile(domain, carol, role="Admin")
    return domain


def test_an_admin_of_one_domain_cannot_touch_another(
    domain, alice, make_profile, other_domain, bob
):
    make_profile(domain, alice, role="Admin")
    with pytest.raises(ResourceNotFound):
        describe_domain(alice, other_domain.domain_id)
    with pytest.raises(ResourceNotFound):
        update_domain(alice, other_domain.domain_id, app_network_access_type="VpcOnly")
    with pytest.raises(ResourceNotFound):
        create_user_profile(alice, other_domain.domain_id, name="bob", user=bob)
    with pytest.raises(ResourceNotFound):
        delete_user_profile(alice, other_domain.domain_id, "carol")
    with pytest.raises(ResourceNotFound):
        list_user_profiles(alice, other_domain.domain_id)
    assert UserProfile.objects.get(name="carol").status == "InService"


def test_a_member_cannot_change_another_members_profile(alice, alice_profile, bob_profile):
    domain_id = alice_profile.domain.domain_id
    settings_ = {
        "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.p3.2xlarge"}}
    }
    with pytest.raises(AccessDenied):
        update_user_profile(alice, domain_id, "bob", user_settings=settings_)
    with pytest.raises(AccessDenied):
        delete_user_profile(alice, domain_id, "bob")
    bob_profile.refresh_from_db()
    assert bob_profile.user_settings == {} and bob_profile.status == "InService"


def test_a_member_cannot_act_on_another_members_resources(alice, alice_profile, bob_profile):
    with pytest.raises(AccessDenied, match="belongs to another user profile"):
        authorize(
            alice, "sagemaker:StopTrainingJob", domain=alice_profile.domain, owner=bob_profile
        )
    # Reading within the shared domain is what ListTrainingJobs-style pages need.
    authorize(
        alice, "sagemaker:DescribeTrainingJob", domain=alice_profile.domain, owner=bob_profile
    )


def test_a_pending_profile_cannot_act_yet(domain, bob):
    pending = UserProfile.objects.create(domain=domain, name="bob", user=bob, status="Pending")
    with pytest.raises(AccessDenied, match="the profile is Pending, not InService"):
        authorize(bob, "sagemaker:ListApps", domain=domain)
    assert pending.status == "Pending"


def test_an_anonymous_or_inactive_user_is_refused(domain, alice, alice_profile):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(AccessDenied, match="Sign in"):
        authorize(AnonymousUser(), "sagemaker:DescribeDomain", domain=domain)
    alice.is_active = False
    alice.save()
    with pytest.raises(AccessDenied, match="Sign in"):
        describe_domain(alice, domain.domain_id)
