"""Passwords someone else chose (an admin adding a user or setting one in Users, `studio up`'s
first admin) are one-time: over HTTP, their owner reaches nothing but the page that replaces
them, and SigV4 API calls, which are not sessions, are left alone. The browser's side is in
tests/e2e/test_accounts_browser.py."""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from domains.admin.accounts import add_profile
from domains.models import OneTimePassword
from domains.services import create_access_key
from studio.web.management.commands.up import ensure_first_admin
from studio.web.proxy.access import _decide
from tests.conftest import settled
from tests.integration.api import sagemaker

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD_PAGE = reverse("password_change")


@pytest.fixture
def dave(domain, root):
    """dave, added to the domain by the console's service; his one-time password."""
    with transaction.atomic():
        profile, password = add_profile(root, domain, "dave")
    return settled(profile), password


def signed_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, "the sign-in was refused"
    return client


def replace(client: Client, old: str, new: str, **extra):
    data = {"old_password": old, "new_password1": new, "new_password2": new, **extra}
    return client.post(PASSWORD_PAGE, data)


def test_every_page_leads_to_replacing_the_one_time_password_but_signing_out(dave):
    _, password = dave
    client = signed_in("dave", password)

    for path in ("/", "/jobs/?status=Failed", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"{PASSWORD_PAGE}?{urlencode({'next': path})}"
    assert client.get(PASSWORD_PAGE).status_code == 200
    # A form posted from a page opened before signing in is not carried out.
    assert client.post(reverse("dashboard:keys"))["Location"] == PASSWORD_PAGE

    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/")["Location"].startswith(reverse("login"))


def test_replacing_it_clears_the_mark_keeps_the_session_and_goes_where_asked(dave):
    _, password = dave
    client = signed_in("dave", password)

    kept = replace(client, password, password)
    assert kept.status_code == 200
    assert "other than your current one" in kept.content.decode()
    assert OneTimePassword.objects.filter(user__username="dave").exists()

    done = replace(client, password, "dave-own-pass-1", next="/jobs/")
    assert done["Location"] == f"{reverse('password_change_done')}?next=%2Fjobs%2F"
    assert not OneTimePassword.objects.filter(user__username="dave").exists()
    assert client.get("/jobs/").status_code == 200
    # Elsewhere is not somewhere to be sent.
    offsite = replace(client, "dave-own-pass-1", "dave-own-pass-2", next="https://evil.test/")
    assert offsite["Location"] == f"{reverse('password_change_done')}?next=%2F"


def test_api_calls_with_a_key_are_not_held_up_by_a_one_time_password(dave, asgi_server):
    profile, _ = dave
    key, secret = create_access_key(profile.user, profile.domain.domain_id, profile.name)
    assert OneTimePassword.objects.filter(user=profile.user).exists()

    described = sagemaker(asgi_server, key.access_key_id, secret).describe_user_profile(
        DomainId=profile.domain.domain_id, UserProfileName=profile.name
    )
    assert described["UserProfileName"] == "dave"


def test_a_password_a_superuser_sets_in_users_is_one_time_too(root, alice):
    console = Client()
    console.force_login(root)

    added = console.post(
        reverse("admin:auth_user_add"),
        {"username": "erin", "usable_password": "true", "password1": "erin-pass-1",
         "password2": "erin-pass-1"},
    )  # fmt: skip
    assert added.status_code == 302
    assert OneTimePassword.objects.filter(user__username="erin").exists()

    assert not OneTimePassword.objects.filter(user=alice).exists()
    reset = console.post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"usable_password": "true", "password1": "alice-reset-1", "password2": "alice-reset-1"},
    )
    assert reset.status_code == 302
    assert OneTimePassword.objects.filter(user=alice).exists()
    assert signed_in("alice", "alice-reset-1").get("/")["Location"].startswith(PASSWORD_PAGE)

    # Their own password, changed there, is theirs.
    own = console.post(
        reverse("admin:auth_user_password_change", args=[root.pk]),
        {"usable_password": "true", "password1": "root-pass-2", "password2": "root-pass-2"},
    )
    assert own.status_code == 302
    assert not OneTimePassword.objects.filter(user=root).exists()


def test_studio_ups_first_admin_must_replace_the_printed_password(django_user_model):
    password = ensure_first_admin()
    admin = django_user_model.objects.get(username="admin")
    assert admin.check_password(password)
    assert OneTimePassword.objects.filter(user=admin).exists()


def test_the_notebook_proxy_opens_nothing_before_the_password_is_replaced(dave, domain):
    """The proxy answers before Django's middleware: it checks the mark itself."""
    _, password = dave
    client = signed_in("dave", password)
    key = client.session.session_key

    assert _decide(key, domain.domain_id, "any").authenticated is False

    replace(client, password, "dave-own-password-1")
    assert _decide(client.session.session_key, domain.domain_id, "any").authenticated is True
