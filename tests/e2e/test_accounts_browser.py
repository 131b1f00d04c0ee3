"""A newcomer's password, in Chromium: an admin adds a member, who signs in with the one-time
password shown to the admin, must choose their own before any page opens, and can change it
again from the user menu; each replaced password stops working."""

import re

import pytest
from django.db import transaction

from domains.models import OneTimePassword
from tests.conftest import settled

pytestmark = pytest.mark.e2e

OWN = "dave-own-pass-1"
CHANGED = "dave-changed-pass-2"


@pytest.fixture
def one_time_password(domain, root) -> str:
    """dave, added to the domain as the console adds a user (before the browser starts: its
    event loop bars the ORM); the one-time password the console showed."""
    from domains.admin.accounts import add_profile

    with transaction.atomic():
        profile, password = add_profile(root, domain, "dave")
    settled(profile)
    assert password
    return password


def sign_in(page, server: str, password: str, next_path: str = "/") -> None:
    page.goto(f"{server}/login/?next={next_path}")
    page.get_by_label("Username").fill("dave")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page) -> None:
    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="Sign out").click()


def set_password(page, current: str, new: str) -> None:
    page.locator("#id_old_password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm new password").fill(new)
    page.locator("form.form button[type=submit]").click()


def assert_refused(page, server: str, password: str) -> None:
    from playwright.sync_api import expect

    sign_in(page, server, password)
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")
    expect(page).to_have_url(re.compile(r"/login/"))


def test_a_new_member_replaces_the_one_time_password_and_changes_it_again_from_the_menu(
    one_time_password, asgi_server, page, server_side, artifacts
):
    from playwright.sync_api import expect

    forced = re.compile(re.escape(f"{asgi_server}/account/password/"))
    sign_in(page, asgi_server, one_time_password, "/jobs/")
    expect(page).to_have_url(f"{asgi_server}/account/password/?next=%2Fjobs%2F")
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.screenshot(path=artifacts / "accounts-one-time-password.png")

    # No page opens until they have chosen one, the console included.
    for path in ("/admin/", "/", "/spaces/", "/keys/", "/jobs/new/training/", "/jobs/"):
        page.goto(asgi_server + path)
        expect(page).to_have_url(forced)

    # Keeping the one-time password is not choosing one.
    set_password(page, one_time_password, one_time_password)
    expect(page.locator(".field-error")).to_contain_text("other than your current one")

    set_password(page, one_time_password, OWN)
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    page.get_by_role("link", name="Continue to Studio").click()
    # Still signed in, on the page last asked for.
    expect(page).to_have_url(f"{asgi_server}/jobs/")
    expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    assert not server_side(lambda: OneTimePassword.objects.filter(user__username="dave").exists())

    sign_out(page)
    assert_refused(page, asgi_server, one_time_password)
    sign_in(page, asgi_server, OWN)
    expect(page).to_have_url(f"{asgi_server}/")

    # Again, from the user menu.
    page.locator(".usermenu summary").click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    page.screenshot(path=artifacts / "accounts-change-password.png")
    set_password(page, "not-my-password", CHANGED)
    expect(page.locator(".field-error")).to_contain_text("old password was entered incorrectly")
    set_password(page, OWN, CHANGED)
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    page.get_by_role("link", name="Continue to Studio").click()
    expect(page).to_have_url(f"{asgi_server}/")

    sign_out(page)
    assert_refused(page, asgi_server, OWN)
    sign_in(page, asgi_server, CHANGED)
    expect(page).to_have_url(f"{asgi_server}/")
    expect(page.locator(".usermenu-name")).to_have_text("dave")
