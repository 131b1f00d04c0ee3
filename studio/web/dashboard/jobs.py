"""Jobs in the dashboard: the list of training and processing jobs together, and a training
job's views: its page (spec, timeline, logs, charts, artifacts, cost), Stop, downloads, and the
form that starts one. The views every kind has are made by `job_pages` from what is a training
job's own here; processing jobs' are in `processing`. Every read and change goes through
`jobs.services`, which decides who may do what."""

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from jobs.models import MetricPoint, TrainingJob, TrainingJobStatus
from jobs.services import list_jobs, open_training_job_artifact, training_job_artifacts
from studio.core.errors import AccessDenied, ResourceNotFound, ValidationException
from studio.web.dashboard.current import current_profile
from studio.web.dashboard.forms import TrainingJobForm
from studio.web.dashboard.job_kinds import KINDS, TRAINING
from studio.web.dashboard.job_pages import (
    download,
    duration,
    elapsed,
    form_view,
    job_view,
    log_view,
    page_view,
    stop_view,
)

PAGE_SIZE = 25


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    kind = request.GET.get("type", "")
    status = request.GET.get("status", "")
    contains = request.GET.get("q", "").strip()
    mine = request.GET.get("mine") == "1"
    context: dict[str, Any] = {
        "profile": profile,
        "domain": profile.domain,
        "kinds": KINDS,
        "kind": kind,
        "statuses": TrainingJobStatus.values,
        "status": status,
        "q": contains,
        "mine": mine,
        "filtered": bool(kind or status or contains or mine),
    }
    try:
        jobs, context["hidden"] = list_jobs(
            request.user,
            profile.domain.domain_id,
            kind=kind,
            status=status,
            name_contains=contains,
            owner=profile if mine else None,
        )
    except AccessDenied as denied:
        context["denied"] = denied.message
        return render(request, "dashboard/jobs_list.html", context)
    except ValidationException as invalid:
        context["invalid"] = invalid.message
        return render(request, "dashboard/jobs_list.html", context)
    # Two queries (count, page) whatever the page holds: the owner's name comes joined in.
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    context["page"] = page
    context["rows"] = [(job, duration(elapsed(job["started"], job["ended"]))) for job in page]
    return render(request, "dashboard/jobs_list.html", context)


def _spec(job: TrainingJob) -> dict[str, Any]:
    """What the job was asked to do, from the request as accepted, for display."""
    request = job.request
    algorithm = request["AlgorithmSpecification"]
    hyperparameters = request.get("HyperParameters", {})
    return {
        "image": algorithm.get("TrainingImage", ""),
        "algorithm": algorithm.get("AlgorithmName", ""),
        "program": hyperparameters.get("sagemaker_program", "").strip('"'),
        "metric_definitions": algorithm.get("MetricDefinitions", []),
        "hyperparameters": sorted(hyperparameters.items()),
        "channels": [
            {
                "name": c["ChannelName"],
                "uri": c["DataSource"]["S3DataSource"]["S3Uri"],
                "content_type": c.get("ContentType", ""),
            }
            for c in request.get("InputDataConfig", [])
        ],
        "output_path": request["OutputDataConfig"]["S3OutputPath"],
        "max_runtime": request["StoppingCondition"]["MaxRuntimeInSeconds"],
    }


def _timeline(job: TrainingJob) -> list[dict[str, Any]]:
    """The job's secondary status transitions, each with how long it took, as the page's
    timeline shows steps (dashboard/job_page.html)."""

    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    steps = []
    for step in job.secondary_status_transitions:
        start, end = when(step.get("StartTime")), when(step.get("EndTime"))
        steps.append(
            {
                "status": step["Status"],
                "message": step.get("StatusMessage", ""),
                "at": start,
                "took": duration(int((end - start).total_seconds())) if start and end else "",
            }
        )
    return steps


def _metric_series(job: TrainingJob) -> dict[str, list[list[Any]]]:
    series: dict[str, list[list[Any]]] = {}
    for name, value, at in MetricPoint.objects.filter(job=job).values_list(
        "name", "value", "timestamp"
    ):
        series.setdefault(name, []).append([at.isoformat(), value])
    return series


def _page_context(job: TrainingJob) -> dict[str, Any]:
    """What a training job's page shows besides what every job's page does."""
    return {
        "spec": _spec(job),
        "timeline": _timeline(job),
        "metrics": _metric_series(job),
        "artifacts": list(training_job_artifacts(job)),
    }


# A completed job's model, made into the viewer's own resources: each button is offered to whom
# its service would allow it (Deploy makes a model, a config and an endpoint).
MODEL_OFFERS = {
    "may_create_model": ("sagemaker:CreateModel",),
    "may_register": ("sagemaker:CreateModelPackage",),
    "may_deploy": (
        "sagemaker:CreateModel",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateEndpoint",
    ),
}
job_detail = page_view(TRAINING, "dashboard/jobs_detail.html", _page_context, MODEL_OFFERS)
job_stop = stop_view(TRAINING)
job_log = log_view(TRAINING)
job_new = form_view(TRAINING, TrainingJobForm, "dashboard/jobs_new.html")


@login_required
@require_http_methods(["GET", "HEAD"])
@job_view(TRAINING)
def job_artifact(request: HttpRequest, job: TrainingJob, artifact: str) -> HttpResponse:
    try:
        opened = open_training_job_artifact(job, artifact)
    except ResourceNotFound as e:
        raise Http404(e.message) from e
    return download(*opened, f"{job.name}-{artifact}", "application/gzip")
