"""Login throttling (django-axes, as configured in settings): wrong passwords for one username
from one address pause that pair's sign-ins for a while, with a page saying until when; the
right user elsewhere, the lockout's end, and SigV4 API calls are never held up."""

import re
from datetime import timedelta

import httpx
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from domains.services import create_access_key
from tests.integration.api import sagemaker

pytestmark = pytest.mark.django_db(transaction=True)

ATTACKER = "203.0.113.66"
USER_ADDRESS = "198.51.100.7"


def sign_in(client: Client, path: str, username: str, password: str):
    return client.post(reverse(path), {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, times: int, username: str = "alice", path: str = "login") -> list[int]:
    return [sign_in(client, path, username, "not-her-password").status_code for _ in range(times)]


def age_failures(by: timedelta) -> None:
    """Move the recorded failures `by` into the past, as time passing would."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= by
        attempt.save(update_fields=["attempt_time"])


def test_by_default_five_wrong_passwords_pause_sign_in_for_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_repeated_wrong_passwords_lock_the_sign_in_with_a_page_saying_until_when(alice):
    client = Client(REMOTE_ADDR=USER_ADDRESS)

    # Wrong passwords are answered by the form until the limit; the last one locks.
    assert fail(client, settings.AXES_FAILURE_LIMIT) == [200] * 4 + [429]

    locked = sign_in(client, "login", "alice", "alice-pass-1")
    assert locked.status_code == 429
    assert not signed_in(client)
    page = locked.content.decode()
    assert "Too many sign-in attempts" in page
    assert "Try again at" in page and "in 15 minutes" in page
    assert int(locked["Retry-After"]) > 14 * 60
    assert 'class="auth-card"' in page  # Studio's look, not a bare message


def test_tries_during_a_lockout_do_not_extend_it_and_it_ends(alice):
    client = Client(REMOTE_ADDR=USER_ADDRESS)
    fail(client, settings.AXES_FAILURE_LIMIT)

    age_failures(timedelta(minutes=14))
    assert fail(client, 3) == [429] * 3  # still locked, and these are not counted
    assert sign_in(client, "login", "alice", "alice-pass-1").status_code == 429

    age_failures(timedelta(minutes=1, seconds=1))
    response = sign_in(client, "login", "alice", "alice-pass-1")
    assert response.status_code == 302
    assert signed_in(client)


def test_an_attacker_elsewhere_does_not_lock_the_user_out(alice):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    assert fail(attacker, settings.AXES_FAILURE_LIMIT)[-1] == 429
    assert sign_in(attacker, "login", "alice", "alice-pass-1").status_code == 429

    user = Client(REMOTE_ADDR=USER_ADDRESS)
    assert sign_in(user, "login", "alice", "alice-pass-1").status_code == 302
    assert signed_in(user)


def test_a_successful_sign_in_forgets_the_mistakes_before_it(alice):
    client = Client(REMOTE_ADDR=USER_ADDRESS)
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "login", "alice", "alice-pass-1").status_code == 302
    client.post(reverse("logout"))

    assert fail(client, settings.AXES_FAILURE_LIMIT - 1) == [200] * 4
    assert sign_in(client, "login", "alice", "alice-pass-1").status_code == 302


def test_the_admin_console_sign_in_is_throttled_too(root):
    client = Client(REMOTE_ADDR=ATTACKER)
    statuses = fail(client, settings.AXES_FAILURE_LIMIT, username="root", path="admin:login")
    assert statuses[-1] == 429
    assert sign_in(client, "admin:login", "root", "root-pass-1").status_code == 429
    assert not signed_in(client)


def test_api_calls_signed_with_a_key_go_on_during_a_lockout(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    # The live server sees the test's own address, as the API client's calls will.
    attacker = Client(REMOTE_ADDR="127.0.0.1")
    assert fail(attacker, settings.AXES_FAILURE_LIMIT)[-1] == 429

    domains = sagemaker(asgi_server, key.access_key_id, secret).list_domains()["Domains"]
    assert alice_profile.domain.domain_id in [d["DomainId"] for d in domains]


def test_the_web_server_answers_a_lockout_with_the_page(asgi_server, alice):
    """Through uvicorn, where django-axes' middleware runs its async path."""
    with httpx.Client(base_url=asgi_server) as browser:
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get("/login/").text
        ).group(1)
        form = {"csrfmiddlewaretoken": token, "username": "alice", "password": "wrong"}
        statuses = [browser.post("/login/", data=form).status_code for _ in range(5)]
        locked = browser.post("/login/", data={**form, "password": "alice-pass-1"})

    assert statuses == [200] * 4 + [429]
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.text and "in 15 minutes" in locked.text
    assert "sessionid" not in browser.cookies
