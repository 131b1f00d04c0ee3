"""The model registry in the dashboard, through the Django test client: Register from a
completed training job's page, a group's page (approval, who changed it and when, metrics,
lineage), Approve / Reject for whom may decide only, and Deploy of Approved versions only.

Training jobs are rows created directly (test_job_pages.make_job); versions are registered
through the service, as the job page's Register does."""

import pytest
from django.urls import reverse

from jobs.models import Endpoint, Model, ModelPackage
from jobs.services.registry import model_package_from_training_job
from tests.integration import job_pages
from tests.integration.job_pages import dataset, field_error, html_of
from tests.integration.test_endpoint_pages import deploy_data, endpoint_url, trained
from tests.integration.test_job_pages import job_url, make_job
from tests.integration.training import DATA

pytestmark = pytest.mark.usefixtures("live", "instance_types")
carol_elsewhere = job_pages.carol_elsewhere

REGISTRY = reverse("dashboard:registry")
REGISTER = reverse("dashboard:register")
DEPLOY = reverse("dashboard:deploy")


def group_url(name: str) -> str:
    return reverse("dashboard:registry_group", kwargs={"name": name})


def decide_url(name: str, version: int) -> str:
    return reverse("dashboard:registry_decide", kwargs={"name": name, "version": version})


def registered(user, profile, job_name: str, group: str = "churn") -> ModelPackage:
    """A version of `group` from a completed training job, as Register makes it."""
    trained(profile, job_name, final_metrics=[{"MetricName": "validation:auc", "Value": 0.93}])
    return model_package_from_training_job(
        user, profile.domain.domain_id, job_name, group, create_group=True
    )


def test_register_from_a_training_job_shows_the_version_with_metrics_and_lineage(
    client, alice, alice_profile
):
    dataset(alice_profile, "iris", DATA)
    trained(alice_profile, "churn-job", final_metrics=[{"MetricName": "train:loss", "Value": 0.5}])
    client.force_login(alice)
    assert 'id="register-model"' in html_of(client, job_url("churn-job"))

    response = client.post(REGISTER, {"job": "churn-job", "group": "churn"}, follow=True)
    assert response.redirect_chain == [(group_url("churn"), 302)]
    html = response.content.decode()
    assert "Registered churn-job as version 1 of churn" in html
    assert 'data-status="PendingManualApproval"' in html
    assert "registered by alice" in html
    assert "train:loss = 0.5" in html
    assert f'href="{job_url("churn-job")}"' in html
    iris = reverse("dashboard:dataset", args=[alice_profile.domain.domain_id, "iris"])
    assert f'href="{iris}"' in html
    # A pending version is not offered for deployment, and says why.
    assert 'data-deploy="1" disabled' in html and "Only Approved versions are deployed" in html
    assert 'href="' + group_url("churn") + '"' in html_of(client, REGISTRY)


def test_register_refusals_are_said_on_the_job_page(client, alice, alice_profile):
    trained(alice_profile, "churn-job")
    make_job(alice_profile, "running")
    client.force_login(alice)
    bad = client.post(REGISTER, {"job": "churn-job", "group": "bad_name"}, follow=True)
    assert bad.redirect_chain == [(job_url("churn-job"), 302)]
    assert "ModelPackageGroupName" in bad.content.decode()
    running = client.post(REGISTER, {"job": "running", "group": "churn"}, follow=True)
    assert "only a Completed job has a model to register" in running.content.decode()
    assert not ModelPackage.objects.exists()


