"""DeleteDomain: profiles first; RetentionPolicy Retain keeps the home volume, Delete removes it."""

import pytest

from domains.models import Domain, Policy, UserProfile
from domains.services import delete_domain, delete_user_profile
from studio.core.errors import AccessDenied, ResourceInUse, ValidationException
from tests.conftest import gone

pytestmark = pytest.mark.usefixtures("live")


def _delete_profiles(root, domain, names):
    for name in names:
        profile = delete_user_profile(root, domain.domain_id, name)
        gone(UserProfile, profile.pk)


def test_delete_with_retain_keeps_home_directories(root, domain, alice_profile, bob_profile):
    homes = [alice_profile.home_directory, bob_profile.home_directory]
    (homes[0] / "work.py").write_text("print('kept')")
    _delete_profiles(root, domain, ["alice", "bob"])
    assert delete_domain(root, domain.domain_id, retention="Retain").status == "Deleting"
    gone(Domain, domain.pk)
    assert all(h.is_dir() for h in homes)
    assert (homes[0] / "work.py").read_text() == "print('kept')"
    assert not Policy.objects.filter(domain_id=domain.pk).exists()


def test_delete_with_delete_removes_the_home_volume(root, domain, alice_profile, bob_profile):
    volume = domain.home_volume
    assert alice_profile.home_directory.is_dir()
    _delete_profiles(root, domain, ["alice", "bob"])
    delete_domain(root, domain.domain_id, retention="Delete")
    gone(Domain, domain.pk)
    assert not volume.exists() and not volume.parent.exists()


def test_delete_removes_only_its_own_volume(root, domain, make_domain, alice_profile):
    other = make_domain("other")
    _delete_profiles(root, domain, ["alice"])
    delete_domain(root, domain.domain_id, retention="Delete")
    gone(Domain, domain.pk)
    assert other.home_volume.is_dir()


def test_a_domain_with_live_profiles_is_in_use(root, domain, alice_profile):
    with pytest.raises(ResourceInUse, match="still has 1 user profile"):
        delete_domain(root, domain.domain_id)
    domain.refresh_from_db()
    assert domain.status == "InService"


def test_a_bad_retention_policy_changes_nothing(root, domain):
    with pytest.raises(ValidationException, match="Retain or Delete"):
        delete_domain(root, domain.domain_id, retention="Archive")
    domain.refresh_from_db()
    assert domain.status == "InService"


def test_members_cannot_delete_their_domain(alice, domain, alice_profile):
    with pytest.raises(AccessDenied):
        delete_domain(alice, domain.domain_id)
    assert Domain.objects.filter(pk=domain.pk, status="InService").exists()
