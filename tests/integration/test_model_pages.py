"""Models and Endpoints, the Deploy pages, through the Django test client: Models lists the
model of each of the domain's completed training jobs, the home page's card shows the newest,
and both navigation entries are pages of their own, not anchors on the home page.

Jobs are rows created directly (test_job_pages.make_job): what the pages show does not need
a container to have run."""

import pytest
from django.urls import reverse

from jobs.models import TrainingJob
from tests.integration import job_pages
from tests.integration.conftest import put
from tests.integration.job_pages import html_of
from tests.integration.test_job_pages import job_url, make_job
from tests.integration.training import OUTPUT

pytestmark = pytest.mark.usefixtures("live", "instance_types")
carol_elsewhere = job_pages.carol_elsewhere

HOME = reverse("dashboard:home")
MODELS = reverse("dashboard:models")
ENDPOINTS = reverse("dashboard:endpoints")
NEW = reverse("dashboard:training_job_new")


def trained(profile, name: str, **fields) -> TrainingJob:
    """A completed job that left model.tar.gz, as the runner records it."""
    model = put(f"{OUTPUT}/{name}/output/model.tar.gz", b"\x1f\x8b pretend tarball")
    return make_job(profile, name, status="Completed", model_artifacts=model, **fields)


def model_url(name: str) -> str:
    return job_url(name, "job_artifact", artifact="model.tar.gz")


def test_models_lists_the_domains_trained_models_newest_first(
    client, alice, alice_profile, bob_profile, carol, carol_elsewhere
):
    trained(
        alice_profile,
        "churn-older",
        final_metrics=[{"MetricName": "train:loss", "Value": 0.125}],
    )
    trained(bob_profile, "churn-newer", instance_type="ml.c5.xlarge")
    make_job(alice_profile, "still-running")
    make_job(alice_profile, "gave-up", status="Failed")
    make_job(alice_profile, "left-nothing", status="Completed")
    trained(carol_elsewhere, "vision-model")

    client.force_login(alice)
    html = html_of(client, MODELS)
    for name in ("churn-older", "churn-newer"):
        assert f'href="{job_url(name)}"' in html
        assert f'href="{model_url(name)}"' in html
    assert html.index("churn-newer") < html.index("churn-older")
    assert "train:loss = 0.125" in html
    assert "linear-learner" in html and "ml.c5.xlarge" in html
    for absent in ("still-running", "gave-up", "left-nothing", "vision-model"):
        assert absent not in html
    assert "No trained models yet" not in html

    client.force_login(carol)
    html = html_of(client, MODELS)
    assert f'href="{model_url("vision-model")}"' in html
    assert "churn-older" not in html and "churn-newer" not in html


def test_the_home_card_shows_the_newest_models_and_links_to_models(client, alice, alice_profile):
    for i in range(4):
        trained(alice_profile, f"model-{i}")
    client.force_login(alice)
    html = html_of(client, HOME)
    # Rows are created in order, so model-3 is the newest; the card shows three.
    for name in ("model-3", "model-2", "model-1"):
        assert f'href="{model_url(name)}"' in html
    assert f'href="{model_url("model-0")}"' not in html
    assert "No models yet" not in html
    assert f'href="{MODELS}"' in html


def test_empty_models_say_where_models_come_from(client, alice, alice_profile):
    make_job(alice_profile, "still-running")
    client.force_login(alice)
    html = html_of(client, MODELS)
    assert "No trained models yet" in html
    assert "completed training job" in html
    assert f'href="{NEW}"' in html
    assert "still-running" not in html
    assert "No models yet" in html_of(client, HOME)


def test_navigation_entries_are_pages_not_anchors(client, alice, alice_profile):
    client.force_login(alice)
    home = html_of(client, HOME)
    assert "#models" not in home and "#endpoints" not in home
    for url in (MODELS, ENDPOINTS):
        assert f'href="{url}"' in home
        html = html_of(client, url)
        assert f'<a href="{url}" class="active">' in html  # the entry marks its own page
    endpoints = html_of(client, ENDPOINTS)
    assert "No endpoints yet" in endpoints
    assert "real-time endpoint" in endpoints and "serverless endpoint" in endpoints
    assert f'href="{MODELS}"' in endpoints


def test_pages_need_a_sign_in(client):
    for url in (MODELS, ENDPOINTS):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
