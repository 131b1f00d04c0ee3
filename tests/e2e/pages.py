"""Steps the browser tests take alike on the dashboard: signing in, and following a job's page
as it changes over the websocket. Playwright is imported where used, as the tests do, so that
collecting them needs no browser."""

from typing import Any


def sign_in(
    page: Any, server: str, next_path: str, username: str = "alice", password: str = "alice-pass-1"
) -> None:
    """Sign in (as alice unless told) from the login page, which then opens `next_path`."""
    page.goto(f"{server}/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


class LiveJobPage:
    """A job's page just opened (its form's redirect), once it is subscribed to the job's
    events. It is marked in a way a reload would wipe, so that `assert_not_reloaded` proves
    that what the test saw since arrived over the websocket."""

    def __init__(self, page: Any, server: str, view_prefix: str, resource_type: str, name: str):
        from playwright.sync_api import expect

        expect(page).to_have_url(f"{server}/jobs/{view_prefix}/{name}/")
        expect(page.locator("#job")).to_have_attribute("data-subscribed", "true", timeout=10_000)
        page.evaluate("window.__notReloaded = true")
        self.page = page
        # Events name a job "<domain id>/<name>" (names are unique per domain only).
        resource_id = page.locator("#job").get_attribute("data-job")
        assert resource_id.endswith(f"/{name}"), resource_id
        self.key = f"{resource_type}:{resource_id}"
        self.badge = page.locator(f'.page-header [data-status-of="{self.key}"]')
        self.log = page.locator('pre.log[data-log-host="algo-1"]')

    def assert_not_reloaded(self) -> None:
        assert self.page.evaluate("window.__notReloaded") is True

    def expect_listed_as(self, status: str) -> None:
        """Go to the jobs list, where the job's row shows `status`."""
        from playwright.sync_api import expect

        self.page.get_by_role("link", name="Jobs", exact=True).click()
        expect(self.page.locator(f'[data-status-of="{self.key}"]')).to_have_text(status)
