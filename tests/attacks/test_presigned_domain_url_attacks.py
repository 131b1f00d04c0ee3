"""Presigned domain URLs against someone trying to get a session they should not have: another
member's, a wider one than their key's, a link used twice at once, a link for a profile
suspended since, a guessed token, a landing page elsewhere. Each is refused and nothing is
issued or signed in."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings

import studio.web.api.presigned_domain_urls  # noqa: F401  (registers the operation until views.py imports it)
from domains.models import ProfileRole
from domains.permissions import acting_as
from domains.services import create_access_key, suspend_user_profile
from domains.space_scope import SpaceScope
from studio.core.errors import AccessDenied
from studio.core.health import redis_client
from studio.web.api.presigned_domain_urls import create_presigned_domain_url
from tests.integration.api import error_code, sagemaker

pytestmark = pytest.mark.usefixtures("live")


@pytest.fixture
def public(settings, asgi_server) -> str:
    settings.STUDIO_PUBLIC_URL = asgi_server
    return asgi_server


def client_for(server: str, user, profile):
    key, secret = create_access_key(user, profile.domain.domain_id, profile.name)
    return sagemaker(server, key.access_key_id, secret, parameter_validation=False)


def grants() -> int:
    return len(redis_client().keys(f"{settings.STUDIO_REDIS_PREFIX}:presigned:grant:*"))


def follow(url: str, cookies: dict | None = None) -> httpx.Response:
    with httpx.Client(timeout=30, trust_env=False, cookies=cookies or {}) as client:
        return client.get(url)


def presign(api, profile, **extra) -> str:
    return api.create_presigned_domain_url(
        DomainId=profile.domain.domain_id, UserProfileName=profile.name, **extra
    )["AuthorizedUrl"]


def test_a_member_cannot_presign_another_members_profile(
    public, alice, alice_profile, bob, bob_profile
):
    before = grants()
    api = client_for(public, alice, alice_profile)
    assert error_code(lambda: presign(api, bob_profile)) == "AccessDeniedException"
    assert grants() == before


def test_an_admin_cannot_presign_a_user_whose_session_reaches_another_domain(
    public, alice, alice_profile, bob, bob_profile, make_domain, make_profile
):
    bob_profile.role = ProfileRole.ADMIN
    bob_profile.save(update_fields=["role"])
    # alice also works in a domain bob does not administer: a session as alice would reach it.
    make_profile(make_domain("elsewhere"), alice)
    before = grants()
    admin = client_for(public, bob, bob_profile)
    assert error_code(lambda: presign(admin, alice_profile)) == "AccessDeniedException"
    # Nor can alice's own key (bound to one domain) become her whole session.
    own = client_for(public, alice, alice_profile)
    assert error_code(lambda: presign(own, alice_profile)) == "AccessDeniedException"
    assert grants() == before


def test_a_superusers_key_cannot_become_a_superuser_session(public, root, domain, make_profile):
    profile = make_profile(domain, root)
    before = grants()
    api = client_for(public, root, profile)
    assert error_code(lambda: presign(api, profile)) == "AccessDeniedException"
    assert grants() == before


def test_a_shared_space_key_cannot_presign_even_its_owner(alice, alice_profile):
    scoped = acting_as(alice_profile, SpaceScope(space_id=1, space_name="team", domain_name="x"))
    before = grants()
    with pytest.raises(AccessDenied):
        create_presigned_domain_url(scoped, alice_profile.domain.domain_id, alice_profile.name)
    assert grants() == before


def test_one_link_followed_at_once_many_times_signs_in_once(public, alice, alice_profile):
    url = presign(client_for(public, alice, alice_profile), alice_profile)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: follow(url), range(8)))
    assert sorted(a.status_code for a in answers) == [302] + [403] * 7
    assert sum("sessionid" in a.cookies for a in answers) == 1


def test_a_link_for_a_profile_suspended_since_signs_nobody_in(public, root, alice, alice_profile):
    url = presign(client_for(public, alice, alice_profile), alice_profile)
    suspend_user_profile(root, alice_profile.domain.domain_id, alice_profile.name)
    refused = follow(url)
    assert refused.status_code == 403 and "cannot be used" in refused.text
    assert "sessionid" not in refused.cookies
    # Claimed all the same: resuming the profile does not bring the link back.
    assert follow(url).status_code == 403


def test_guessed_and_altered_tokens_sign_nobody_in(public, alice, alice_profile):
    url = presign(client_for(public, alice, alice_profile), alice_profile)
    base, token = url.rstrip("/").rsplit("/", 1)
    altered = token[:-1] + ("B" if token.endswith("A") else "A")
    for wrong in (f"{base}/{altered}/", f"{base}/{token}x/", f"{url}x/"):
        answer = follow(wrong)
        assert answer.status_code in (403, 404) and "sessionid" not in answer.cookies
    # A POST does not sign in (nor claim the link): CSRF refuses it, else the view would.
    with httpx.Client(timeout=30, trust_env=False) as client:
        posted = client.post(url)
        assert posted.status_code in (403, 405) and "sessionid" not in posted.cookies
    assert follow(url).status_code == 302


def test_landing_pages_stay_on_studios_host(public, alice, alice_profile):
    api = client_for(public, alice, alice_profile)
    for landing in ("studio:://evil.example/", "studio::\\\\evil.example", "studio::/\\evil"):
        try:
            url = presign(api, alice_profile, LandingUri=landing)
        except Exception as error:  # refused outright is as good as kept on the host
            assert "ValidationException" in str(error), error
            continue
        location = follow(url).headers["location"]
        assert location.startswith("/") and not location.startswith("//"), location
        assert "\\" not in location


def test_following_a_link_replaces_the_browsers_session(
    public, alice, alice_profile, bob, bob_profile
):
    from django.contrib.sessions.models import Session
    from django.test import Client

    browser = Client()
    browser.force_login(bob)
    bobs = browser.cookies["sessionid"].value
    url = presign(client_for(public, alice, alice_profile), alice_profile)
    entered = follow(url, {"sessionid": bobs})
    assert entered.status_code == 302
    assert entered.cookies["sessionid"] != bobs
    # bob's session is gone rather than now carrying alice.
    assert not Session.objects.filter(session_key=bobs).exists()
