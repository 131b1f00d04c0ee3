"""A real browser on the training form: what the form and the service refuse is said at the
field it is about, in words, with the input marked and described by it; and Start similar on a
finished job opens the form filled in from it, which starts the copy as it is."""

import re

import pytest

from tests.e2e.pages import LiveJobPage, sign_in
from tests.integration import conftest as integration
from tests.integration.conftest import put
from tests.integration.test_job_pages import make_job
from tests.integration.training import DATA, separable_csv

pytestmark = pytest.mark.e2e
instance_types = integration.instance_types

NAME_RULE = (
    "Use only letters, digits and hyphens, and begin and end with a letter or digit, at most "
    "63 characters."
)


def test_the_training_form_says_what_is_wrong_at_the_field_in_words(
    instance_types, domain, alice_profile, asgi_server, page, server_side, artifacts
):
    from playwright.sync_api import expect

    from jobs.models import TrainingJob

    put(DATA, separable_csv(100))
    sign_in(page, asgi_server, "/jobs/new/training/")
    page.get_by_label("Job name").fill("bad_name")
    page.get_by_label("Training data URI").fill(DATA)
    page.get_by_label("Built-in algorithm").select_option("linear-learner")
    hyperparameters = "predictor_type=multiclass_classifier\nnum_classes=abc"
    page.get_by_label("Hyperparameters").fill(hyperparameters)
    page.get_by_label("Instance type").select_option("ml.m5.large")
    page.get_by_role("button", name="Start training job").click()

    # The name's rule, at the name, and the input marked and described by it.
    name = page.get_by_label("Job name")
    expect(page.locator("#field-name .field-error")).to_have_text(NAME_RULE)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", re.compile(r"\bid_name_error\b"))
    expect(page.locator("main")).not_to_contain_text("regular expression")
    expect(page.locator(".banner-error")).to_have_count(0)
    # The rest is kept.
    expect(page.get_by_label("Hyperparameters")).to_have_value(hyperparameters)
    expect(page.get_by_label("Built-in algorithm")).to_have_value("linear-learner")
    page.screenshot(path=artifacts / "form-errors-name.png", full_page=True)

    # With a good name, the algorithm refuses num_classes: said by its key, at the box it is in.
    name.fill("e2e-words")
    page.get_by_role("button", name="Start training job").click()
    expect(page.locator("#field-hyperparameters .field-error")).to_have_text(
        "num_classes: must be an integer of at least 3, not 'abc'."
    )
    expect(page.get_by_label("Hyperparameters")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-name .field-error")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("HyperParameters.")
    page.screenshot(path=artifacts / "form-errors-hyperparameters.png", full_page=True)
    assert not server_side(lambda: TrainingJob.objects.exists())


def test_start_similar_opens_the_form_filled_in_from_a_finished_job(
    instance_types, domain, alice_profile, asgi_server, page, server_side, artifacts
):
    from playwright.sync_api import expect

    from jobs.models import TrainingJob

    put(DATA, separable_csv(100))
    server_side(lambda: make_job(alice_profile, "e2e-done", "Completed"))

    sign_in(page, asgi_server, "/jobs/training/e2e-done/")
    expect(page.locator("#start-similar")).to_be_visible()
    page.screenshot(path=artifacts / "start-similar-job-page.png")
    page.get_by_role("link", name="Start similar").click()
    expect(page).to_have_url(f"{asgi_server}/jobs/new/training/?from=e2e-done")
    expect(page.locator("#similar-to")).to_contain_text("e2e-done")
    expect(page.get_by_label("Job name")).to_have_value("e2e-done-2")
    expect(page.get_by_label("Built-in algorithm")).to_have_value("linear-learner")
    expect(page.get_by_label("Training data URI")).to_have_value(DATA)
    expect(page.get_by_label("Instance type")).to_have_value("ml.m5.large")
    expect(page.get_by_label("Max runtime (seconds)")).to_have_value("900")
    # (in the order the database keeps them)
    lines = page.get_by_label("Hyperparameters").input_value().splitlines()
    assert sorted(lines) == ["epochs=7", "predictor_type=binary_classifier"]
    expect(page.get_by_label("Metric definitions")).to_have_value("train:loss=loss=([0-9.]+)")
    page.screenshot(path=artifacts / "start-similar-form.png", full_page=True)

    page.get_by_role("button", name="Start training job").click()
    LiveJobPage(page, asgi_server, "training", "TrainingJob", "e2e-done-2")
    copy = server_side(lambda: TrainingJob.objects.get(name="e2e-done-2").request)
    original = server_side(lambda: TrainingJob.objects.get(name="e2e-done").request)
    assert copy["HyperParameters"] == original["HyperParameters"]
    assert (
        copy["AlgorithmSpecification"]["MetricDefinitions"]
        == (original["AlgorithmSpecification"]["MetricDefinitions"])
    )
    assert copy["StoppingCondition"] == original["StoppingCondition"]
