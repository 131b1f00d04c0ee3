"""Models in the dashboard: the list (the domain's models, and the model.tar.gz of each completed
training job, ready to become one), a model's page (its container: image and artifact, the
endpoints that serve it, Deploy, Delete), and Create model from a training job. Every read and
change goes through `jobs.services`, which decides who may do what."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from domains.permissions import may
from jobs.models import Model
from jobs.services.endpoints import list_endpoints
from jobs.services.hosted_models import (
    delete_model,
    describe_model,
    list_models,
    model_from_training_job,
)
from studio.core.errors import AccessDenied, ResourceNotFound, StudioError, ValidationException
from studio.web.dashboard.current import current_profile
from studio.web.dashboard.job_kinds import TRAINING
from studio.web.dashboard.job_pages import current_domain_id, job_or_denied
from studio.web.dashboard.model_pages import PAGE_SIZE, model_row, trained_models


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    domain_id = profile.domain.domain_id
    context: dict[str, Any] = {"profile": profile, "domain": profile.domain}
    try:
        context["models"] = list(list_models(request.user, domain_id))
    except AccessDenied as denied:
        context["models_denied"] = denied.message
    try:
        jobs = trained_models(request, profile)
    except AccessDenied as denied:
        context["denied"] = denied.message
    else:
        page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
        context["page"] = page
        context["rows"] = [model_row(job) for job in page]
    return render(request, "dashboard/models_list.html", context)


def _model_or_404(request: HttpRequest, name: str) -> Model | HttpResponse:
    try:
        return describe_model(request.user, current_domain_id(request), name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as denied:
        context = {"denied": denied.message, "what": "model"}
        return render(request, "dashboard/jobs_denied.html", context, status=403)


def _serving(request: HttpRequest, model: Model) -> list[Any] | None:
    """The domain's endpoints whose config in force (or being deployed) serves `model`; None
    when the user may not list endpoints."""
    try:
        endpoints = list_endpoints(request.user, model.domain.domain_id)
    except AccessDenied:
        return None
    serving = []
    for endpoint in endpoints:
        configs = [endpoint.config, endpoint.pending_config or {}]
        variants = [v for c in configs for v in c.get("ProductionVariants", [])]
        if any(v["ModelName"] == model.name for v in variants):
            serving.append(endpoint)
    return serving


@login_required
@require_GET
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    model = _model_or_404(request, name)
    if isinstance(model, HttpResponse):
        return model
    container = model.containers[0] if model.containers else {}
    context = {
        "model": model,
        "domain": model.domain,
        "container": container,
        "environment": sorted((container.get("Environment") or {}).items()),
        "endpoints": _serving(request, model),
        "may_delete": may(
            request.user, "sagemaker:DeleteModel", domain=model.domain, owner=model.profile
        ),
        "may_deploy": may(request.user, "sagemaker:CreateEndpoint", domain=model.domain),
    }
    return render(request, "dashboard/models_detail.html", context)


@login_required
@require_POST
def model_delete(request: HttpRequest, name: str) -> HttpResponse:
    try:
        delete_model(request.user, current_domain_id(request), name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except StudioError as refused:
        messages.error(request, refused.message)
        return redirect("dashboard:model", name=name)
    messages.success(request, f"Model {name} was deleted; endpoints serving it keep running.")
    return redirect("dashboard:models")


@login_required
@require_POST
def model_create(request: HttpRequest) -> HttpResponse:
    """Create model from a completed training job (the job page's button): named as the job
    unless the form names it; a refusal is said on the job's page."""
    job = job_or_denied(request, TRAINING, request.POST.get("job", ""))
    if isinstance(job, HttpResponse):
        return job
    model_name = request.POST.get("name", "").strip() or job.name
    try:
        model = model_from_training_job(request.user, job.domain.domain_id, job.name, model_name)
    except StudioError as refused:
        messages.error(request, refused.message)
        return redirect("dashboard:training_job", name=job.name)
    messages.success(request, f"Model {model.name} was created from training job {job.name}.")
    return redirect("dashboard:model", name=model.name)
