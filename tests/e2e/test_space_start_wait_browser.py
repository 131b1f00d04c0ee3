"""A real browser starts JupyterLab while no worker runs: instead of a bare "Waiting for a
worker…", the progress line says no worker is running and to ask an admin; once the worker is
back, the same page goes on to JupyterLab without a reload (issue 10, item 4)."""

import pytest

from tests.e2e import test_notebook_browser as notebook
from tests.e2e.pages import sign_in
from tests.integration import conftest as integration

pytestmark = pytest.mark.e2e
runtime = integration.runtime
instance_types = integration.instance_types
jupyter = notebook.jupyter
stop_apps = notebook.stop_apps


# What the line says does not depend on where the app runs: one runtime is enough.
@pytest.mark.parametrize("runtime", ["docker"], indirect=True)
def test_a_start_with_no_worker_says_so_and_goes_on_when_one_runs(
    jupyter,
    domain,
    alice,
    alice_profile,
    asgi_server,
    page,
    artifacts,
    stop_apps,
    celery_worker,
    server_side,
):
    from playwright.sync_api import expect

    from domains.services import create_space
    from tests.conftest import settled

    server_side(lambda: settled(create_space(alice, domain.domain_id, name="waiting-lab")))
    # As the other space tests: the dashboard on localhost, spaces on sp-<digest>.localhost.
    sign_in(page, asgi_server.replace("127.0.0.1", "localhost"), "/spaces/waiting-lab/")
    expect(page.locator("#space")).to_have_attribute("data-subscribed", "true", timeout=10_000)
    page.evaluate("window.__notReloaded = true")

    celery_worker.stop()
    try:
        page.get_by_role("button", name="Open JupyterLab").click()
        line = page.locator("#progress-step")
        expect(line).to_have_attribute("data-wait", "no-worker", timeout=10_000)
        expect(line).to_contain_text("No Studio worker is running")
        expect(line).to_contain_text("Ask your admin")
        page.screenshot(path=artifacts / "space-start-no-worker.png")
    finally:
        celery_worker.start()
    expect(page.locator("#open-lab-tab")).to_be_visible(timeout=120_000)
    assert page.evaluate("window.__notReloaded") is True
