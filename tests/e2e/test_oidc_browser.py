"""Single sign-on, in Chromium, against a real OpenID Connect provider (django-oauth-toolkit in
a process of its own, tests/oidc_provider/): Studio discovers its endpoints, sends the person
there, verifies the RS256 ID token against its JWKS, and gives them the domain and role the
admin's identity mappings name for their groups."""

import re
import secrets
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from domains.models import ExternalIdentity, IdentityMapping, OneTimePassword, UserProfile
from tests.conftest import settled, wait_for
from tests.e2e.conftest import free_port
from tests.oidc_provider.process import IdentityProvider

pytestmark = pytest.mark.e2e

PROVIDER = "Test IdP"
BUTTON = f"Sign in with {PROVIDER}"
NOT_ASSIGNED = "is not assigned to any Studio domain"


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> Iterator[IdentityProvider]:
    """One provider for the module: each test registers its own client and users."""
    provider = IdentityProvider(tmp_path_factory.mktemp("idp"), free_port())
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(autouse=True)
def _profiles_provisioned(live) -> Iterator[None]:
    """Sign-in makes profiles the worker provisions: let it finish before the tables are
    emptied for the next test (a worker writing during the flush deadlocks)."""
    yield
    wait_for(
        lambda: not UserProfile.objects.filter(status="Pending").exists(),
        30,
        "the profiles made at sign-in to be provisioned",
    )


@pytest.fixture
def studio(idp, asgi_server, settings) -> str:
    """Studio (the live server) configured for the provider as an operator would: the issuer
    (endpoints by discovery), a confidential client registered there for Studio's callback."""
    client_id = f"studio-{secrets.token_hex(4)}"
    secret = secrets.token_urlsafe(24)
    idp.client(client_id, secret, f"{asgi_server}/oidc/callback/")
    settings.STUDIO_OIDC_ENABLED = True
    settings.STUDIO_OIDC_ISSUER = idp.issuer
    settings.STUDIO_OIDC_PROVIDER_NAME = PROVIDER
    settings.OIDC_RP_CLIENT_ID = client_id
    settings.OIDC_RP_CLIENT_SECRET = secret
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "studio.web.oidc.Backend",
    ]
    return asgi_server


@pytest.fixture
def mappings(domain) -> object:
    """The admin's choice: the IdP group ml-users are members of `research`, ml-admins its
    admins."""
    IdentityMapping.objects.create(claim="groups", value="ml-users", domain=domain, role="Member")
    IdentityMapping.objects.create(claim="groups", value="ml-admins", domain=domain, role="Admin")
    return domain


@pytest.fixture
def person(idp):
    """A user at the provider, with a name of their own in this module's provider."""

    def make(groups: list[str], name: str = "erin") -> tuple[str, str]:
        username = f"{name}-{secrets.token_hex(3)}"
        password = f"{username}-pass"
        idp.user(username, password=password, email=f"{username}@example.com", groups=groups)
        return username, password

    return make


def callbacks(page) -> list:
    """The responses to Studio's callback URL, as the browser gets them."""
    seen: list = []
    page.on("response", lambda r: seen.append(r) if "/oidc/callback/" in r.url else None)
    return seen


def sign_in(page, studio: str, username: str, password: str, next_path: str = "") -> None:
    """From Studio's sign-in page, through the provider's own sign-in form."""
    from playwright.sync_api import expect

    page.goto(f"{studio}/login/" + (f"?next={quote(next_path, safe='')}" if next_path else ""))
    page.get_by_role("link", name=BUTTON).click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("IdP username").fill(username)
    page.get_by_label("IdP password").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def sign_in_again(page, studio: str) -> None:
    """Signed in at the provider already (its session): the button leads straight back."""
    page.goto(f"{studio}/login/")
    page.get_by_role("link", name=BUTTON).click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="Sign out").click()


def profile_of(username: str) -> UserProfile:
    return UserProfile.objects.select_related("user", "domain").get(user__username=username)


def settled_profile(username: str) -> UserProfile:
    """The person's profile once the worker has made it InService, with its user and domain."""
    settled(profile_of(username))
    return profile_of(username)


