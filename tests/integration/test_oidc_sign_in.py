"""OpenID Connect sign-in's parts that need no browser: its configuration (a bad variable stops
startup, naming it), the identity mappings in the console (superusers only), and how sign-in
applies them (`domains.identity.sign_in`, with the real services and worker). The browser flow
against a real provider is tests/e2e/test_oidc_browser.py."""

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from domains.identity import NotAssigned, sign_in
from domains.models import ExternalIdentity, IdentityMapping, OneTimePassword, UserProfile
from tests.conftest import ROOT, settled
from tests.e2e.conftest import free_port

ISSUER = "https://idp.example.com"
GOOD = {
    "STUDIO_OIDC_ISSUER": ISSUER,
    "STUDIO_OIDC_CLIENT_ID": "studio",
    "STUDIO_OIDC_CLIENT_SECRET": "s3cret",
}


def start_with(variables: dict[str, str]) -> subprocess.CompletedProcess:
    """Load Studio's settings in a fresh process, as every Studio process does at start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_OIDC_")}
    code = (
        "from django.conf import settings; "
        "print(settings.STUDIO_OIDC_ENABLED, 'studio.web.oidc.Backend' in "
        "settings.AUTHENTICATION_BACKENDS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "studio.settings", **variables},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"STUDIO_OIDC_ISSUER": ISSUER}, "STUDIO_OIDC_CLIENT_ID"),
        ({**GOOD, "STUDIO_OIDC_CLIENT_SECRET": ""}, "STUDIO_OIDC_CLIENT_SECRET"),
        ({**GOOD, "STUDIO_OIDC_SIGN_ALGO": "none"}, "STUDIO_OIDC_SIGN_ALGO"),
        ({**GOOD, "STUDIO_OIDC_ISSUER": "idp.example.com"}, "STUDIO_OIDC_ISSUER"),
        ({**GOOD, "STUDIO_OIDC_JWKS_URL": "file:///etc/keys"}, "STUDIO_OIDC_JWKS_URL"),
        (
            {**GOOD, "STUDIO_OIDC_ISSUER": "", "STUDIO_OIDC_TOKEN_URL": f"{ISSUER}/token"},
            "STUDIO_OIDC_AUTHORIZATION_URL, STUDIO_OIDC_USERINFO_URL, STUDIO_OIDC_JWKS_URL",
        ),
    ],
    ids=[
        "no-client-id",
        "no-secret",
        "bad-algorithm",
        "issuer-not-a-url",
        "jwks-not-http",
        "endpoints-missing-without-issuer",
    ],
)
def test_a_bad_oidc_setting_stops_startup_naming_the_variable(variables, named):
    started = start_with(variables)
    assert started.returncode != 0
    assert "ValueError" in started.stderr
    assert named in started.stderr


def test_oidc_is_off_without_variables_and_on_with_an_issuer_and_client():
    off = start_with({})
    assert off.returncode == 0, off.stderr
    assert off.stdout.split() == ["False", "False"]
    on = start_with(GOOD)
    assert on.returncode == 0, on.stderr
    assert on.stdout.split() == ["True", "True"]


@pytest.fixture
def oidc_on(settings) -> None:
    """OIDC sign-in on, with a provider that answers nothing (a free port)."""
    settings.STUDIO_OIDC_ENABLED = True
    settings.STUDIO_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    settings.STUDIO_OIDC_PROVIDER_NAME = "Okta"
    settings.OIDC_RP_CLIENT_ID = "studio"
    settings.OIDC_RP_CLIENT_SECRET = "s3cret"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "studio.web.oidc.Backend",
    ]


@pytest.mark.django_db
def test_an_unreachable_provider_is_a_page_saying_so_not_an_error(oidc_on, client):
    response = client.get(reverse("oidc_authentication_init"))
    assert response.status_code == 502
    assert "Studio could not reach Okta" in response.content.decode()


@pytest.mark.django_db
def test_a_callback_this_browser_never_started_is_refused_with_a_page(oidc_on, client):
    response = client.get(reverse("oidc_authentication_callback"), {"code": "c", "state": "s"})
    assert response.status_code == 400
    assert "did not complete" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- the mappings in the console -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_superuser_maps_a_group_to_a_domain_role_in_the_console(domain, root):
    console = Client()
    console.force_login(root)
    add = reverse("admin:domains_identitymapping_add")
    form = {"claim": "groups", "value": "ml-admins", "domain": domain.pk, "role": "Admin"}

    response = console.post(add, {**form, "claim": "my groups"})
    assert response.status_code == 200
    assert "letters, digits and _ : . - / only" in response.content.decode()
    response = console.post(add, {**form, "claim": "sub"})
    assert "identifies the token, not a group" in response.content.decode()

    response = console.post(add, form)
    assert response.status_code == 302
    mapping = IdentityMapping.objects.get()
    assert (mapping.claim, mapping.value, mapping.domain, mapping.role) == (
        "groups",
        "ml-admins",
        domain,
        "Admin",
    )


@pytest.mark.django_db(transaction=True)
def test_a_domain_admin_cannot_see_or_write_identity_mappings(domain, alice, make_profile):
    make_profile(domain, alice, role="Admin")
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    console = Client()
    console.force_login(alice)
    assert console.get(reverse("admin:domains_identitymapping_changelist")).status_code == 403
    response = console.post(
        reverse("admin:domains_identitymapping_add"),
        {"claim": "groups", "value": "everyone", "domain": domain.pk, "role": "Admin"},
    )
    assert response.status_code == 403
    assert not IdentityMapping.objects.exists()


# --- sign-in applying the mappings ----------------------------------------------------------


def claims(sub: str, **more) -> dict:
    return {"sub": sub, "iss": ISSUER, **more}


@pytest.mark.django_db(transaction=True)
def test_a_provider_account_named_like_a_local_account_gets_an_account_of_its_own(domain, alice):
    IdentityMapping.objects.create(claim="groups", value="ml", domain=domain, role="Admin")

    user = sign_in(ISSUER, claims("42", preferred_username="alice", groups=["ml"]))

    assert user.pk != alice.pk
    assert user.username == "alice-2"
    alice.refresh_from_db()
    assert alice.has_usable_password() and not alice.is_staff
    assert not UserProfile.objects.filter(user=alice).exists()
    assert not OneTimePassword.objects.filter(user=user).exists()
    assert not user.has_usable_password()
    assert settled(UserProfile.objects.get(user=user)).role == "Admin"


@pytest.mark.django_db(transaction=True)
def test_a_scalar_claim_maps_too_and_the_highest_role_in_a_domain_wins(domain, make_domain):
    finance = make_domain("finance")
    IdentityMapping.objects.create(claim="department", value="ml", domain=domain, role="Member")
    IdentityMapping.objects.create(claim="groups", value="leads", domain=domain, role="Admin")
    IdentityMapping.objects.create(claim="groups", value="leads", domain=finance, role="Member")

    user = sign_in(ISSUER, claims("7", email="dana@example.com", department="ml", groups=["leads"]))

    assert user.username == "dana@example.com"
    roles = dict(UserProfile.objects.filter(user=user).values_list("domain__name", "role"))
    assert roles == {"research": "Admin", "finance": "Member"}
    assert user.is_staff
    for profile in UserProfile.objects.filter(user=user):
        settled(profile)


@pytest.mark.django_db(transaction=True)
def test_someone_no_mapping_matches_is_refused_and_no_account_is_made(domain):
    IdentityMapping.objects.create(claim="groups", value="ml", domain=domain, role="Member")

    with pytest.raises(NotAssigned, match="not assigned to any Studio domain"):
        sign_in(ISSUER, claims("9", preferred_username="sam", groups=["Ml", "sales"]))

    assert not get_user_model().objects.filter(username="sam").exists()
    assert not ExternalIdentity.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_account_is_left_as_it_is_by_a_sign_in(domain):
    mapping = IdentityMapping.objects.create(
        claim="groups", value="ml", domain=domain, role="Admin"
    )
    first = sign_in(ISSUER, claims("5", preferred_username="kim", groups=["ml"]))
    settled(UserProfile.objects.get(user=first))
    first.is_active = False
    first.save(update_fields=["is_active"])
    mapping.role = "Member"
    mapping.save(update_fields=["role"])

    again = sign_in(ISSUER, claims("5", preferred_username="kim", groups=["ml"]))

    assert again.pk == first.pk
    assert not again.is_active
    assert UserProfile.objects.get(user=first).role == "Admin"


@pytest.mark.django_db(transaction=True)
def test_someone_who_signs_in_through_the_provider_is_not_offered_a_password_to_change(
    domain, alice, alice_profile
):
    IdentityMapping.objects.create(claim="groups", value="ml", domain=domain, role="Member")
    user = sign_in(ISSUER, claims("11", preferred_username="lee", groups=["ml"]))
    settled(UserProfile.objects.get(user=user))
    client = Client()
    client.force_login(user)

    assert reverse("password_change") not in client.get("/").content.decode()
    page = client.get(reverse("password_change")).content.decode()
    assert "Your password is not kept here" in page
    assert 'name="old_password"' not in page
    assert client.post(reverse("password_change"), {"old_password": "x"}).status_code == 200
    # A local account keeps its way to change its own.
    client.force_login(alice)
    assert reverse("password_change") in client.get("/").content.decode()


@pytest.fixture
def jwks_server():
    """A provider's JWKS endpoint on loopback, answering what the test sets."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answer: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield answer, f"http://127.0.0.1:{server.server_port}/jwks"
    finally:
        server.shutdown()
        thread.join()


@pytest.mark.parametrize(
    "keys",
    [
        {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]},  # a key without kid
        {"no": "keys"},  # no keys at all
        {"keys": "not a list"},
    ],
    ids=["key-without-kid", "no-keys", "keys-not-a-list"],
)
def test_malformed_provider_keys_are_a_refusal_not_an_error(settings, jwks_server, keys):
    import jwt
    from django.core.exceptions import SuspiciousOperation

    from studio.web.oidc import Backend

    answer, url = jwks_server
    answer.update(keys)
    settings.OIDC_OP_JWKS_ENDPOINT = url
    token = jwt.encode({"sub": "1"}, "secret-secret-secret-secret-32b!", algorithm="HS256")

    with pytest.raises(SuspiciousOperation, match="lack"):
        Backend().retrieve_matching_jwk(token)
