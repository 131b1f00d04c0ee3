"""Models, endpoints and Deploy in the dashboard, through the Django test client: Deploy from a
completed training job makes a model, a config and an endpoint and lands on its page; the
endpoint's page shows why it failed, its variants, instances and cost, offers Update and
Delete only to whom may use them, and shows the services' refusals at their fields; another
domain's endpoint is not found.

Endpoints and instances the pages show are rows created directly, as the services and the
worker would leave them: what a page shows does not need a container to run. Deploy goes
through the services (the worker it asks to deploy is not waited for)."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin import AdminSite
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from jobs.admin.endpoints import EndpointAdmin
from jobs.models import Endpoint, EndpointConfig, EndpointInstance, Model
from jobs.services.endpoints import desired_from
from metering.meters import Meter
from tests.integration import job_pages
from tests.integration.conftest import put
from tests.integration.job_pages import dataset, field_error, html_of
from tests.integration.test_job_pages import job_url, make_job
from tests.integration.training import DATA, OUTPUT

pytestmark = pytest.mark.usefixtures("live", "instance_types")
carol_elsewhere = job_pages.carol_elsewhere

DEPLOY = reverse("dashboard:deploy")
ENDPOINTS = reverse("dashboard:endpoints")
MODELS = reverse("dashboard:models")
IMAGE = "studio/sklearn:latest"


def endpoint_url(name: str, view: str = "endpoint") -> str:
    return reverse(f"dashboard:{view}", kwargs={"name": name})


def trained(profile, name: str, **fields):
    """A completed training job that left model.tar.gz, as the runner records it."""
    model = put(f"{OUTPUT}/{name}/output/model.tar.gz", b"\x1f\x8b pretend tarball")
    return make_job(profile, name, status="Completed", model_artifacts=model, **fields)


def hosted_model(profile, name: str, job_name: str = "") -> Model:
    url = f"{OUTPUT}/{job_name or name}/output/model.tar.gz"
    request = {"ModelName": name, "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": url}}
    return Model.objects.create(name=name, domain=profile.domain, profile=profile, request=request)


def make_endpoint(profile, name: str, status: str = "InService", **fields) -> Endpoint:
    """An endpoint row as the service and the worker would leave it: two variants, one on
    instances, one serverless; generation 1 in force."""
    config = {
        "EndpointConfigName": f"{name}-config",
        "ProductionVariants": [
            {
                "VariantName": "blue",
                "ModelName": f"{name}-model",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 2,
                "InitialVariantWeight": 3.0,
            },
            {
                "VariantName": "green",
                "ModelName": f"{name}-model",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
                "InitialVariantWeight": 1.0,
            },
        ],
    }
    EndpointConfig.objects.create(
        name=config["EndpointConfigName"], domain=profile.domain, profile=profile, request=config
    )
    fields.setdefault("generation", 1)
    return Endpoint.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        status=status,
        config_name=config["EndpointConfigName"],
        config=config,
        desired=desired_from(config),
        latest_generation=fields["generation"],
        **fields,
    )


def instance(endpoint: Endpoint, status: str = "InService", **fields) -> EndpointInstance:
    fields.setdefault("generation", endpoint.generation)
    return EndpointInstance.objects.create(
        endpoint=endpoint,
        variant_name="blue",
        model_name=f"{endpoint.name}-model",
        instance_type="ml.m5.large",
        runtime="docker",
        uid=2000,
        status=status,
        **fields,
    )


def deploy_data(**overrides) -> dict:
    data = {
        "model_name": "churn-model",
        "endpoint_name": "churn",
        "hosting": "instances",
        "instance_type": "ml.m5.large",
        "instance_count": "1",
        "memory_size_mb": "2048",
        "max_concurrency": "5",
    }
    return {**data, **overrides}


# --- Deploy -------------------------------------------------------------------------------


def test_deploy_from_a_completed_job_makes_model_config_and_endpoint_and_shows_it(
    client, alice, alice_profile
):
    trained(alice_profile, "churn-job")
    client.force_login(alice)
    form = html_of(client, f"{DEPLOY}?job=churn-job")
    assert 'value="churn-job"' in form  # the names start as the job's
    assert "ml.m5.large · 2 vCPU, 8 GiB · $0.115/h" in form
    # An endpoint nobody calls stops costing unless its deployer chose otherwise.
    assert re.search(r'<input[^>]*name="scale_to_zero"[^>]*checked', form)

    response = client.post(
        f"{DEPLOY}?job=churn-job",
        deploy_data(scale_to_zero="on", max_instance_count="3"),
        follow=True,
    )
    assert response.redirect_chain == [(endpoint_url("churn"), 302)]
    html = response.content.decode()
    assert "Endpoint churn is being created" in html
    model = Model.objects.get(name="churn-model")
    assert model.request["PrimaryContainer"] == {
        "Image": IMAGE,
        "ModelDataUrl": f"{OUTPUT}/churn-job/output/model.tar.gz",
    }
    endpoint = Endpoint.objects.get(name="churn")
    (variant,) = EndpointConfig.objects.get(name=endpoint.config_name).variants
    assert variant["ModelName"] == "churn-model"
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.large", 1)
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 0,
        "MaxInstanceCount": 3,
    }
    assert endpoint.profile == alice_profile and endpoint.config_name.startswith("churn-")


def test_deploy_serverless_from_a_model(client, alice, alice_profile):
    hosted_model(alice_profile, "ready")
    client.force_login(alice)
    form = html_of(client, f"{DEPLOY}?model=ready")
    assert 'name="model_name"' not in form  # the model exists: nothing to name
    data = deploy_data(hosting="serverless", endpoint_name="on-demand", memory_size_mb="3072")
    response = client.post(f"{DEPLOY}?model=ready", data)
    assert response.status_code == 302
    config = EndpointConfig.objects.get(name=Endpoint.objects.get(name="on-demand").config_name)
    assert config.variants[0]["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    assert "InstanceType" not in config.variants[0]
    assert Model.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"endpoint_name": "bad_name"}, "endpoint_name", "Use only letters, digits and hyphens"),
        ({"model_name": "-dash"}, "model_name", "Use only letters, digits and hyphens"),
        ({"max_concurrency": "500", "hosting": "serverless"}, "max_concurrency", "at most 200"),
        ({"instance_count": "40"}, "instance_count", "between 1 and 16"),
        ({"instance_type": "ml.none.huge"}, "instance_type", "Select a valid choice"),
        ({"instance_type": ""}, "instance_type", "This field is required"),
        (
            {"scale_to_zero": "on", "instance_count": "3", "max_instance_count": "2"},
            "max_instance_count",
            "must lie between MinInstanceCount 0 and MaxInstanceCount 2",
        ),
    ],
    ids=["endpoint-name", "model-name", "concurrency", "count", "type", "no-type", "scaling"],
)
def test_deploy_shows_bad_input_at_its_field_and_creates_nothing(
    client, alice, alice_profile, overrides, field, message
):
    trained(alice_profile, "churn-job")
    client.force_login(alice)
    response = client.post(f"{DEPLOY}?job=churn-job", deploy_data(**overrides))
    assert response.status_code == 200
    assert message in field_error(response.content.decode(), field)
    assert not Model.objects.exists() and not EndpointConfig.objects.exists()
    assert not Endpoint.objects.exists()


def test_deploying_to_an_existing_endpoints_name_updates_it_blue_green(
    client, alice, alice_profile
):
    trained(alice_profile, "churn-job")
    make_endpoint(alice_profile, "churn")
    client.force_login(alice)
    response = client.post(f"{DEPLOY}?job=churn-job", deploy_data())
    assert response.status_code == 302
    endpoint = Endpoint.objects.get(name="churn")
    assert endpoint.status == "Updating" and endpoint.latest_generation == 2
    (variant,) = EndpointConfig.objects.get(name=endpoint.pending_config_name).variants
    assert variant["ModelName"] == "churn-model"


def test_deploying_onto_a_colleagues_endpoint_is_refused_at_the_name_and_keeps_nothing(
    client, alice, alice_profile, bob, bob_profile
):
    trained(alice_profile, "churn-job")
    make_endpoint(bob_profile, "churn")
    client.force_login(alice)
    response = client.post(f"{DEPLOY}?job=churn-job", deploy_data())
    assert "another user profile" in field_error(response.content.decode(), "endpoint_name")
    assert not Model.objects.filter(name="churn-model").exists()  # all or nothing
    assert Endpoint.objects.get(name="churn").status == "InService"


def test_deploy_without_a_source_sends_to_the_models_page(client, alice, alice_profile):
    client.force_login(alice)
    response = client.get(DEPLOY, follow=True)
    assert response.redirect_chain == [(reverse("dashboard:models"), 302)]
    assert "Choose what to deploy" in response.content.decode()


def test_a_job_without_a_model_cannot_be_deployed(client, alice, alice_profile):
    make_job(alice_profile, "still-running")
    client.force_login(alice)
    html = html_of(client, f"{DEPLOY}?job=still-running")
    assert "is InProgress and has no model to deploy yet" in html
    assert 'id="deploy-submit" disabled' in html
    response = client.post(f"{DEPLOY}?job=still-running", deploy_data())
    assert "has no model to deploy yet" in response.content.decode()
    assert not Model.objects.exists() and not Endpoint.objects.exists()


def test_deploy_finds_only_the_domains_jobs_and_models(
    client, alice_profile, carol, carol_elsewhere
):
    trained(alice_profile, "churn-job")
    hosted_model(alice_profile, "ready")
    client.force_login(carol)
    for query in ("?job=churn-job", "?model=ready", "?job=not_valid", "?model=../x"):
        assert client.get(DEPLOY + query).status_code == 404, query
    assert client.post(f"{DEPLOY}?job=churn-job", deploy_data()).status_code == 404
    assert not Endpoint.objects.exists()


# --- The endpoint's page ------------------------------------------------------------------


def test_the_endpoint_page_shows_status_variants_instances_cost_and_the_failure_in_full(
    client, alice, alice_profile
):
    last_lines = "Traceback (most recent call last):\n  File serve.py\nValueError: <no model>"
    endpoint = make_endpoint(
        alice_profile,
        "churn",
        "Failed",
        failure_reason=last_lines,
        created_at=timezone.now() - timedelta(hours=3),
    )
    serving = instance(endpoint)
    instance(endpoint, "Pending", generation=2)
    Meter.objects.create(
        kind=Meter.ENDPOINT,
        resource_type="EndpointInstance",
        resource_id=serving.resource_id,
        domain_id=alice_profile.domain.domain_id,
        user_profile=alice_profile.name,
        instance_type="ml.m5.large",
        started_at=timezone.now() - timedelta(hours=2),
    )
    client.force_login(alice)
    html = html_of(client, endpoint_url("churn"))
    assert '<pre class="failure">Traceback (most recent call last):\n  File serve.py\n' in html
    assert "ValueError: &lt;no model&gt;" in html
    assert f'data-status-of="Endpoint:{endpoint.resource_id}"' in html
    # Variants: weights, in service / wanted, and what they run on
    assert '<td class="num">3</td>' in html and "1 / 2" in html
    assert "2048 MB, up to 5 at once" in html
    # Instances: label and status, the new generation's marked
    assert f"blue-{serving.pk}" in html and "new deployment" in html
    # Two hours of ml.m5.large at $0.115
    assert "$0.23" in html and "$0.12/h while its instances run" in html
    assert endpoint.arn in html
    assert f'data-url="/endpoints/churn/invocations?domain={endpoint.domain.domain_id}"' in html


def test_try_it_is_prefilled_with_a_row_of_the_training_datas_width(client, alice, alice_profile):
    put(DATA, "1,0.5,2.5,3\n0,0.1,0.2,0.3\n")
    data = dataset(alice_profile, "iris", DATA)
    data.preview = [["1", "0.5", "2.5", "3"], ["0", "0.1", "0.2", "0.3"]]
    data.save()
    trained(alice_profile, "churn-job")
    hosted_model(alice_profile, "churn-model", job_name="churn-job")
    make_endpoint(alice_profile, "churn")
    client.force_login(alice)
    html = html_of(client, endpoint_url("churn"))
    assert '<textarea id="try-body" rows="4" spellcheck="false">0.5,2.5,3</textarea>' in html


def test_update_and_delete_are_offered_only_to_whom_may_use_them(
    client, alice, alice_profile, bob, bob_profile
):
    make_endpoint(alice_profile, "alices")
    client.force_login(bob)
    html = html_of(client, endpoint_url("alices"))
    assert "alices" in html
    for absent in ('id="delete-endpoint"', 'id="update-config"', 'id="update-weights"'):
        assert absent not in html
    assert 'id="try-form"' in html  # invoking is the domain's, as the router decides
    # Pressed anyway, the service refuses in words.
    response = client.post(endpoint_url("alices", "endpoint_delete"), follow=True)
    assert "is not authorized to perform sagemaker:DeleteEndpoint" in response.content.decode()
    assert Endpoint.objects.get(name="alices").status == "InService"

    client.force_login(alice)
    html = html_of(client, endpoint_url("alices"))
    for present in ('id="delete-endpoint"', 'id="update-config"', 'id="update-weights"'):
        assert present in html


def test_another_domains_endpoint_is_not_found(client, alice_profile, carol, carol_elsewhere):
    make_endpoint(alice_profile, "private")
    client.force_login(carol)
    assert "private" not in html_of(client, ENDPOINTS)
    for view in ("endpoint", "endpoint_metrics"):
        assert client.get(endpoint_url("private", view)).status_code == 404
    for view in ("endpoint_update", "endpoint_weights", "endpoint_delete"):
        assert client.post(endpoint_url("private", view)).status_code == 404
    assert client.get(endpoint_url("not_a_valid_name")).status_code == 404
    assert Endpoint.objects.get(name="private").status == "InService"


def test_the_owner_deletes_an_endpoint(client, alice, alice_profile):
    make_endpoint(alice_profile, "old")
    client.force_login(alice)
    response = client.post(endpoint_url("old", "endpoint_delete"), follow=True)
    assert response.redirect_chain == [(ENDPOINTS, 302)]
    assert "Deleting endpoint old" in response.content.decode()
    assert not Endpoint.objects.filter(name="old").exclude(status="Deleting").exists()
    assert client.get(endpoint_url("old", "endpoint_delete")).status_code == 405


# --- Update ---------------------------------------------------------------------------------


def test_update_to_another_config_starts_a_new_generation(client, alice, alice_profile):
    endpoint = make_endpoint(alice_profile, "churn")
    make_endpoint(alice_profile, "other")  # brings config other-config
    client.force_login(alice)
    html = html_of(client, endpoint_url("churn"))
    assert '<option value="other-config">' in html
    response = client.post(
        endpoint_url("churn", "endpoint_update"), {"config_name": "other-config"}, follow=True
    )
    assert "Updating churn to other-config" in response.content.decode()
    # The worker takes it from there (and may have finished, or rolled back, already).
    endpoint.refresh_from_db()
    assert endpoint.latest_generation == 2


def test_update_refusals_are_shown_at_their_fields(client, alice, alice_profile):
    make_endpoint(alice_profile, "churn")
    make_endpoint(alice_profile, "creating", "Creating")
    client.force_login(alice)
    bad = client.post(endpoint_url("churn", "endpoint_update"), {"config_name": "nope"})
    assert "Select a valid choice" in field_error(bad.content.decode(), "config_name")

    counts = client.post(
        endpoint_url("churn", "endpoint_weights"),
        {"weight_0": "1", "count_0": "40", "weight_1": "1"},
    )
    assert "must lie between 1 and 16, not 40" in field_error(counts.content.decode(), "count_0")
    negative = client.post(
        endpoint_url("churn", "endpoint_weights"),
        {"weight_0": "-1", "count_0": "1", "weight_1": "1"},
    )
    assert "greater than or equal to 0" in field_error(negative.content.decode(), "weight_0")
    no_weight = client.post(
        endpoint_url("churn", "endpoint_weights"),
        {"weight_0": "0", "count_0": "1", "weight_1": "0"},
    )
    assert "at least one variant must keep a weight above 0" in no_weight.content.decode()
    busy = client.post(
        endpoint_url("creating", "endpoint_weights"),
        {"weight_0": "1", "count_0": "1", "weight_1": "1"},
    )
    assert "is Creating; weights and capacities change when it is InService" in (
        busy.content.decode()
    )
    assert Endpoint.objects.get(name="churn").desired["blue"] == {"weight": 3.0, "count": 2}


def test_new_weights_and_counts_are_asked_of_the_worker(client, alice, alice_profile):
    endpoint = make_endpoint(alice_profile, "churn")
    client.force_login(alice)
    response = client.post(
        endpoint_url("churn", "endpoint_weights"),
        {"weight_0": "1", "count_0": "3", "weight_1": "2"},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.desired["blue"] == {"weight": 1.0, "count": 3}
    assert endpoint.desired["green"]["weight"] == 2.0


def test_autoscaling_is_set_from_the_page_and_refusals_shown_at_their_fields(
    client, alice, alice_profile, bob, bob_profile
):
    endpoint = make_endpoint(alice_profile, "churn")
    client.force_login(alice)
    html = html_of(client, endpoint_url("churn"))
    # Only the variant on instances scales; the serverless one has no instance count.
    assert re.search(r'<select[^>]*name="variant"[^>]*>\s*<option value="blue"', html)
    assert 'value="green"' not in html.split('id="scaling-policy"')[1].split("</form>")[0]
    policy = {
        "variant": "blue",
        "min_count": "0",
        "max_count": "3",
        "target": "120",
        "scale_out_cooldown_s": "30",
        "scale_in_cooldown_s": "600",
    }
    response = client.post(endpoint_url("churn", "endpoint_scaling"), policy)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.desired["blue"]["autoscaling"] == {
        "min": 0,
        "max": 3,
        "target": 120.0,
        "scale_out_cooldown_s": 30,
        "scale_in_cooldown_s": 600,
    }
    assert "0 to 3 instances, about 120 invocations" in html_of(client, endpoint_url("churn"))
    response = client.post(endpoint_url("churn", "endpoint_scaling"), {**policy, "min_count": "4"})
    assert "MinCapacity ≤ MaxCapacity" in field_error(response.content.decode(), "min_count")
    client.force_login(bob)  # a colleague sees no form and cannot post one
    assert 'id="scaling-policy"' not in html_of(client, endpoint_url("churn"))
    response = client.post(endpoint_url("churn", "endpoint_scaling"), policy, follow=True)
    assert "another user profile" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.desired["blue"]["autoscaling"]["max"] == 3


# --- Polled views ---------------------------------------------------------------------------


def test_the_metrics_view_gives_the_status_and_the_chart_points(client, alice, alice_profile):
    make_endpoint(alice_profile, "churn", "Failed", failure_reason="no /ping answer")
    client.force_login(alice)
    data = client.get(endpoint_url("churn", "endpoint_metrics")).json()
    assert (data["status"], data["failure_reason"]) == ("Failed", "no /ping answer")
    assert len(data["series"]) == 60 and data["step"] == 5
    assert data["series"][-1]["rate"] == 0 and data["series"][-1]["p99_ms"] is None


# --- Models ---------------------------------------------------------------------------------


def test_models_lists_models_and_trained_models_to_deploy(client, alice, alice_profile):
    hosted_model(alice_profile, "ready")
    trained(alice_profile, "churn-job")
    client.force_login(alice)
    html = html_of(client, MODELS)
    assert f'href="{endpoint_url("ready", "model")}"' in html
    assert f'href="{DEPLOY}?job=churn-job"' in html
    assert f'href="{job_url("churn-job")}"' in html


def test_a_models_page_shows_its_container_and_the_endpoints_serving_it(
    client, alice, alice_profile, bob, bob_profile
):
    hosted_model(alice_profile, "churn-model")
    make_endpoint(alice_profile, "churn")
    client.force_login(bob)
    html = html_of(client, endpoint_url("churn-model", "model"))
    assert IMAGE in html and f"{OUTPUT}/churn-model/output/model.tar.gz" in html
    assert f'href="{endpoint_url("churn")}"' in html
    assert 'id="delete-model"' not in html and 'id="deploy-model"' in html

    client.force_login(alice)
    assert 'id="delete-model"' in html_of(client, endpoint_url("churn-model", "model"))
    response = client.post(endpoint_url("churn-model", "model_delete"), follow=True)
    assert "Model churn-model was deleted" in response.content.decode()
    assert not Model.objects.exists()
    assert client.get(endpoint_url("churn-model", "model")).status_code == 404


def test_create_model_from_the_training_job_page(
    client, alice, alice_profile, carol, carol_elsewhere
):
    trained(alice_profile, "churn-job")
    make_job(alice_profile, "running")
    client.force_login(alice)
    page = html_of(client, job_url("churn-job"))
    assert 'id="create-model"' in page and f'href="{DEPLOY}?job=churn-job"' in page
    assert 'id="create-model"' not in html_of(client, job_url("running"))

    create = reverse("dashboard:model_create")
    response = client.post(create, {"job": "churn-job"}, follow=True)
    assert response.redirect_chain == [(endpoint_url("churn-job", "model"), 302)]
    again = client.post(create, {"job": "churn-job"}, follow=True)
    assert "Cannot create already existing model" in again.content.decode()
    refused = client.post(create, {"job": "running"}, follow=True)
    assert "only a Completed job has a model to deploy" in refused.content.decode()

    client.force_login(carol)
    assert client.post(create, {"job": "churn-job", "name": "stolen"}).status_code == 404
    assert list(Model.objects.values_list("name", flat=True)) == ["churn-job"]


# --- The admin console ----------------------------------------------------------------------


def console_request(user):
    """A POST to the console as `user`, with messages, as Django's admin actions get it."""
    request = RequestFactory().post("/admin/jobs/endpoint/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_the_console_lists_an_admins_domains_endpoints_and_deletes_through_the_service(
    alice, alice_profile, bob, make_domain, make_profile
):
    mine = make_endpoint(alice_profile, "serving")
    instance(mine)
    vision = make_domain("vision")
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    make_profile(vision, bob, role="Admin")
    make_endpoint(make_profile(vision, alice, name="alice-v"), "elsewhere")
    console = EndpointAdmin(Endpoint, AdminSite())

    request = console_request(bob)
    listed = console.get_queryset(request)
    assert [e.name for e in listed] == ["elsewhere"]
    assert console.has_view_permission(request, mine) is False
    assert console.has_delete_permission(request) is False  # only the action deletes

    superuser = get_user_model().objects.get(username="root")
    request = console_request(superuser)
    listed = {e.name: e for e in console.get_queryset(request)}
    assert set(listed) == {"serving", "elsewhere"}
    assert console.serving(listed["serving"]) == 1
    assert console.variants(listed["serving"]) == (
        "blue: ml.m5.large \N{MULTIPLICATION SIGN} 2; green: serverless 2048 MB"
    )
    assert 'studio-badge-ok">InService' in console.status_badge(listed["serving"])
    console.delete_endpoints(request, console.get_queryset(request).filter(name="serving"))
    assert Endpoint.objects.get(name="serving").status == "Deleting"
    assert [str(m) for m in request._messages] == ["Deleting: serving."]
