"""Endpoints in the dashboard: the list, an endpoint's page (status and why it failed, variants,
instances, cost so far, charts, Try it, its instances' container logs), Update (another config,
or new weights and counts), Delete, the JSON its charts poll, and Deploy, which lands on the new
endpoint's page. Every read and change goes through `jobs.services`, which decides who may do
what; a page offers only the buttons the service would allow."""

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import redis
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains.models import UserProfile
from domains.permissions import may
from jobs.hosting import counters
from jobs.models import Endpoint, EndpointStatus, InstanceStatus
from jobs.services import list_datasets, list_training_jobs
from jobs.services.deploy import deploy_model, deploy_model_package, deploy_training_job
from jobs.services.endpoint_configs import list_endpoint_configs
from jobs.services.endpoints import (
    delete_endpoint,
    describe_endpoint,
    endpoint_logs,
    list_endpoints,
    put_scaling_policy,
    update_endpoint,
    update_endpoint_weights_and_capacities,
)
from jobs.services.hosted_models import describe_model
from jobs.services.registry import describe_model_package
from metering.catalog import InstanceType
from metering.meters import Meter
from studio.core.errors import AccessDenied, ResourceNotFound, StudioError, ValidationException
from studio.web.dashboard.cost import money
from studio.web.dashboard.current import current_profile
from studio.web.dashboard.hosting_forms import (
    DeployForm,
    ScalingPolicyForm,
    UpdateEndpointForm,
    WeightsForm,
)
from studio.web.dashboard.job_kinds import TRAINING
from studio.web.dashboard.job_pages import current_domain_id, job_or_denied

# Statuses in which an endpoint is on its way somewhere: its page follows it.
MOVING = frozenset(
    {
        EndpointStatus.CREATING,
        EndpointStatus.UPDATING,
        EndpointStatus.SYSTEM_UPDATING,
        EndpointStatus.ROLLING_BACK,
        EndpointStatus.DELETING,
    }
)
# How far back the charts look, and the width of a point, in seconds.
CHART_SECONDS = 300
CHART_STEP = 5
# How many of each instance's last log lines the page shows.
LOG_LINES = 200


def invocation_url(endpoint: Endpoint) -> str:
    """Where the router takes the endpoint's requests (studio/web/router/), from a page of the
    endpoint's domain: its name is unique in the domain only."""
    return f"/endpoints/{endpoint.name}/invocations?domain={endpoint.domain.domain_id}"


