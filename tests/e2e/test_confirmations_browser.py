"""Stops and deletes ask first, in words that say what happens (issue 10, item 6): a "no"
leaves the thing as it was, a "yes" does it. The question names the thing."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from domains.services import create_access_key, create_app, create_space
from jobs.services import create_training_job, upload_dataset
from tests.conftest import settled
from tests.e2e import test_notebook_browser as notebook
from tests.e2e.pages import LiveJobPage, sign_in
from tests.integration import conftest as integration
from tests.integration.conftest import put
from tests.integration.notebooks import running
from tests.integration.training import DATA, request, separable_csv

pytestmark = pytest.mark.e2e
runtime = integration.runtime
instance_types = integration.instance_types
jupyter = notebook.jupyter
stop_apps = notebook.stop_apps


class Dialogs:
    """Answers the page's next confirm() with `answer` and keeps what each one asked."""

    def __init__(self, page):
        self.asked: list[str] = []
        self.answer = "dismiss"
        page.on("dialog", self._handle)

    def _handle(self, dialog) -> None:
        assert dialog.type == "confirm", dialog.type
        self.asked.append(dialog.message)
        getattr(dialog, self.answer)()


@pytest.fixture
def key_id(alice, alice_profile):
    """An access key of alice's, made before the browser starts (its event loop bars the ORM)."""
    key, _secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return key.access_key_id


@pytest.fixture
def dataset(alice, alice_profile):
    upload = SimpleUploadedFile("iris.csv", separable_csv(20).encode(), "text/csv")
    return upload_dataset(alice, alice_profile.domain.domain_id, name="iris", uploaded_file=upload)


# A script that runs long enough for the page to stop it.
SLEEP_PY = "import time\nprint('started', flush=True)\ntime.sleep(240)\n"


@pytest.fixture
def sleeping_job(runtime, alice, alice_profile):
    put(DATA, separable_csv(20))
    spec = request(
        "sleeper",
        AlgorithmSpecification={"TrainingImage": "studio/sklearn:latest"},
        HyperParameters={},
    )
    code = SimpleUploadedFile("train.py", SLEEP_PY.encode(), "text/x-python")
    return create_training_job(alice, alice_profile.domain.domain_id, spec, code=code)


@pytest.fixture
def running_lab(jupyter, alice, alice_profile, stop_apps):
    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="lab"))
    return running(create_app(alice, domain_id, space_name="lab"))


def test_deactivating_or_deleting_an_access_key_asks_first(key_id, asgi_server, page):
    from playwright.sync_api import expect

    dialogs = Dialogs(page)
    sign_in(page, asgi_server, "/keys/")
    row = page.locator(f'tr[data-key="{key_id}"]')
    status = row.locator("[data-status]")
    expect(status).to_have_text("Active")

    row.get_by_role("button", name="Deactivate").click()
    assert dialogs.asked == [
        f"Deactivate access key {key_id}? Clients using it stop working until you reactivate it."
    ]
    row.get_by_role("button", name="Delete").click()
    assert dialogs.asked[1] == f"Delete access key {key_id}? Clients using it stop working."
    page.reload()  # what the server has now: a declined form was never sent
    expect(status).to_have_text("Active")

    dialogs.answer = "accept"
    row.get_by_role("button", name="Deactivate").click()
    expect(status).to_have_text("Inactive")
    assert len(dialogs.asked) == 3
    row.get_by_role("button", name="Reactivate").click()  # undoes nothing: no question
    expect(status).to_have_text("Active")
    assert len(dialogs.asked) == 3
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text(f"Access key {key_id} deleted")
    expect(row).to_have_count(0)
    assert len(dialogs.asked) == 4


def test_deleting_a_dataset_asks_first(dataset, asgi_server, page):
    from playwright.sync_api import expect

    dialogs = Dialogs(page)
    detail = f"/datasets/{dataset.domain.domain_id}/iris/"
    sign_in(page, asgi_server, detail)
    expect(page.get_by_role("heading", name="iris", level=1)).to_be_visible()

    page.get_by_role("button", name="Delete").click()
    assert dialogs.asked == [
        "Delete dataset iris? Its uploaded files are deleted too; "
        "jobs that already used it keep their outputs."
    ]
    expect(page).to_have_url(asgi_server + detail)
    page.goto(asgi_server + "/datasets/")
    expect(page.get_by_role("link", name="iris", exact=True)).to_be_visible()

    page.goto(asgi_server + detail)
    dialogs.answer = "accept"
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(asgi_server + "/datasets/")
    expect(page.get_by_role("link", name="iris", exact=True)).to_have_count(0)
    assert len(dialogs.asked) == 2


# The question does not depend on where the job runs: one runtime is enough.
@pytest.mark.parametrize("runtime", ["sandbox"], indirect=True)
def test_stopping_a_training_job_asks_first(sleeping_job, asgi_server, page):
    from playwright.sync_api import expect

    dialogs = Dialogs(page)
    sign_in(page, asgi_server, "/jobs/training/sleeper/")
    job = LiveJobPage(page, asgi_server, "training", "TrainingJob", "sleeper")
    expect(job.log).to_contain_text("started", timeout=60_000)

    page.locator("#stop-job").click()
    assert dialogs.asked == [
        "Stop training job sleeper? Its containers are stopped; what it wrote so far is kept."
    ]
    page.reload()
    expect(job.badge).to_have_text("InProgress")
    expect(job.log).to_contain_text("started")

    # Once the page is live again (the Stop form may have been swapped in since).
    expect(page.locator("#job")).to_have_attribute("data-subscribed", "true", timeout=10_000)
    dialogs.answer = "accept"
    page.locator("#stop-job").click()
    expect(job.badge).to_have_text(re.compile("Stopping|Stopped"))
    expect(job.badge).to_have_text("Stopped", timeout=60_000)
    assert len(dialogs.asked) == 2


@pytest.mark.parametrize("runtime", ["docker"], indirect=True)
def test_stopping_or_restarting_jupyterlab_asks_first(running_lab, asgi_server, page):
    from playwright.sync_api import expect

    dialogs = Dialogs(page)
    sign_in(page, asgi_server.replace("127.0.0.1", "localhost"), "/spaces/lab/")
    badge = page.locator("#app-status")
    expect(page.locator("#space")).to_have_attribute("data-subscribed", "true", timeout=10_000)
    expect(badge).to_have_text("Running")

    # These forms post in the background (spaces.js): a "no" must stop that too. The page
    # reloads after the answers, so a post they let out is seen before the reload.
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.locator("#restart-app").click()
    page.locator("#stop-app").click()
    assert dialogs.asked == [
        "Restart JupyterLab in lab? Running kernels stop and lose what they hold in memory; "
        "your files are kept.",
        "Stop JupyterLab in lab? Running kernels stop; your files are kept.",
    ]
    page.reload()
    expect(badge).to_have_text("Running")
    assert posts == []
    expect(page.locator("#space")).to_have_attribute("data-subscribed", "true", timeout=10_000)

    dialogs.answer = "accept"
    page.locator("#stop-app").click()
    expect(badge).to_have_text("Stopped", timeout=60_000)
    assert len(dialogs.asked) == 3
