"""CreatePresignedDomainUrl with boto3 against the live server, and its link followed over real
HTTP: it signs the profile's user in once (the dashboard, or the space's JupyterLab), and a
second use, an expired link and another domain's profile are refused."""

import time
from urllib.parse import urlsplit

import httpx
import pytest

import studio.web.api.presigned_domain_urls  # noqa: F401  (registers the operation until views.py imports it)
from domains.services import create_access_key, create_app, create_space
from tests.conftest import settled
from tests.integration.api import error_code, sagemaker
from tests.integration.notebooks import handoff, running

pytestmark = pytest.mark.usefixtures("live")


@pytest.fixture
def public(settings, asgi_server) -> str:
    """Studio's public address is the live server's (the server runs in this process)."""
    settings.STUDIO_PUBLIC_URL = asgi_server
    return asgi_server


def client_for(server: str, user, profile, **config):
    key, secret = create_access_key(user, profile.domain.domain_id, profile.name)
    return sagemaker(server, key.access_key_id, secret, **config)


def follow(url: str, cookies: dict | None = None) -> httpx.Response:
    with httpx.Client(timeout=30, trust_env=False, cookies=cookies or {}) as client:
        return client.get(url)


def session_of(response: httpx.Response) -> str:
    return response.cookies["sessionid"]


def signed_in_as(session: str) -> int:
    """The user id the server's session `session` is signed in as."""
    from django.contrib.sessions.backends.db import SessionStore

    return int(SessionStore(session_key=session)["_auth_user_id"])


def dashboard(server: str, session: str) -> httpx.Response:
    return follow(f"{server}/", {"sessionid": session})


def test_a_link_signs_its_profile_in_once_and_opens_the_dashboard(public, alice, alice_profile):
    api = client_for(public, alice, alice_profile)
    domain_id = alice_profile.domain.domain_id
    url = api.create_presigned_domain_url(DomainId=domain_id, UserProfileName="alice")[
        "AuthorizedUrl"
    ]
    assert url.startswith(f"{public}/presigned/")

    first = follow(url)
    assert first.status_code == 302 and first.headers["location"] == "/"
    assert signed_in_as(session_of(first)) == alice.pk
    home = dashboard(public, session_of(first))
    assert home.status_code == 200
    assert "alice" in home.text and alice_profile.domain.name in home.text

    again = follow(url)
    assert again.status_code == 403
    assert "already used" in again.text
    assert "sessionid" not in again.cookies


def test_an_expired_link_signs_nobody_in(public, alice, alice_profile):
    api = client_for(public, alice, alice_profile)
    url = api.create_presigned_domain_url(
        DomainId=alice_profile.domain.domain_id, UserProfileName="alice", ExpiresInSeconds=5
    )["AuthorizedUrl"]
    time.sleep(6)
    refused = follow(url)
    assert refused.status_code == 403 and "expired" in refused.text
    assert "sessionid" not in refused.cookies


def test_the_session_lasts_as_asked_and_studio_landing_paths_stay_on_studio(
    public, alice, alice_profile
):
    api = client_for(public, alice, alice_profile)
    url = api.create_presigned_domain_url(
        DomainId=alice_profile.domain.domain_id,
        UserProfileName="alice",
        SessionExpirationDurationInSeconds=1800,
        LandingUri="studio::spaces/",
    )["AuthorizedUrl"]
    entered = follow(url)
    assert entered.status_code == 302 and entered.headers["location"] == "/spaces/"
    cookie = next(c for c in entered.headers.get_list("set-cookie") if c.startswith("sessionid="))
    assert "Max-Age=1800" in cookie
    assert dashboard(public, session_of(entered)).status_code == 200


def test_another_domains_profile_and_bad_input_are_refused_with_awss_codes(
    public, alice, alice_profile, bob, make_domain, make_profile
):
    other = make_domain("elsewhere")
    make_profile(other, bob)
    api = client_for(public, alice, alice_profile, parameter_validation=False)
    domain_id = alice_profile.domain.domain_id
    assert (
        error_code(
            lambda: api.create_presigned_domain_url(DomainId=other.domain_id, UserProfileName="bob")
        )
        == "ResourceNotFound"
    )
    assert (
        error_code(
            lambda: api.create_presigned_domain_url(DomainId=domain_id, UserProfileName="nobody")
        )
        == "ResourceNotFound"
    )
    for bad in (
        {"ExpiresInSeconds": 301},
        {"ExpiresInSeconds": 4},
        {"SessionExpirationDurationInSeconds": 1799},
        {"SessionExpirationDurationInSeconds": 43201},
        {"LandingUri": "app:Canvas:"},
        {"LandingUri": "app:JupyterLab:lab"},  # no SpaceName
        {"LandingUri": "https://example.com/"},
        {"ExpiresInSeconds": None},
    ):
        assert (
            error_code(
                lambda bad=bad: api.create_presigned_domain_url(
                    DomainId=domain_id, UserProfileName="alice", **bad
                )
            )
            == "ValidationException"
        ), bad


def test_a_space_link_opens_its_jupyterlab_as_that_user(jupyter, public, alice, alice_profile):
    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="lab"))
    api = client_for(public, alice, alice_profile)

    # Not running: the link lands on the space's page, where it can be started.
    url = api.create_presigned_domain_url(
        DomainId=domain_id, UserProfileName="alice", SpaceName="lab"
    )["AuthorizedUrl"]
    assert follow(url).headers["location"] == "/spaces/lab/"

    running(create_app(alice, domain_id, space_name="lab"))
    url = api.create_presigned_domain_url(
        DomainId=domain_id,
        UserProfileName="alice",
        SpaceName="lab",
        LandingUri="app:JupyterLab:lab/tree/notes",
    )["AuthorizedUrl"]
    entered = follow(url)
    location = entered.headers["location"]
    assert location == f"/jupyter/{domain_id}/lab/lab/tree/notes"
    # The session the link made is the one the notebook proxy hands to the space's host.
    handed = handoff(public, session_of(entered), location)
    assert handed.status_code == 302
    assert urlsplit(handed.headers["location"]).path == "/_studio/enter"
    assert follow(url).status_code == 403


def test_a_domain_admin_may_presign_any_profile_of_the_domain(
    public, alice, alice_profile, bob, bob_profile
):
    from domains.models import ProfileRole

    bob_profile.role = ProfileRole.ADMIN
    bob_profile.save(update_fields=["role"])
    admin = client_for(public, bob, bob_profile)
    url = admin.create_presigned_domain_url(
        DomainId=alice_profile.domain.domain_id, UserProfileName="alice"
    )["AuthorizedUrl"]
    entered = follow(url)
    assert entered.status_code == 302
    # Signed in as alice, not as the admin who made the link.
    assert signed_in_as(session_of(entered)) == alice.pk
    assert dashboard(public, session_of(entered)).status_code == 200