def _endpoint_or_404(request: HttpRequest, name: str) -> Endpoint | HttpResponse:
    """Endpoint `name` of the user's current domain if they may describe it; another domain's
    (or none) is "not found", as in the API; one they may not see is the denied page."""
    try:
        return describe_endpoint(request.user, current_domain_id(request), name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as denied:
        context = {"denied": denied.message, "what": "endpoint"}
        return render(request, "dashboard/jobs_denied.html", context, status=403)


def variant_rows(endpoint: Endpoint) -> list[dict[str, Any]]:
    """The variants of the config in force: weight and counts wanted now, how many instances of
    the current generation serve, and what they run on."""
    serving: Counter[str] = Counter(
        endpoint.instances.filter(
            generation=endpoint.generation, status=InstanceStatus.IN_SERVICE
        ).values_list("variant_name", flat=True)
    )
    rows = []
    for variant in endpoint.config["ProductionVariants"]:
        name = variant["VariantName"]
        desired = endpoint.desired.get(name, {})
        serverless = variant.get("ServerlessConfig")
        scaling = variant.get("ManagedInstanceScaling") or {}
        rows.append(
            {
                "name": name,
                "model": variant["ModelName"],
                "weight": desired.get("weight", variant.get("InitialVariantWeight", 1.0)),
                "count": desired.get("count", variant.get("InitialInstanceCount", 0)),
                "current": serving[name],
                "instance_type": variant.get("InstanceType", ""),
                "serverless": serverless,
                "scaling": scaling if scaling.get("Status", "ENABLED") == "ENABLED" else {},
                "autoscaling": desired.get("autoscaling"),
            }
        )
    return rows


def endpoint_cost(endpoint: Endpoint, now: datetime | None = None) -> dict[str, Any]:
    """What the endpoint's instances have cost since it was created (each instance's meter at
    its type's price), and what those running now cost an hour."""
    now = now or timezone.now()
    meters = Meter.objects.filter(
        resource_type="EndpointInstance",
        resource_id__startswith=f"{endpoint.resource_id}/",
        started_at__gte=endpoint.created_at,
    )
    prices = dict(InstanceType.objects.values_list("name", "price_per_hour"))
    total, hourly = Decimal(0), Decimal(0)
    for meter in meters:
        price = prices.get(meter.instance_type, Decimal(0))
        seconds = Decimal(str(meter.seconds_between(endpoint.created_at, now)))
        total += price * seconds / 3600
        if meter.ended_at is None:
            hourly += price * meter.instance_count
    return {"cost": money(total), "hourly": money(hourly) if hourly else ""}


def _sample_row(request: HttpRequest, endpoint: Endpoint) -> str:
    """A CSV row of the width the endpoint's first model was trained on, to try it with: the
    first row of the training job's dataset without its first column (built-in algorithms
    read the label there). Empty when that is not known (the model is not a training job's,
    its data is no dataset, or the user may not read either)."""
    user, domain_id = request.user, endpoint.domain.domain_id
    model_name = endpoint.config["ProductionVariants"][0]["ModelName"]
    try:
        model = describe_model(user, domain_id, model_name)
        url = (model.containers[0] if model.containers else {}).get("ModelDataUrl")
        job = url and list_training_jobs(user, domain_id).filter(model_artifacts=url).first()
        if not job:
            return ""
        train = [
            c["DataSource"].get("S3DataSource", {}).get("S3Uri")
            for c in job.request.get("InputDataConfig", [])
            if c["ChannelName"] == "train"
        ]
        dataset = list_datasets(user, domain_id).filter(s3_uri__in=train).first()
    except StudioError:
        return ""
    if dataset is None or not dataset.preview:
        return ""
    return ",".join(str(cell) for cell in dataset.preview[0][1:])


def _configs(request: HttpRequest, endpoint: Endpoint) -> list[str]:
    try:
        configs = list_endpoint_configs(request.user, endpoint.domain.domain_id)
    except AccessDenied:
        return []
    return list(configs.values_list("name", flat=True))


def _page(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    update_form: UpdateEndpointForm | None = None,
    weights_form: WeightsForm | None = None,
    scaling_form: ScalingPolicyForm | None = None,
) -> HttpResponse:
    user, domain, owner = request.user, endpoint.domain, endpoint.profile
    variants = variant_rows(endpoint)
    may_update = may(user, "sagemaker:UpdateEndpoint", domain=domain, owner=owner)
    may_weigh = may(
        user, "sagemaker:UpdateEndpointWeightsAndCapacities", domain=domain, owner=owner
    )
    if may_update and update_form is None:
        update_form = UpdateEndpointForm(configs=_configs(request, endpoint))
    if may_weigh and weights_form is None:
        weights_form = WeightsForm(variants=variants)
    if may_update and scaling_form is None:
        scaling_form = ScalingPolicyForm(variants=variants)
    context = {
        "endpoint": endpoint,
        "domain": domain,
        "variants": variants,
        "instances": list(endpoint.instances.order_by("-generation", "pk")),
        "moving": endpoint.status in MOVING,
        "may_update": may_update,
        "may_weigh": may_weigh,
        "may_delete": may(user, "sagemaker:DeleteEndpoint", domain=domain, owner=owner),
        # As the router decides: any endpoint of a domain whose policy allows invoking.
        "may_invoke": may(user, "sagemaker:InvokeEndpoint", domain=domain),
        "update_form": update_form,
        "weights_form": weights_form,
        "scaling_form": scaling_form,
        "updatable": endpoint.status in {EndpointStatus.IN_SERVICE, EndpointStatus.FAILED},
        "in_service": endpoint.status == EndpointStatus.IN_SERVICE,
        "invoke_url": invocation_url(endpoint),
        "sample_row": _sample_row(request, endpoint),
        "chart_seconds": CHART_SECONDS,
        # Escaped where the page shows it: the text is the containers' output.
        "logs": [
            (label, "\n".join(lines))
            for label, lines in endpoint_logs(user, domain.domain_id, endpoint.name, LOG_LINES)
        ],
        "log_lines": LOG_LINES,
        **endpoint_cost(endpoint),
    }
    return render(request, "dashboard/endpoints_detail.html", context)


@login_required
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    context: dict[str, Any] = {"profile": profile, "domain": profile.domain}
    try:
        endpoints = list(list_endpoints(request.user, profile.domain.domain_id))
    except AccessDenied as denied:
        context["denied"] = denied.message
        return render(request, "dashboard/endpoints_list.html", context)
    context["rows"] = [{"endpoint": e, "variants": variant_rows(e)} for e in endpoints]
    return render(request, "dashboard/endpoints_list.html", context)


@login_required
@require_GET
def endpoint_detail(request: HttpRequest, name: str) -> HttpResponse:
    endpoint = _endpoint_or_404(request, name)
    if isinstance(endpoint, HttpResponse):
        return endpoint
    return _page(request, endpoint)


@login_required
@require_POST
def endpoint_update(request: HttpRequest, name: str) -> HttpResponse:
    endpoint = _endpoint_or_404(request, name)
    if isinstance(endpoint, HttpResponse):
        return endpoint
    form = UpdateEndpointForm(request.POST, configs=_configs(request, endpoint))
    if form.is_valid():
        config_name = form.cleaned_data["config_name"]
        try:
            update_endpoint(
                request.user,
                endpoint.domain.domain_id,
                {"EndpointName": endpoint.name, "EndpointConfigName": config_name},
            )
        except StudioError as refused:
            form.show_error(refused)
        else:
            messages.success(
                request,
                f"Updating {endpoint.name} to {config_name}: it keeps "
                "answering from its instances until the new ones all pass their health check.",
            )
            return redirect("dashboard:endpoint", name=endpoint.name)
    return _page(request, endpoint, update_form=form)


def _change_form(
    request: HttpRequest,
    name: str,
    form_class: type[WeightsForm] | type[ScalingPolicyForm],
    change: Callable[[Endpoint, Any], str],
    context_name: str,
) -> HttpResponse:
    """One of the endpoint page's in-place changes: the posted form, `change(endpoint, form)`
    (a service call that returns what to tell the user), refusals at the form's fields, or
    the page again with them."""
    endpoint = _endpoint_or_404(request, name)
    if isinstance(endpoint, HttpResponse):
        return endpoint
    form = form_class(request.POST, variants=variant_rows(endpoint))
    if form.is_valid():
        try:
            said = change(endpoint, form)
        except AccessDenied as denied:  # the page shows no such form to whom may not use it
            messages.error(request, denied.message)
            return redirect("dashboard:endpoint", name=endpoint.name)
        except StudioError as refused:
            form.show_error(refused)
        else:
            messages.success(request, said)
            return redirect("dashboard:endpoint", name=endpoint.name)
    return _page(request, endpoint, **{context_name: form})


@login_required
@require_POST
def endpoint_weights(request: HttpRequest, name: str) -> HttpResponse:
    def change(endpoint: Endpoint, form: WeightsForm) -> str:
        update_endpoint_weights_and_capacities(
            request.user, endpoint.domain.domain_id, endpoint.name, form.changes()
        )
        return f"Changing {endpoint.name}'s weights and instance counts."

    return _change_form(request, name, WeightsForm, change, "weights_form")


@login_required
@require_POST
def endpoint_scaling(request: HttpRequest, name: str) -> HttpResponse:
    def change(endpoint: Endpoint, form: ScalingPolicyForm) -> str:
        variant = form.cleaned_data["variant"]
        put_scaling_policy(
            request.user, endpoint.domain.domain_id, endpoint.name, variant, **form.policy()
        )
        return f"Variant {variant} now scales with its invocations."

    return _change_form(request, name, ScalingPolicyForm, change, "scaling_form")


@login_required
@require_POST
def endpoint_delete(request: HttpRequest, name: str) -> HttpResponse:
    try:
        delete_endpoint(request.user, current_domain_id(request), name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except StudioError as refused:
        messages.error(request, refused.message)
        return redirect("dashboard:endpoint", name=name)
    messages.success(request, f"Deleting endpoint {name}: its instances are stopping.")
    return redirect("dashboard:endpoints")


def _deploy_source(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    """What Deploy deploys, from the query: `?job=<training job>` or `?package=<group>/<version>`
    (a model is made from either) or `?model=<model>`; each looked up in the current domain as
    its own page does."""
    domain_id = current_domain_id(request)
    if request.GET.get("job"):
        job = job_or_denied(request, TRAINING, request.GET["job"])
        if isinstance(job, HttpResponse):
            return job
        ready = job.status == "Completed" and bool(job.model_artifacts)
        return {
            "kind": "job",
            "name": job.name,
            "url": reverse("dashboard:training_job", args=[job.name]),
            "refusal": ""
            if ready
            else f"Training job {job.name} is {job.status} and has no model to deploy yet; "
            "only a Completed job that wrote model.tar.gz has.",
        }
    if request.GET.get("model"):
        try:
            model = describe_model(request.user, domain_id, request.GET["model"])
        except (ResourceNotFound, ValidationException) as e:
            raise Http404(e.message) from e
        except AccessDenied as denied:
            context = {"denied": denied.message, "what": "model"}
            return render(request, "dashboard/jobs_denied.html", context, status=403)
        return {
            "kind": "model",
            "name": model.name,
            "url": reverse("dashboard:model", args=[model.name]),
            "refusal": "",
        }
    if request.GET.get("package"):
        return _package_source(request, request.GET["package"])
    # Deploy what? The Models page lists what can be deployed, each with its Deploy button.
    messages.info(request, "Choose what to deploy: a trained model, a model or a version.")
    return redirect("dashboard:models")


def _package_source(request: HttpRequest, reference: str) -> dict[str, Any] | HttpResponse:
    """A model package version to deploy, by "<group>/<version>": Approved versions only."""
    try:
        package = describe_model_package(request.user, current_domain_id(request), reference)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as denied:
        context = {"denied": denied.message, "what": "model package"}
        return render(request, "dashboard/jobs_denied.html", context, status=403)
    name = f"{package.group.name}-{package.version}"
    return {
        "kind": "package",
        "name": name,
        "label": f"version {package.version} of {package.group.name}",
        "reference": package.arn,
        "url": reverse("dashboard:registry_group", args=[package.group.name]),
        "refusal": ""
        if package.is_approved
        else f"Version {package.version} of {package.group.name} is "
        f"{package.approval_status}: only Approved versions are deployed.",
    }


def _deploy(request: HttpRequest, source: dict[str, Any], form: DeployForm) -> Endpoint:
    data, domain_id = form.cleaned_data, current_domain_id(request)
    if source["kind"] == "job":
        return deploy_training_job(
            request.user,
            domain_id,
            source["name"],
            model_name=data["model_name"],
            endpoint_name=data["endpoint_name"],
            variant=form.variant(),
        )
    if source["kind"] == "package":
        return deploy_model_package(
            request.user,
            domain_id,
            source["reference"],
            model_name=data["model_name"],
            endpoint_name=data["endpoint_name"],
            variant=form.variant(),
        )
    return deploy_model(
        request.user, domain_id, source["name"], data["endpoint_name"], form.variant()
    )


@login_required
@require_http_methods(["GET", "POST"])
def deploy(request: HttpRequest) -> HttpResponse:
    """Deploy from a training job or a model: one form, then the new endpoint's page."""
    profile: UserProfile | None = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    source = _deploy_source(request)
    if isinstance(source, HttpResponse):
        return source
    form = DeployForm(
        request.POST or None,
        initial={"model_name": source["name"], "endpoint_name": source["name"]},
    )
    if source["kind"] == "model":
        del form.fields["model_name"]
    if request.method == "POST":
        if source["refusal"]:
            form.add_error(None, source["refusal"])
        elif form.is_valid():
            try:
                endpoint = _deploy(request, source, form)
            except StudioError as refused:
                form.show_error(refused)
            else:
                if endpoint.status == EndpointStatus.UPDATING:
                    said = (
                        f"Endpoint {endpoint.name} is being updated: it keeps answering from its "
                        "instances until the new ones answer their health check."
                    )
                else:
                    said = (
                        f"Endpoint {endpoint.name} is being created: its instances start, then "
                        "must answer their health check."
                    )
                messages.success(request, said)
                return redirect("dashboard:endpoint", name=endpoint.name)
    context = {"form": form, "source": source, "domain": profile.domain}
    return render(request, "dashboard/endpoints_deploy.html", context)


def _status(endpoint: Endpoint) -> dict[str, Any]:
    return {"status": endpoint.status, "failure_reason": endpoint.failure_reason}


@login_required
@require_GET
def endpoint_metrics(request: HttpRequest, name: str) -> HttpResponse:
    """What the endpoint page polls every 2 s: its status (the list and badge follow it) and
    its last CHART_SECONDS of invocations, in points of CHART_STEP seconds (counters.series)."""
    endpoint = _endpoint_or_404(request, name)
    if isinstance(endpoint, HttpResponse):
        return JsonResponse({"error": "You may not see this endpoint."}, status=403)
    try:
        points = counters.series(endpoint.pk, CHART_SECONDS, CHART_STEP)
    except (redis.RedisError, OSError):
        points, unavailable = [], "Invocation counts are unavailable: Redis does not answer."
    else:
        unavailable = ""
    return JsonResponse(
        {**_status(endpoint), "step": CHART_STEP, "series": points, "unavailable": unavailable}
    )
