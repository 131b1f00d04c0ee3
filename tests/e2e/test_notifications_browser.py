"""A job of one's own that ends while one is on another page of the dashboard is announced in a
toast that links to it (issue 10, item 9); a colleague's job ending is not, and the job's own
page, which shows the end in place, has no toast either.

The jobs are rows made directly and ended server-side through the lifecycle, as a worker ends
them: the notification does not depend on what ran them."""

import pytest

from studio.core.lifecycle import transition
from tests.e2e.pages import sign_in
from tests.integration import conftest as integration
from tests.integration.test_job_pages import make_job

pytestmark = pytest.mark.e2e
instance_types = integration.instance_types

# Every text the toast showed, from now on: a toast replaced by a later one is still seen.
RECORD_TOASTS = """() => {
  window.__notReloaded = true;
  window.__toasts = [];
  const toast = document.getElementById("toast");
  new MutationObserver(() => {
    if (!toast.hidden) window.__toasts.push(toast.textContent);
  }).observe(toast, { subtree: true, childList: true, characterData: true, attributes: true });
}"""


@pytest.fixture
def jobs(instance_types, alice_profile, bob_profile):
    return {
        "mine": make_job(alice_profile, "my-churn"),
        "broken": make_job(alice_profile, "my-broken"),
        "colleagues": make_job(bob_profile, "bobs-churn"),
        "followed": make_job(alice_profile, "followed"),
    }


def test_my_job_ending_elsewhere_is_announced_with_a_link_and_a_colleagues_is_not(
    jobs, asgi_server, page, server_side, artifacts
):
    from playwright.sync_api import expect

    sign_in(page, asgi_server, "/datasets/")
    expect(page.locator("#live")).to_have_attribute("data-live-state", "live", timeout=10_000)
    page.evaluate(RECORD_TOASTS)
    toast = page.locator("#toast")

    server_side(lambda: transition(jobs["colleagues"], "Completed"))
    server_side(lambda: transition(jobs["mine"], "Completed"))
    expect(toast).to_be_visible()
    expect(toast).to_have_text("Training job my-churn completed.")
    expect(toast).not_to_have_class("toast toast-error")
    shown = page.evaluate("window.__toasts")
    assert not any("bobs-churn" in text for text in shown), shown

    server_side(
        lambda: transition(jobs["broken"], "Failed", reason="AlgorithmError: exit 2\nTraceback")
    )
    expect(toast).to_contain_text("Training job my-broken failed.")
    expect(toast.locator(".toast-reason")).to_have_text("AlgorithmError: exit 2")
    expect(toast).to_have_class("toast toast-error")
    page.screenshot(path=artifacts / "notification-failed.png")
    assert page.evaluate("window.__notReloaded") is True

    toast.get_by_role("link", name="my-broken").click()
    expect(page).to_have_url(f"{asgi_server}/jobs/training/my-broken/")
    expect(page.locator("h1")).to_contain_text("my-broken")


def test_the_jobs_own_page_shows_its_end_in_place_without_a_toast(
    jobs, asgi_server, page, server_side
):
    from playwright.sync_api import expect

    sign_in(page, asgi_server, "/jobs/training/followed/")
    expect(page.locator("#job")).to_have_attribute("data-subscribed", "true", timeout=10_000)
    page.evaluate(RECORD_TOASTS)

    server_side(lambda: transition(jobs["followed"], "Completed"))
    server_side(lambda: transition(jobs["mine"], "Completed"))
    # Another job of alice's is announced here; this page's own job is not.
    expect(page.locator("#toast")).to_have_text("Training job my-churn completed.")
    expect(page.locator('.page-header [data-status-of$="/followed"]')).to_have_text("Completed")
    shown = page.evaluate("window.__toasts")
    assert not any("followed" in text for text in shown), shown
