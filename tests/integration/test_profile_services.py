"""CreateUserProfile, DescribeUserProfile, ListUserProfiles, UpdateUserProfile,
DeleteUserProfile, suspend and resume: success and each error."""

import stat

import pytest
from django.conf import settings

from domains.models import UserProfile
from domains.services import (
    create_policy,
    create_user_profile,
    delete_user_profile,
    describe_user_profile,
    list_user_profiles,
    resume_user_profile,
    suspend_user_profile,
    update_user_profile,
)
from studio.core.errors import AccessDenied, ResourceInUse, ResourceNotFound, ValidationException
from tests.conftest import gone, settled

pytestmark = pytest.mark.usefixtures("live")


def test_create_profile_makes_a_private_home_owned_by_its_own_uid(alice_profile, bob_profile):
    assert alice_profile.status == "InService"
    assert alice_profile.home_uid == settings.STUDIO_HOME_UID_BASE + alice_profile.pk
    assert alice_profile.home_uid != bob_profile.home_uid
    home = alice_profile.home_directory
    info = home.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == alice_profile.home_uid and info.st_gid == 100
    assert home.parent == alice_profile.domain.home_volume
    assert alice_profile.arn.endswith(f":user-profile/{alice_profile.domain.domain_id}/alice")


def test_create_profile_duplicates_are_in_use(root, domain, alice, alice_profile, bob):
    with pytest.raises(ResourceInUse, match="alice already exists"):
        create_user_profile(root, domain.domain_id, name="alice", user=bob)
    with pytest.raises(ResourceInUse, match="User alice already has a profile"):
        create_user_profile(root, domain.domain_id, name="alice2", user=alice)
    assert UserProfile.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "a_b"}, "UserProfileName"),
        ({"name": "x" * 64}, "UserProfileName"),
        ({"name": "ok", "role": "Owner"}, "Role"),
        (
            {"name": "ok", "user_settings": {"JupyterLabAppSettings": []}},
            "UserSettings.JupyterLabAppSettings",
        ),
        ({"name": "ok", "user": None}, "User"),
    ],
)
def test_create_profile_bad_input_creates_nothing(root, domain, bob, kwargs, field):
    args = {"user": bob, **kwargs}
    with pytest.raises(ValidationException) as e:
        create_user_profile(root, domain.domain_id, **args)
    assert e.value.field == field
    assert not UserProfile.objects.exists()


def test_create_profile_with_unknown_policy_or_domain(root, domain, bob):
    with pytest.raises(ResourceNotFound, match="no policy named Ghost"):
        create_user_profile(root, domain.domain_id, name="bob", user=bob, policies=["Ghost"])
    with pytest.raises(ResourceNotFound):
        create_user_profile(root, "d-aaaaaaaaaaaa", name="bob", user=bob)
    assert not UserProfile.objects.exists()


def test_members_cannot_create_profiles(alice, alice_profile, bob):
    with pytest.raises(AccessDenied, match="reserved to the domain's admins"):
        create_user_profile(alice, alice_profile.domain.domain_id, name="bob", user=bob)
    assert UserProfile.objects.count() == 1


def test_domain_admin_creates_profiles_in_their_domain(domain, alice, bob, make_profile):
    make_profile(domain, alice, role="Admin")
    profile = settled(create_user_profile(alice, domain.domain_id, name="bob", user=bob))
    assert profile.home_directory.is_dir()


def test_describe_and_list_profiles(
    alice, alice_profile, bob_profile, make_domain, make_profile, carol
):
    make_profile(make_domain("other"), carol)
    domain_id = alice_profile.domain.domain_id
    assert describe_user_profile(alice, domain_id, "bob").pk == bob_profile.pk
    assert [p.name for p in list_user_profiles(alice, domain_id)] == ["alice", "bob"]
    # Without a domain: every profile in the domains alice can see, and no others.
    assert [p.name for p in list_user_profiles(alice)] == ["alice", "bob"]
    with pytest.raises(ResourceNotFound, match="ghost does not exist"):
        describe_user_profile(alice, domain_id, "ghost")


def test_update_profile_settings_role_and_policies(root, domain, alice_profile):
    create_policy(root, domain.domain_id, name="Small", allow=["sagemaker:Describe*"])
    settings_ = {"JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.m5.large"}}}
    profile = update_user_profile(
        root, domain.domain_id, "alice", user_settings=settings_, role="Admin", policies=["Small"]
    )
    profile.refresh_from_db()
    assert profile.user_settings == settings_ and profile.role == "Admin"
    assert [p.name for p in profile.policies.all()] == ["Small"]


def test_members_cannot_update_their_own_role(alice, alice_profile):
    with pytest.raises(AccessDenied):
        update_user_profile(alice, alice_profile.domain.domain_id, "alice", role="Admin")
    alice_profile.refresh_from_db()
    assert alice_profile.role == "Member"


def test_delete_profile_removes_it_but_keeps_its_home(root, alice_profile):
    home = alice_profile.home_directory
    (home / "notebook.ipynb").write_text("{}")
    deleting = delete_user_profile(root, alice_profile.domain.domain_id, "alice")
    assert deleting.status == "Deleting"
    gone(UserProfile, alice_profile.pk)
    assert (home / "notebook.ipynb").read_text() == "{}"


def test_delete_profile_twice_conflicts(root, alice_profile):
    UserProfile.objects.filter(pk=alice_profile.pk).update(status="Deleting")
    from studio.core.errors import ConflictException

    with pytest.raises(ConflictException, match="is Deleting"):
        delete_user_profile(root, alice_profile.domain.domain_id, "alice")


def test_suspended_profile_cannot_act_and_resumes(root, domain, alice, alice_profile):
    suspend_user_profile(root, domain.domain_id, "alice")
    with pytest.raises(AccessDenied, match="suspended; ask a domain admin to resume it"):
        describe_user_profile(alice, domain.domain_id, "alice")
    with pytest.raises(AccessDenied, match="suspended"):
        create_policy(alice, domain.domain_id, name="Sneaky", allow=["*"])
    resume_user_profile(root, domain.domain_id, "alice")
    assert describe_user_profile(alice, domain.domain_id, "alice").pk == alice_profile.pk


def test_suspended_admin_loses_admin_powers(root, domain, alice, bob, make_profile):
    make_profile(domain, alice, role="Admin")
    suspend_user_profile(root, domain.domain_id, "alice")
    with pytest.raises(AccessDenied, match="suspended"):
        create_user_profile(alice, domain.domain_id, name="bob", user=bob)
    assert UserProfile.objects.count() == 1


def test_an_admin_cannot_suspend_themselves(domain, alice, make_profile):
    make_profile(domain, alice, role="Admin")
    with pytest.raises(ValidationException, match="cannot suspend your own profile"):
        suspend_user_profile(alice, domain.domain_id, "alice")


def test_members_cannot_suspend_each_other(alice, alice_profile, bob_profile):
    with pytest.raises(AccessDenied):
        suspend_user_profile(alice, alice_profile.domain.domain_id, "bob")
    bob_profile.refresh_from_db()
    assert bob_profile.suspended_at is None