def test_first_sign_in_creates_the_user_with_a_member_profile_in_the_mapped_domain(
    studio, mappings, person, idp, server_side, page, artifacts
):
    from playwright.sync_api import expect

    username, password = person(["ml-users", "unrelated"])
    page.goto(f"{studio}/login/")
    page.screenshot(path=artifacts / "oidc-login-button.png")
    sign_in(page, studio, username, password)

    # Straight to the dashboard: no one-time password to replace.
    expect(page).to_have_url(f"{studio}/")
    expect(page.locator(".usermenu-name")).to_have_text(username)
    profile = server_side(lambda: profile_of(username))
    assert profile.domain.domain_id == mappings.domain_id
    assert profile.role == "Member"
    assert profile.name == username
    user = profile.user
    assert user.email == f"{username}@example.com"
    assert not user.has_usable_password()
    assert not user.is_staff
    assert not server_side(lambda: OneTimePassword.objects.filter(user=user).exists())
    identity = server_side(lambda: ExternalIdentity.objects.get(user=user))
    assert identity.issuer == idp.issuer
    assert server_side(lambda: settled_profile(username)).status == "InService"


def test_a_group_mapped_to_admin_gives_the_admin_role_and_the_console(
    studio, mappings, person, server_side, page
):
    from playwright.sync_api import expect

    username, password = person(["ml-users", "ml-admins"])
    sign_in(page, studio, username, password)
    expect(page).to_have_url(f"{studio}/")

    # Both groups map into `research`; the higher role wins.
    profile = server_side(lambda: settled_profile(username))
    assert profile.role == "Admin"
    assert profile.user.is_staff
    page.goto(f"{studio}/admin/domains/userprofile/")
    expect(page.get_by_role("link", name=username)).to_be_visible()


def test_an_unmapped_person_is_refused_with_a_page_saying_why_and_gets_no_account(
    studio, mappings, person, server_side, page, artifacts
):
    from playwright.sync_api import expect

    username, password = person(["sales"])
    seen = callbacks(page)
    sign_in(page, studio, username, password)

    assert [r.status for r in seen] == [403]
    expect(page.get_by_role("alert")).to_contain_text(NOT_ASSIGNED)
    expect(page.get_by_role("alert")).to_contain_text("Ask your Studio administrator")
    page.screenshot(path=artifacts / "oidc-not-assigned.png")
    page.goto(f"{studio}/")
    expect(page).to_have_url(re.compile(re.escape(f"{studio}/login/")))
    from django.contrib.auth import get_user_model

    assert not server_side(lambda: get_user_model().objects.filter(username=username).exists())
    assert not server_side(lambda: ExternalIdentity.objects.exists())


def test_a_second_sign_in_is_the_same_user_not_a_new_one(
    studio, mappings, person, server_side, page
):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    username, password = person(["ml-users"])
    sign_in(page, studio, username, password)
    expect(page).to_have_url(f"{studio}/")
    first = server_side(lambda: settled_profile(username))

    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(f"{studio}/login/")))
    sign_in_again(page, studio)
    expect(page).to_have_url(f"{studio}/")
    expect(page.locator(".usermenu-name")).to_have_text(username)

    users = server_side(lambda: set(get_user_model().objects.values_list("username", flat=True)))
    # The domain's creator and this person, once.
    assert users == {"root", username}
    assert server_side(lambda: ExternalIdentity.objects.count()) == 1
    assert server_side(lambda: UserProfile.objects.filter(user_id=first.user.pk).count()) == 1


def test_a_changed_group_at_the_provider_changes_the_role_at_the_next_sign_in(
    studio, mappings, person, idp, server_side, page
):
    from playwright.sync_api import expect

    username, password = person(["ml-users"])
    sign_in(page, studio, username, password)
    expect(page).to_have_url(f"{studio}/")
    assert server_side(lambda: settled_profile(username)).role == "Member"

    idp.set_groups(username, ["ml-admins"])
    sign_out(page)
    sign_in_again(page, studio)
    expect(page).to_have_url(f"{studio}/")
    promoted = server_side(lambda: profile_of(username))
    assert promoted.role == "Admin"
    assert promoted.user.is_staff

    idp.set_groups(username, ["ml-users"])
    sign_out(page)
    sign_in_again(page, studio)
    expect(page).to_have_url(f"{studio}/")
    demoted = server_side(lambda: profile_of(username))
    assert demoted.role == "Member"
    assert not demoted.user.is_staff


