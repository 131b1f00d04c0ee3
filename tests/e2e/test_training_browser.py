"""A real browser starts a training job from the form and watches it run: log lines and a
metric chart grow over the websocket, and the job ends Completed, on each runtime."""

import pytest

from tests.e2e.pages import LiveJobPage, sign_in
from tests.integration import conftest as integration
from tests.integration.conftest import put
from tests.integration.training import DATA, separable_csv

pytestmark = pytest.mark.e2e
# The workload fixtures: a runtime (each test runs once per runtime) and the catalog it needs.
runtime = integration.runtime
instance_types = integration.instance_types

EPOCHS = 12
# A user's script as the SageMaker SDK would run it: reads its channel and hyperparameters from
# SM_*, prints one loss line an epoch (slowly enough for the page to watch it), saves a model.
TRAIN_PY = """
import os, time
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv")).read().splitlines()
epochs = int(os.environ["SM_HP_EPOCHS"])
print(f"read {len(rows)} rows", flush=True)
for epoch in range(1, epochs + 1):
    print(f"epoch {epoch} loss={1.0 / epoch:.4f}", flush=True)
    time.sleep(0.5)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write("weights")
"""


def test_start_a_training_job_and_watch_it_live(
    runtime, domain, alice_profile, asgi_server, page, artifacts, tmp_path
):
    from playwright.sync_api import expect

    put(DATA, separable_csv(100))
    script = tmp_path / "train.py"
    script.write_text(TRAIN_PY)
    name = f"e2e-{runtime}"

    sign_in(page, asgi_server, "/jobs/")
    expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    page.get_by_role("link", name="Start a training job").click()

    page.get_by_label("Job name").fill(name)
    page.get_by_label("Training data URI").fill(DATA)
    page.get_by_label("Built-in algorithm").select_option("")
    page.get_by_label("Your own script").set_input_files(script)
    page.get_by_label("Hyperparameters").fill(f"epochs={EPOCHS}")
    page.get_by_label("Metric definitions").fill("train:loss=loss=([0-9.]+)")
    page.get_by_label("Instance type").select_option("ml.m5.large")
    page.get_by_label("Max runtime (seconds)").fill("300")
    page.screenshot(path=artifacts / f"training-form-{runtime}.png", full_page=True)
    page.get_by_role("button", name="Start training job").click()

    # Everything below must arrive over the websocket.
    job = LiveJobPage(page, asgi_server, "training", "TrainingJob", name)
    badge, log = job.badge, job.log
    chart = page.locator('figure.chart[data-metric="train:loss"]')

    # Seen with a few points while the job runs, then seen with more: the chart grows live.
    expect(log).to_contain_text("epoch 2 loss=0.5000", timeout=60_000)
    expect(chart).to_be_visible()
    seen = int(chart.get_attribute("data-points"))
    assert seen < EPOCHS, "the job ended before the page saw it run"
    expect(badge).to_have_text("InProgress")
    expect(page.locator("#training-time")).not_to_have_text("—")
    expect(page.locator(".job-flash")).to_contain_text(f"{name} was created")
    expect(page.locator("#cost")).to_contain_text("$")
    page.screenshot(path=artifacts / f"training-running-{runtime}.png", full_page=True)
    expect(chart).not_to_have_attribute("data-points", str(seen))

    expect(badge).to_have_text("Completed", timeout=90_000)
    expect(chart).to_have_attribute("data-points", str(EPOCHS))
    expect(log).to_contain_text(f"epoch {EPOCHS} loss=")
    expect(page.locator("#secondary-status")).to_have_text("Completed")
    expect(page.locator("#timeline")).to_contain_text("Uploading")
    expect(page.get_by_role("link", name="model.tar.gz")).to_be_visible()
    # Ended: no Stop at all, and the form's "was created" gone with it.
    expect(page.locator("#stop-job")).to_have_count(0)
    expect(page.locator(".job-flash")).to_have_count(0)
    job.assert_not_reloaded()
    page.screenshot(path=artifacts / f"training-completed-{runtime}.png", full_page=True)

    job.expect_listed_as("Completed")
    page.screenshot(path=artifacts / f"jobs-list-{runtime}.png", full_page=True)


def test_a_builtins_bad_hyperparameter_is_refused_on_the_form(
    instance_types, domain, alice_profile, asgi_server, page, server_side, artifacts
):
    from playwright.sync_api import expect

    from jobs.models import TrainingJob

    put(DATA, separable_csv(100))
    name = "e2e-hyperparameters"

    sign_in(page, asgi_server, "/jobs/")
    page.get_by_role("link", name="Start a training job").click()
    form_url = page.url
    page.get_by_label("Job name").fill(name)
    page.get_by_label("Training data URI").fill(DATA)
    page.get_by_label("Built-in algorithm").select_option("linear-learner")
    page.get_by_label("Hyperparameters").fill("predictor_type=banana")
    page.get_by_label("Instance type").select_option("ml.m5.large")
    page.get_by_label("Max runtime (seconds)").fill("300")
    page.get_by_role("button", name="Start training job").click()

    # Refused at submit, on the hyperparameters field, in words; the job was never created.
    expect(page.locator("#hyperparameters-error")).to_have_text(
        "predictor_type: must be one of binary_classifier, "
        "multiclass_classifier, regressor, not 'banana'."
    )
    expect(page.get_by_label("Hyperparameters")).to_have_value("predictor_type=banana")
    assert page.url == form_url
    page.screenshot(path=artifacts / "training-form-bad-hyperparameter.png", full_page=True)
    assert not server_side(lambda: TrainingJob.objects.filter(name=name).exists())

    # Corrected, the same name is still free: the job starts under it.
    page.get_by_label("Hyperparameters").fill("predictor_type=binary_classifier")
    page.get_by_role("button", name="Start training job").click()
    LiveJobPage(page, asgi_server, "training", "TrainingJob", name)
