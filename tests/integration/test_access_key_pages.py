"""A member's own access keys in the dashboard: issued with the secret shown once, deactivated,
reactivated and deleted; the two-key limit and other people's keys refused."""

from django.urls import reverse

from domains.models import AccessKey, App, Space
from domains.notebooks import credentials
from domains.services import create_access_key
from studio.web.dashboard.keys import NEW_KEY

KEYS = reverse("dashboard:keys")


def status_url(key_id: str) -> str:
    return reverse("dashboard:key_status", args=[key_id])


def delete_url(key_id: str) -> str:
    return reverse("dashboard:key_delete", args=[key_id])


def test_keys_need_login(client, db):
    response = client.get(KEYS)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_member_issues_sees_the_secret_once_and_manages_their_key(client, alice, alice_profile):
    client.force_login(alice)
    assert "No access keys yet" in client.get(KEYS).content.decode()

    issued = client.post(KEYS, follow=True)
    # Redirected after the POST: a reload of the page cannot issue a second key.
    assert issued.redirect_chain == [(KEYS, 302)]
    assert issued["Cache-Control"] == "no-store"
    key = AccessKey.objects.get(profile=alice_profile)
    body = issued.content.decode()
    assert key.access_key_id in body and "never shown again" in body
    secret = body.split('id="new-secret">')[1].split("<")[0]
    assert len(secret) >= 30
    assert 'endpoint_url="http://testserver/"' in body  # how boto3 reaches this Studio

    assert NEW_KEY not in client.session  # shown once, then gone from the session too
    again = client.get(KEYS).content.decode()
    assert key.access_key_id in again and secret not in again

    response = client.post(status_url(key.access_key_id), {"status": "Inactive"}, follow=True)
    assert f"Access key {key.access_key_id} deactivated." in response.content.decode()
    key.refresh_from_db()
    assert key.status == "Inactive"
    client.post(status_url(key.access_key_id), {"status": "Active"})
    key.refresh_from_db()
    assert key.status == "Active"

    response = client.post(delete_url(key.access_key_id), follow=True)
    assert "deleted" in response.content.decode()
    assert not AccessKey.objects.filter(pk=key.pk).exists()


def test_a_third_key_is_refused_with_what_to_do(client, alice, alice_profile):
    client.force_login(alice)
    client.post(KEYS)
    client.post(KEYS)
    response = client.post(KEYS, follow=True)
    assert "already has 2 access keys; delete one before issuing another" in (
        response.content.decode()
    )
    assert AccessKey.objects.filter(profile=alice_profile).count() == 2


def test_bad_status_is_refused_and_changes_nothing(client, alice, alice_profile):
    key, _ = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    client.force_login(alice)
    response = client.post(status_url(key.access_key_id), {"status": "Deleted"}, follow=True)
    assert "Status must be Active or Inactive." in response.content.decode()
    key.refresh_from_db()
    assert key.status == "Active"


def test_another_member_cannot_deactivate_or_delete_my_key(
    client, alice, alice_profile, bob, bob_profile
):
    key, _ = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    client.force_login(bob)
    assert key.access_key_id not in client.get(KEYS).content.decode()
    client.post(status_url(key.access_key_id), {"status": "Inactive"})
    response = client.post(delete_url(key.access_key_id), follow=True)
    assert response.status_code == 200
    assert "banner-error" in response.content.decode()
    key.refresh_from_db()
    assert key.status == "Active"


def test_a_running_apps_key_is_not_listed_or_managed_here(client, alice, alice_profile):
    space = Space.objects.create(
        domain=alice_profile.domain, name="lab", owner=alice_profile, status="InService"
    )
    app = App.objects.create(space=space, status="InService")
    key, _ = credentials.issue(app)
    client.force_login(alice)
    assert key.access_key_id not in client.get(KEYS).content.decode()
    client.post(delete_url(key.access_key_id))
    assert AccessKey.objects.filter(pk=key.pk).exists()  # it dies with the app, not by hand
