"""A real browser starts JupyterLab in a space, presses Stop, and the space reads "Stopped",
live, without a reload: never SageMaker's "Deleted" (the App status after DeleteApp, which
reads as if the space's files were gone), with its files said to be kept, and with no Restart
offered (issue 10, item 3). The API keeps "Deleted": the badge's data-status still says it."""

import pytest

from tests.e2e import test_notebook_browser as notebook
from tests.integration import conftest as integration

pytestmark = pytest.mark.e2e
runtime = integration.runtime
instance_types = integration.instance_types
jupyter = notebook.jupyter
stop_apps = notebook.stop_apps

# Every text any App badge on the page showed, in order, from the page's first paint: a badge
# swapped in by spaces.js or patched by live.js is seen as soon as it changes.
RECORD_BADGES = """() => {
  window.__notReloaded = true;
  window.__badges = [];
  const record = () => {
    document.querySelectorAll('[data-status-of^="App:"]').forEach((el) => {
      const text = el.textContent.trim();
      if (window.__badges[window.__badges.length - 1] !== text) window.__badges.push(text);
    });
  };
  record();
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}"""


# The status words do not depend on where the app runs: one runtime is enough.
@pytest.mark.parametrize("runtime", ["docker"], indirect=True)
def test_a_stopped_space_reads_stopped_live_and_offers_no_restart(
    jupyter, domain, alice_profile, asgi_server, page, artifacts, stop_apps
):
    from playwright.sync_api import expect

    name = "status-lab"
    studio = asgi_server.replace("127.0.0.1", "localhost")
    page.goto(studio + "/login/?next=/spaces/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Space name").fill(name)
    page.get_by_role("button", name="Create space").click()
    row = page.locator(f'tr[data-space="{name}"]')
    expect(row.locator('[data-status-of^="Space:"]')).to_have_text("InService", timeout=30_000)
    expect(row.get_by_text("Not started")).to_be_visible()
    row.get_by_role("link", name=name).click()

    space = page.locator("#space")
    expect(space).to_have_attribute("data-subscribed", "true", timeout=10_000)
    badge = page.locator("#app-status")
    expect(badge).to_have_text("Not started")
    expect(page.locator("#restart-app")).to_have_count(0)
    page.evaluate(RECORD_BADGES)

    page.get_by_role("button", name="Open JupyterLab").click()
    expect(page.locator("#open-lab-tab")).to_be_visible(timeout=120_000)
    expect(badge).to_have_text("Running")
    expect(badge).to_have_attribute("data-status", "InService")
    # Restart means something only now, while it runs.
    expect(page.locator("#restart-app")).to_be_visible()

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.locator("#stop-app").click()
    assert asked == [f"Stop JupyterLab in {name}? Running kernels stop; your files are kept."]
    expect(badge).to_have_text("Stopped", timeout=60_000)
    # The API's status is kept where scripts and styles read it.
    expect(badge).to_have_attribute("data-status", "Deleted")
    expect(page.locator("#pane-title")).to_have_text("Stopped — your files are kept")
    expect(page.locator("#restart-app")).to_have_count(0)
    expect(page.locator("#stop-app")).to_have_count(0)
    expect(page.get_by_role("button", name="Open JupyterLab")).to_be_enabled()
    page.screenshot(path=artifacts / "space-stopped.png")
    assert page.evaluate("window.__notReloaded") is True
    shown = page.evaluate("window.__badges")
    assert "Deleted" not in shown, f"the badge said: {shown}"
    assert shown[0] == "Not started" and shown[-1] == "Stopped", f"the badge said: {shown}"
    assert "Running" in shown, f"the badge said: {shown}"
    assert "Deleted" not in page.locator("body").inner_text()

    page.goto(studio + "/spaces/")
    row = page.locator(f'tr[data-space="{name}"]')
    expect(row.locator('[data-status-of^="App:"]')).to_have_text("Stopped")
    expect(row).to_contain_text("your files are kept")
    assert "Deleted" not in page.locator("body").inner_text()
