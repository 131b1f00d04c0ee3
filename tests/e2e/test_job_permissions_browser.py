"""A member sees Stop only on jobs she may stop (issue 10, item 6): on a colleague's running
training or processing job in the same domain, which she may read, the page offers no Stop,
while the colleague sees one on the same page. The buttons come from the same policy check the
service makes when the Stop is posted."""

import pytest

from studio.core.lifecycle import transition
from tests.e2e.pages import sign_in
from tests.integration import conftest as integration
from tests.integration.test_job_pages import make_job
from tests.integration.test_processing_pages import make_processing_job

pytestmark = pytest.mark.e2e
instance_types = integration.instance_types


@pytest.fixture
def bobs_jobs(instance_types, bob_profile, alice_profile, server_side):
    jobs = [make_job(bob_profile, "bobs-training"), make_processing_job(bob_profile, "bobs-prep")]
    yield jobs
    # Rows nothing runs: ended here, so that nothing waits for them to stop.
    for job in jobs:
        server_side(lambda job=job: transition(job, "Completed"))


@pytest.mark.parametrize("path", ["/jobs/training/bobs-training/", "/jobs/processing/bobs-prep/"])
def test_a_member_sees_no_stop_on_a_colleagues_job_that_its_owner_sees(
    bobs_jobs, path, asgi_server, page, artifacts
):
    from playwright.sync_api import expect

    sign_in(page, asgi_server, path)
    expect(page.locator(".page-header")).to_contain_text("InProgress")
    expect(page.locator("#stop-job")).to_have_count(0)
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    page.screenshot(path=artifacts / f"no-stop-{path.split('/')[2]}.png")

    page.context.clear_cookies()
    sign_in(page, asgi_server, path, username="bob", password="bob-pass-1")
    expect(page.locator("#stop-job")).to_be_visible()
    expect(page.locator("#stop-job")).to_be_enabled()
