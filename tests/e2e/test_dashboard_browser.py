"""A real browser signs in and watches a status change arrive over the websocket."""

import pytest

from domains.models import Domain
from domains.services import resume_user_profile, suspend_user_profile
from studio.core.lifecycle import transition

pytestmark = pytest.mark.e2e


def test_dashboard_shows_status_changes_live(
    domain, root, alice_profile, asgi_server, page, server_side, artifacts
):
    from playwright.sync_api import expect

    # The test thread may not touch the ORM once Playwright runs (see `server_side`).
    profile_id = f"{domain.domain_id}/{alice_profile.name}"
    page.goto(asgi_server + "/")
    expect(page).to_have_url(f"{asgi_server}/login/?next=/")
    page.screenshot(path=artifacts / "login.png")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-1")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{asgi_server}/")
    expect(page.locator(".page-header .eyebrow")).to_have_text(domain.name)
    badge = page.locator(f'[data-status-of="Domain:{domain.domain_id}"]')
    expect(badge).to_have_text("InService")
    expect(page.locator("#live")).to_have_attribute("data-live-state", "live")
    # A marker that a reload would wipe: the changes below must arrive without one.
    page.evaluate("window.__notReloaded = true")

    server_side(lambda: transition(Domain.objects.get(pk=domain.pk), "Updating"))
    expect(badge).to_have_text("Updating")
    expect(badge).to_have_attribute("data-status", "Updating")

    banner = page.locator(f'.banner[data-suspended-of="UserProfile:{profile_id}"]')
    expect(banner).to_be_hidden()
    server_side(lambda: suspend_user_profile(root, domain.domain_id, alice_profile.name))
    expect(banner).to_be_visible()
    page.screenshot(path=artifacts / "dashboard-live.png", full_page=True)

    server_side(lambda: transition(Domain.objects.get(pk=domain.pk), "InService"))
    server_side(lambda: resume_user_profile(root, domain.domain_id, alice_profile.name))
    expect(badge).to_have_text("InService")
    expect(banner).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True

    page.get_by_role("link", name="Domain", exact=True).click()
    expect(page.locator("table")).to_contain_text(alice_profile.name)
    page.screenshot(path=artifacts / "domain.png", full_page=True)


@pytest.fixture
def alice_in_vision(make_domain, make_profile, alice):
    """Alice with profiles in two domains; returns the pk of the one in "vision"."""
    make_profile(make_domain("research"), alice, "alice-r")
    return str(make_profile(make_domain("vision"), alice, "alice-v").pk)


def test_domain_switcher_and_sign_out(alice_in_vision, asgi_server, page, artifacts):
    from playwright.sync_api import expect

    vision_pk = alice_in_vision

    page.goto(asgi_server + "/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".page-header .eyebrow")).to_have_text("research")

    # Choosing another domain submits the switcher form at once (live.js), no button needed.
    page.locator("#switch-profile").select_option(vision_pk)
    expect(page.locator(".page-header .eyebrow")).to_have_text("vision")
    expect(page.locator("body")).to_have_attribute("data-profile", vision_pk)
    expect(page.locator("#live")).to_have_attribute("data-live-state", "live")

    page.locator(".usermenu summary").click()
    page.screenshot(path=artifacts / "switcher-and-menu.png")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{asgi_server}/login/")
