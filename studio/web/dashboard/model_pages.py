"""Deploy in the dashboard: Models, the model artifacts of the domain's completed training
jobs, and Endpoints, which say what they will hold until hosting fills them. Every read goes
through `jobs.services`, which decides who may list what."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from domains.models import UserProfile
from jobs.models import TrainingJob, TrainingJobStatus
from jobs.services import list_training_jobs
from studio.core.errors import AccessDenied
from studio.web.dashboard.current import current_profile

PAGE_SIZE = 25


def trained_models(request: HttpRequest, profile: UserProfile) -> QuerySet[TrainingJob]:
    """The profile's domain's completed training jobs that wrote a model, newest first. A job
    is its model's record until models are registered on their own: the runner sets
    `model_artifacts` when the job leaves model.tar.gz, the file the job page downloads.
    Raises AccessDenied when the profile may not list training jobs."""
    jobs = list_training_jobs(
        request.user, profile.domain.domain_id, status=TrainingJobStatus.COMPLETED
    )
    return jobs.exclude(model_artifacts="")


def model_row(job: TrainingJob) -> dict[str, Any]:
    """What a row of Models shows of one job's model."""
    algorithm = job.request["AlgorithmSpecification"]
    return {
        "job": job,
        "algorithm": algorithm.get("AlgorithmName", ""),
        "image": algorithm.get("TrainingImage", ""),
        "finished": job.training_end_time or job.last_modified_at,
    }


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    context: dict[str, Any] = {"profile": profile, "domain": profile.domain}
    try:
        jobs = trained_models(request, profile)
    except AccessDenied as denied:
        context["denied"] = denied.message
        return render(request, "dashboard/models.html", context)
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    context["page"] = page
    context["rows"] = [model_row(job) for job in page]
    return render(request, "dashboard/models.html", context)


@login_required
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    return render(
        request, "dashboard/endpoints.html", {"profile": profile, "domain": profile.domain}
    )
