"""Access keys: issued per profile, the secret shown once and stored encrypted."""

import pytest

from domains.models import AccessKey
from domains.services import (
    create_access_key,
    delete_access_key,
    list_access_keys,
    update_access_key,
)
from studio.core.crypto import decrypt
from studio.core.errors import (
    AccessDenied,
    ResourceLimitExceeded,
    ResourceNotFound,
    ValidationException,
)

pytestmark = pytest.mark.usefixtures("live")


def test_a_member_issues_their_own_key_and_the_secret_is_encrypted_at_rest(alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, "alice")
    assert key.access_key_id.startswith("SKIA") and len(key.access_key_id) == 20
    assert len(secret) == 40
    stored = AccessKey.objects.get(pk=key.pk)
    assert secret not in stored.secret_ciphertext
    assert decrypt(stored.secret_ciphertext) == secret
    assert [
        k.access_key_id for k in list_access_keys(alice, alice_profile.domain.domain_id, "alice")
    ] == [key.access_key_id]


def test_at_most_two_keys_per_profile(alice, alice_profile):
    domain_id = alice_profile.domain.domain_id
    create_access_key(alice, domain_id, "alice")
    create_access_key(alice, domain_id, "alice")
    with pytest.raises(ResourceLimitExceeded, match="already has 2 access keys"):
        create_access_key(alice, domain_id, "alice")
    assert AccessKey.objects.count() == 2


def test_bob_cannot_issue_list_or_touch_alices_keys(alice, alice_profile, bob, bob_profile):
    domain_id = alice_profile.domain.domain_id
    key, _ = create_access_key(alice, domain_id, "alice")
    with pytest.raises(AccessDenied, match="belongs to another user profile"):
        create_access_key(bob, domain_id, "alice")
    with pytest.raises(AccessDenied):
        update_access_key(bob, key.access_key_id, "Inactive")
    with pytest.raises(AccessDenied):
        delete_access_key(bob, key.access_key_id)
    key.refresh_from_db()
    assert key.status == "Active"
    assert AccessKey.objects.filter(profile__user=bob).count() == 0


def test_keys_of_another_domain_do_not_exist_for_outsiders(
    alice, alice_profile, carol, make_domain, make_profile
):
    make_profile(make_domain("other"), carol)
    key, _ = create_access_key(alice, alice_profile.domain.domain_id, "alice")
    with pytest.raises(ResourceNotFound):
        delete_access_key(carol, key.access_key_id)
    assert AccessKey.objects.filter(pk=key.pk).exists()


def test_deactivate_and_delete_own_key(alice, alice_profile):
    key, _ = create_access_key(alice, alice_profile.domain.domain_id, "alice")
    assert update_access_key(alice, key.access_key_id, "Inactive").status == "Inactive"
    with pytest.raises(ValidationException, match="Active or Inactive"):
        update_access_key(alice, key.access_key_id, "Paused")
    delete_access_key(alice, key.access_key_id)
    assert not AccessKey.objects.exists()


def test_an_explicit_deny_stops_self_service(root, domain, alice, alice_profile):
    from domains.services import update_policy

    update_policy(root, domain.domain_id, "DataScientist", deny=["studio:CreateAccessKey"])
    with pytest.raises(AccessDenied, match="explicitly denies studio:CreateAccessKey"):
        create_access_key(alice, domain.domain_id, "alice")


def test_a_domain_admin_issues_keys_for_members(domain, alice, bob, make_profile):
    make_profile(domain, alice, role="Admin")
    make_profile(domain, bob)
    key, _ = create_access_key(alice, domain.domain_id, "bob")
    assert key.profile.user == bob