def test_the_owner_approves_and_rejects_and_the_page_says_who_and_when(
    client, alice, alice_profile
):
    registered(alice, alice_profile, "churn-job")
    client.force_login(alice)
    response = client.post(
        decide_url("churn", 1), {"decision": "approve", "description": "AUC > 0.9"}, follow=True
    )
    html = response.content.decode()
    assert "Version 1 of churn is Approved" in html
    assert 'data-status="Approved"' in html and "Approved by alice" in html
    assert "AUC &gt; 0.9" in html
    assert f'href="{DEPLOY}?package=churn/1"' in html
    assert 'data-approve="1"' not in html and 'data-reject="1"' in html

    client.post(decide_url("churn", 1), {"decision": "reject"})
    assert ModelPackage.objects.get().approval_status == "Rejected"
    junk = client.post(decide_url("churn", 1), {"decision": "maybe"}, follow=True)
    assert "Choose Approve or Reject" in junk.content.decode()
    assert client.post(decide_url("churn", 9), {"decision": "approve"}).status_code == 404


def test_approve_and_reject_are_offered_only_to_whom_may_decide(
    client, alice, alice_profile, bob, bob_profile
):
    registered(alice, alice_profile, "churn-job")
    client.force_login(bob)
    html = html_of(client, group_url("churn"))
    assert 'data-approve="1"' not in html and 'data-reject="1"' not in html
    response = client.post(decide_url("churn", 1), {"decision": "approve"}, follow=True)
    assert "is not authorized to perform sagemaker:UpdateModelPackage" in (
        response.content.decode()
    )
    assert ModelPackage.objects.get().approval_status == "PendingManualApproval"

    client.force_login(alice)
    assert 'data-approve="1"' in html_of(client, group_url("churn"))


def test_another_domains_registry_is_not_found(
    client, alice, alice_profile, carol, carol_elsewhere
):
    registered(alice, alice_profile, "churn-job")
    client.force_login(carol)
    assert "churn" not in html_of(client, REGISTRY)
    assert client.get(group_url("churn")).status_code == 404
    assert client.get(group_url("not_a_name")).status_code == 404
    assert client.post(decide_url("churn", 1), {"decision": "approve"}).status_code == 404
    assert client.post(REGISTER, {"job": "churn-job", "group": "mine"}).status_code == 404
    assert client.get(f"{DEPLOY}?package=churn/1").status_code == 404
    assert ModelPackage.objects.get().approval_status == "PendingManualApproval"


def test_only_an_approved_version_deploys(client, alice, alice_profile):
    registered(alice, alice_profile, "churn-job")
    client.force_login(alice)
    pending = html_of(client, f"{DEPLOY}?package=churn/1")
    assert "is PendingManualApproval: only Approved versions are deployed" in pending
    assert 'id="deploy-submit" disabled' in pending
    refused = client.post(f"{DEPLOY}?package=churn/1", deploy_data(model_name="churn-1"))
    assert "only Approved versions are deployed" in refused.content.decode()
    assert not Model.objects.exists()

    client.post(decide_url("churn", 1), {"decision": "approve"})
    form = html_of(client, f"{DEPLOY}?package=churn/1")
    assert 'value="churn-1"' in form
    response = client.post(
        f"{DEPLOY}?package=churn/1", deploy_data(model_name="churn-1", endpoint_name="churn")
    )
    assert response.status_code == 302 and response["Location"] == endpoint_url("churn")
    container = Model.objects.get(name="churn-1").request["PrimaryContainer"]
    assert container["ModelPackageName"] == ModelPackage.objects.get().arn
    assert container["ModelDataUrl"].endswith("/churn-job/output/model.tar.gz")
    assert Endpoint.objects.filter(name="churn").exists()


def test_a_taken_model_name_is_shown_at_the_field(client, alice, alice_profile):
    package = registered(alice, alice_profile, "churn-job")
    client.force_login(alice)
    client.post(decide_url("churn", package.version), {"decision": "approve"})
    trained(alice_profile, "taken")
    client.post(reverse("dashboard:model_create"), {"job": "taken"})
    response = client.post(f"{DEPLOY}?package=churn/1", deploy_data(model_name="taken"))
    assert "already existing model" in field_error(response.content.decode(), "model_name")
    assert not Endpoint.objects.exists()
