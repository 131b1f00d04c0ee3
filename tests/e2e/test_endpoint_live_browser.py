"""A real browser on an endpoint's page and on the endpoints list follows the endpoint over the
dashboard's websocket: an instance's change (which leaves the endpoint's status as it is, so
the charts' poll cannot tell) and the endpoint's own status show without a reload; the list's
badge follows with no polling of its own. Rows are made as the worker would leave them."""

import pytest

from studio.core.lifecycle import transition
from tests.e2e.pages import sign_in
from tests.integration import conftest as integration
from tests.integration.test_endpoint_pages import instance, make_endpoint

pytestmark = pytest.mark.e2e
instance_types = integration.instance_types


@pytest.mark.usefixtures("instance_types")
def test_the_endpoint_page_and_list_follow_the_endpoint_live(
    domain, alice_profile, asgi_server, page, artifacts, server_side
):
    from playwright.sync_api import expect

    endpoint = server_side(lambda: make_endpoint(alice_profile, "live-ep"))
    serving = server_side(lambda: instance(endpoint))
    sign_in(page, asgi_server, "/endpoints/live-ep/")
    root = page.locator("#endpoint")
    expect(root).to_have_attribute("data-subscribed", "true", timeout=10_000)
    page.evaluate("window.__notReloaded = true")
    row = page.locator(f'#instances tr[data-instance="{serving.label}"]')
    expect(row).to_contain_text("InService")

    server_side(lambda: transition(serving, "Draining"))
    expect(row).to_contain_text("Draining", timeout=5_000)
    server_side(lambda: transition(endpoint, "Updating"))
    expect(page.locator(".page-header [data-status-of]")).to_have_text("Updating", timeout=5_000)
    expect(page.locator("#endpoint-status")).to_have_text("Updating", timeout=5_000)
    assert page.evaluate("window.__notReloaded") is True
    # An instance's event is the page's to show in place: no "Reload" toast for it.
    expect(page.locator("#toast")).to_be_hidden()
    page.screenshot(path=artifacts / "endpoint-live.png", full_page=True)

    page.goto(f"{asgi_server}/endpoints/")
    badge = page.locator(f'[data-status-of="Endpoint:{endpoint.resource_id}"]')
    expect(badge).to_have_text("Updating")
    expect(page.locator("#live")).to_have_attribute("data-live-state", "live")
    server_side(lambda: transition(endpoint, "InService"))
    expect(badge).to_have_text("InService", timeout=5_000)
