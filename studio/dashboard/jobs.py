"""Jobs in the dashboard: the list of training and processing jobs together; a training job's
page (spec, timeline, logs, charts, artifacts, cost), Stop, downloads, and the form that starts
one (processing jobs' own pages are in `processing`). Every read and change goes
through `jobs.services`, which decides who may do what."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import CharField, F, QuerySet, Value
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from domains.models import UserProfile
from domains.permissions import User
from jobs.models import MetricPoint, TrainingJob, TrainingJobStatus
from jobs.services import (
    create_training_job,
    describe_training_job,
    list_datasets,
    list_processing_jobs,
    list_training_jobs,
    stop_training_job,
)
from jobs.training import workspace
from jobs.training.logs import log_path
from studio import storage
from studio.dashboard.cost import cost_context
from studio.dashboard.current import current_profile
from studio.dashboard.forms import TrainingJobForm
from studio.errors import (
    AccessDenied,
    ResourceInUse,
    ResourceNotFound,
    StudioError,
    ValidationException,
)

PAGE_SIZE = 25
# The page opens with the end of each host's log; the whole log is a download away.
TAIL_BYTES = 64 * 1024
TAIL_LINES = 500
CHUNK_BYTES = 256 * 1024
ARTIFACTS = ("model.tar.gz", "output.tar.gz")
RUNNING = {TrainingJobStatus.IN_PROGRESS, TrainingJobStatus.STOPPING}
# The list's type filter: its value → the resource type it shows.
KIND_TYPES = {"training": "TrainingJob", "processing": "ProcessingJob"}
JOB_KINDS = list(KIND_TYPES.values())


def duration(seconds: int | None) -> str:
    """`1 h 02 min`, `3 min 05 s`, `42 s`; empty for a job that has not started."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _describe_or_404(request: HttpRequest, name: str) -> TrainingJob:
    """The job if the user may see it. Another domain's job is "not found", as in the API."""
    try:
        return describe_training_job(request.user, name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(str(e)) from e


def denied_page(request: HttpRequest, denied: AccessDenied, what: str) -> HttpResponse:
    context = {"denied": denied.message, "what": what}
    return render(request, "dashboard/jobs_denied.html", context, status=403)


def _denied(request: HttpRequest, denied: AccessDenied) -> HttpResponse:
    return denied_page(request, denied, "training job")


# The list's columns, the same for both kinds so that one UNION query pages them together.
ROW_FIELDS = ("name", "status", "instance_type", "instance_count", "created_at", "profile_id")


def _rows(jobs: QuerySet, resource_type: str, started: str, ended: str) -> QuerySet:
    return jobs.order_by().values(
        *ROW_FIELDS,
        owner=F("profile__name"),
        resource_type=Value(resource_type, output_field=CharField()),
        started=F(started),
        ended=F(ended),
    )


def job_rows(
    actor: User,
    domain_id: str,
    *,
    kind: str = "",
    status: str = "",
    name_contains: str = "",
    owner: UserProfile | None = None,
) -> tuple[QuerySet, list[str]]:
    """Training and processing jobs of the domain as one queryset of row dicts, newest first
    (a single query however many of each), and why a kind is missing (the actor may not list
    it). AccessDenied when no asked-for kind may be listed; ValidationException for a bad
    filter."""
    if status and status not in TrainingJobStatus.values:
        # Both kinds share SageMaker's job statuses; say it as ListTrainingJobs does.
        raise ValidationException(
            f"StatusEquals must be one of {', '.join(TrainingJobStatus.values)}.", "StatusEquals"
        )
    parts, hidden = [], []
    for resource_type in JOB_KINDS if not kind else [KIND_TYPES[kind]]:
        try:
            if resource_type == "TrainingJob":
                jobs = list_training_jobs(actor, domain_id)
                started, ended = "training_start_time", "training_end_time"
            else:
                jobs = list_processing_jobs(actor, domain_id)
                started, ended = "processing_start_time", "processing_end_time"
        except AccessDenied as denied:
            hidden.append(denied.message)
            continue
        if status:
            jobs = jobs.filter(status=status)
        if name_contains:
            jobs = jobs.filter(name__icontains=name_contains)
        if owner is not None:
            jobs = jobs.filter(profile=owner)
        parts.append(_rows(jobs, resource_type, started, ended))
    if not parts:
        raise AccessDenied(" ".join(hidden))
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return rows.order_by("-created_at", "name"), hidden


def _elapsed(row: dict[str, Any]) -> int | None:
    if row["started"] is None:
        return None
    end = row["ended"] or timezone.now()
    return max(0, int((end - row["started"]).total_seconds()))


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
        "kinds": KIND_TYPES,
        "kind": kind,
        "statuses": TrainingJobStatus.values,
        "status": status,
        "q": contains,
        "mine": mine,
        "filtered": bool(kind or status or contains or mine),
    }
    if kind and kind not in KIND_TYPES:
        context["invalid"] = f"Type must be one of {', '.join(KIND_TYPES)}."
        return render(request, "dashboard/jobs_list.html", context)
    try:
        jobs, context["hidden"] = job_rows(
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
    context["rows"] = [(job, duration(_elapsed(job))) for job in page]
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
    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    steps = []
    for step in job.secondary_status_transitions:
        start, end = when(step.get("StartTime")), when(step.get("EndTime"))
        steps.append(
            {
                "status": step["Status"],
                "message": step.get("StatusMessage", ""),
                "start": start,
                "took": duration(int((end - start).total_seconds())) if start and end else "",
            }
        )
    return steps


def tail(path: Path) -> str:
    """The last lines of a log, read from its end so a 20 MiB log costs no more than a small
    one."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - TAIL_BYTES))
            data = f.read()
    except FileNotFoundError:
        return ""
    lines = data.decode(errors="replace").splitlines()
    if size > TAIL_BYTES:
        lines = lines[1:]  # the first one is cut
    return "\n".join(lines[-TAIL_LINES:])


def _metric_series(job: TrainingJob) -> dict[str, list[list[Any]]]:
    series: dict[str, list[list[Any]]] = {}
    for name, value, at in MetricPoint.objects.filter(job=job).values_list(
        "name", "value", "timestamp"
    ):
        series.setdefault(name, []).append([at.isoformat(), value])
    return series


def _artifact_path(job: TrainingJob, artifact: str) -> Path | None:
    """Where a finished job's artifact is, if it was written: SageMaker's layout
    `<S3OutputPath>/<job>/output/<artifact>`."""
    output = job.request["OutputDataConfig"]["S3OutputPath"]
    uri = storage.join(output, job.name, "output", artifact)
    try:
        path = storage.local_path(uri)
    except ValidationException:
        return None
    return path if path.is_file() else None


@login_required
def job_detail(request: HttpRequest, name: str) -> HttpResponse:
    try:
        job = _describe_or_404(request, name)
    except AccessDenied as denied:
        return _denied(request, denied)
    billable = job.billable_seconds
    root = workspace.job_dir(job.name)
    hosts = workspace.hosts(job.instance_count)
    context = {
        "job": job,
        "spec": _spec(job),
        "timeline": _timeline(job),
        "logs": [{"host": h, "text": tail(log_path(root, h))} for h in hosts],
        "metrics": _metric_series(job),
        "artifacts": [a for a in ARTIFACTS if _artifact_path(job, a)],
        **cost_context(job.instance_type, billable),
        "training_time": duration(job.training_seconds),
        "billable_time": duration(billable),
        "now": timezone.now(),
        "running": job.status in RUNNING,
        "can_stop": job.status == TrainingJobStatus.IN_PROGRESS,
    }
    return render(request, "dashboard/jobs_detail.html", context)


def stop_and_return(request: HttpRequest, stop, name: str, page: str) -> HttpResponse:
    """Call a Stop*Job service for the signed-in user; say how it went on the job's page."""
    try:
        stop(request.user, name)
    except ResourceNotFound as e:
        raise Http404(e.message) from e
    except StudioError as e:
        # AccessDenied (not the owner), or a job that is no longer InProgress.
        messages.error(request, e.message)
    else:
        messages.success(request, f"Stopping {name}: the container gets SIGTERM, then SIGKILL.")
    return redirect(page, name=name)


@login_required
@require_POST
def job_stop(request: HttpRequest, name: str) -> HttpResponse:
    return stop_and_return(request, stop_training_job, name, "dashboard:training_job")


async def _chunks(path: Path, size: int) -> AsyncIterator[bytes]:
    """`size` bytes of `path` in chunks, read in a thread: the event loop keeps serving while
    the disk works, and memory stays at one chunk however large the file. A log still being
    written is cut at the length the response announced."""
    f = await asyncio.to_thread(path.open, "rb")
    try:
        while size > 0:
            chunk = await asyncio.to_thread(f.read, min(CHUNK_BYTES, size))
            if not chunk:
                break
            size -= len(chunk)
            yield chunk
    finally:
        f.close()


def download(path: Path, filename: str, content_type: str) -> StreamingHttpResponse:
    size = path.stat().st_size
    response = StreamingHttpResponse(_chunks(path, size), content_type=content_type)
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def job_log(request: HttpRequest, name: str, host: str) -> HttpResponse:
    try:
        job = _describe_or_404(request, name)
    except AccessDenied as denied:
        return _denied(request, denied)
    if host not in workspace.hosts(job.instance_count):
        raise Http404(f"Training job {name} has no host {host}.")
    path = log_path(workspace.job_dir(job.name), host)
    if not path.is_file():
        raise Http404(f"Training job {name} has no log for {host} yet.")
    return download(path, f"{job.name}-{host}.log", "text/plain; charset=utf-8")


@login_required
@require_http_methods(["GET", "HEAD"])
def job_artifact(request: HttpRequest, name: str, artifact: str) -> HttpResponse:
    try:
        job = _describe_or_404(request, name)
    except AccessDenied as denied:
        return _denied(request, denied)
    path = _artifact_path(job, artifact) if artifact in ARTIFACTS else None
    if path is None:
        raise Http404(f"Training job {name} has no {artifact}.")
    return download(path, f"{job.name}-{artifact}", "application/gzip")


@login_required
def job_new(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    domain = profile.domain
    try:
        datasets = list(list_datasets(request.user, domain.domain_id))
    except AccessDenied:
        datasets = []  # the URI field still works, and creating the job says what is denied
    form = TrainingJobForm(
        request.POST or None, request.FILES or None, domain=domain, datasets=datasets
    )
    if request.method == "POST" and form.is_valid():
        try:
            # The job row and its code land together: the worker is sent the job only when
            # this commits, and a refused request stores no code.
            with transaction.atomic():
                job = create_training_job(request.user, domain.domain_id, form.request())
                form.store_script()
        except ValidationException as invalid:
            form.show_error(invalid)
        except StudioError as refused:
            # ResourceLimitExceeded, AccessDenied, ResourceInUse: about the whole request,
            # unless it is the name that is taken.
            taken = isinstance(refused, ResourceInUse) and form.cleaned_data["name"] in str(refused)
            form.add_error("name" if taken else None, refused.message)
        else:
            messages.success(request, f"Training job {job.name} was created.")
            return redirect(reverse("dashboard:training_job", kwargs={"name": job.name}))
    return render(request, "dashboard/jobs_new.html", {"form": form, "domain": domain})
