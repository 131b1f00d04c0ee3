"""A real browser deploys a finished training job's model from the job's page, watches the
endpoint come InService, asks it for predictions with Try it, and sees the latency chart take
the invocations in; on each runtime. The worker deploys real serving containers, and Try it's
requests go through the live server's router with the browser's session."""

import json

import pytest

from tests.e2e.pages import sign_in
from tests.integration import conftest as integration
from tests.integration.hosting import iris_model, store_model
from tests.integration.job_pages import dataset
from tests.integration.test_job_pages import make_job
from tests.integration.training import DATA, OUTPUT

pytestmark = pytest.mark.e2e
runtime = integration.runtime
instance_types = integration.instance_types

JOB = "iris-trained"
ROW = [5.1, 3.5, 1.4, 0.2]


def finished_job(profile):
    """A Completed training job whose model.tar.gz is an iris classifier the sklearn image
    serves, trained on the dataset `iris` (label first, as built-in algorithms read it)."""
    estimator, _ = iris_model()
    uri = store_model(f"{OUTPUT}/{JOB}/output/model.tar.gz", estimator)
    iris = dataset(profile, "iris", DATA)
    iris.preview = [[0, *ROW]]
    iris.save(update_fields=["preview"])
    make_job(profile, JOB, "Completed", model_artifacts=uri)
    return estimator


def test_deploy_a_trained_model_try_it_and_watch_the_latency_chart(
    runtime, domain, alice_profile, asgi_server, page, artifacts, server_side
):
    from playwright.sync_api import expect

    estimator = server_side(lambda: finished_job(alice_profile))
    expected = int(estimator.predict([ROW])[0])
    name = f"iris-{runtime}"

    sign_in(page, asgi_server, f"/jobs/training/{JOB}/")
    page.locator("#deploy-job").click()
    expect(page.get_by_role("heading", name=f"Deploy {JOB}")).to_be_visible()
    page.get_by_label("Model name").fill(name)
    page.get_by_label("Endpoint name").fill(name)
    page.get_by_label("Instance type").select_option("ml.m5.large")
    page.screenshot(path=artifacts / f"deploy-form-{runtime}.png", full_page=True)
    page.get_by_role("button", name="Deploy", exact=True).click()

    expect(page).to_have_url(f"{asgi_server}/endpoints/{name}/")
    badge = page.locator(".page-header [data-status-of]")
    expect(badge).to_have_text("InService", timeout=120_000)
    expect(page.locator("#instances")).to_contain_text("InService")
    page.screenshot(path=artifacts / f"endpoint-inservice-{runtime}.png", full_page=True)

    # Try it: the textarea holds a row of the training data's width, without its label.
    body = page.locator("#try-body")
    expect(body).to_have_value(",".join(str(v) for v in ROW))
    latency = page.locator('figure.chart[data-metric="latency p50 (ms)"]')
    expect(latency).to_have_attribute("data-points", "0")
    page.get_by_label("Accept").select_option("application/json")
    for _ in range(3):
        page.locator("#try-send").click()
        expect(page.locator("#try-send")).to_have_text("Send")
    expect(page.locator("#try-status")).to_have_text("200 OK")
    expect(page.locator("#try-variant")).to_have_text("AllTraffic")
    expect(page.locator("#try-latency")).to_contain_text(" ms")
    answer = json.loads(page.locator("#try-response").text_content())
    assert answer["predictions"] == [expected]

    # The charts poll every 2 s: the invocations reach them within a few polls.
    expect(latency).not_to_have_attribute("data-points", "0", timeout=20_000)

    # A body the model cannot read is answered in words, not a crash.
    body.fill("not,a,number")
    page.locator("#try-send").click()
    expect(page.locator("#try-response")).to_contain_text("The endpoint refused the request")
    page.screenshot(path=artifacts / f"endpoint-try-it-{runtime}.png", full_page=True)

    # Deleting it from its page.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-endpoint").click()
    expect(page).to_have_url(f"{asgi_server}/endpoints/")
    expect(page.locator(".banner-success")).to_contain_text(f"Deleting endpoint {name}")