def test_a_deactivated_account_is_signed_out_and_cannot_sign_in_again(
    studio, mappings, person, server_side, page
):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    username, password = person(["ml-users"])
    sign_in(page, studio, username, password)
    expect(page).to_have_url(f"{studio}/")

    server_side(lambda: get_user_model().objects.filter(username=username).update(is_active=False))
    page.goto(f"{studio}/")
    expect(page).to_have_url(re.compile(re.escape(f"{studio}/login/")))
    # Still signed in at the provider, which vouches for them again: Studio says no.
    seen = callbacks(page)
    sign_in_again(page, studio)
    assert [r.status for r in seen] == [400]
    expect(page.get_by_role("alert")).to_contain_text("did not complete")
    page.goto(f"{studio}/")
    expect(page).to_have_url(re.compile(re.escape(f"{studio}/login/")))


def test_a_replayed_callback_url_is_refused_cleanly(studio, mappings, person, server_side, page):
    from playwright.sync_api import expect

    username, password = person(["ml-users"])
    seen = callbacks(page)
    sign_in(page, studio, username, password)
    expect(page).to_have_url(f"{studio}/")
    assert len(seen) == 1
    used = seen[0].url

    # In the same browser: the state was spent.
    response = page.goto(used)
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("already used")

    # In another browser (someone who got hold of the URL): no session comes of it.
    other = page.context.browser.new_context()
    try:
        thief = other.new_page()
        response = thief.goto(used)
        assert response.status == 400
        expect(thief.get_by_role("alert")).to_contain_text("did not complete")
        thief.goto(f"{studio}/")
        expect(thief).to_have_url(re.compile(re.escape(f"{studio}/login/")))
    finally:
        other.close()
    assert server_side(lambda: ExternalIdentity.objects.count()) == 1


def test_an_id_token_signed_in_another_algorithm_than_configured_is_refused(
    studio, mappings, person, settings, server_side, page
):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    # The provider signs with RS256; Studio told to expect ES256 must not take its word.
    settings.OIDC_RP_SIGN_ALGO = "ES256"
    username, password = person(["ml-users"])
    seen = callbacks(page)
    sign_in(page, studio, username, password)

    assert [r.status for r in seen] == [400]
    expect(page.get_by_role("alert")).to_contain_text("did not complete")
    page.goto(f"{studio}/")
    expect(page).to_have_url(re.compile(re.escape(f"{studio}/login/")))
    assert not server_side(lambda: get_user_model().objects.filter(username=username).exists())


def test_after_sign_in_only_a_page_of_studio_is_followed_as_next(studio, mappings, person, page):
    from playwright.sync_api import expect

    username, password = person(["ml-users"])
    sign_in(page, studio, username, password, next_path="https://example.com/phish")
    expect(page).to_have_url(f"{studio}/")

    page.goto(f"{studio}/oidc/authenticate/?next={quote('/keys/', safe='')}")
    page.wait_for_load_state()
    expect(page).to_have_url(f"{studio}/keys/")


def test_local_accounts_still_sign_in_with_a_password_beside_the_button(
    studio, alice_profile, page
):
    from playwright.sync_api import expect

    page.goto(f"{studio}/login/")
    expect(page.get_by_role("link", name=BUTTON)).to_be_visible()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-1")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{studio}/")
    expect(page.locator(".usermenu-name")).to_have_text("alice")


def test_with_oidc_unset_the_sign_in_page_has_no_button_and_its_urls_are_not_found(
    asgi_server, page
):
    from playwright.sync_api import expect

    page.goto(f"{asgi_server}/login/")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Sign in with"))).to_have_count(0)
    assert page.goto(f"{asgi_server}/oidc/authenticate/").status == 404
    assert page.goto(f"{asgi_server}/oidc/callback/?code=x&state=y").status == 404
