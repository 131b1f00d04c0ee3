"""Training jobs in the dashboard: the list, a job's page (spec, timeline, logs, charts,
artifacts, cost), Stop, downloads, and the form that starts one. Every read and change goes
through `jobs.services`, which decides who may do what."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from jobs.models import InstanceType, MetricPoint, TrainingJob, TrainingJobStatus
from jobs.services import (
    create_training_job,
    describe_training_job,
    list_datasets,
    list_training_jobs,
    stop_training_job,
)
from jobs.training import workspace
from jobs.training.logs import log_path
from studio import storage
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


def _denied(request: HttpRequest, denied: AccessDenied) -> HttpResponse:
    return render(request, "dashboard/jobs_denied.html", {"denied": denied.message}, status=403)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    status = request.GET.get("status", "")
    contains = request.GET.get("q", "").strip()
    mine = request.GET.get("mine") == "1"
    context: dict[str, Any] = {
        "profile": profile,
        "domain": profile.domain,
        "statuses": TrainingJobStatus.values,
        "status": status,
        "q": contains,
        "mine": mine,
    }
    try:
        jobs = list_training_jobs(
            request.user, profile.domain.domain_id, status=status or None, name_contains=contains
        )
    except AccessDenied as denied:
        context["denied"] = denied.message
        return render(request, "dashboard/jobs_list.html", context)
    except ValidationException as invalid:
        context["invalid"] = invalid.message
        return render(request, "dashboard/jobs_list.html", context)
    if mine:
        jobs = jobs.filter(profile=profile)
    # Two queries (count, page) whatever the page holds: the profile comes joined in.
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    context["page"] = page
    context["rows"] = [(job, duration(job.training_seconds)) for job in page]
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


def _tail(path: Path) -> str:
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
    price = (
        InstanceType.objects.filter(name=job.instance_type)
        .values_list("price_per_hour", flat=True)
        .first()
    )
    billable = job.billable_seconds
    root = workspace.job_dir(job.name)
    hosts = workspace.hosts(job.instance_count)
    context = {
        "job": job,
        "spec": _spec(job),
        "timeline": _timeline(job),
        "logs": [{"host": h, "text": _tail(log_path(root, h))} for h in hosts],
        "metrics": _metric_series(job),
        "artifacts": [a for a in ARTIFACTS if _artifact_path(job, a)],
        "price": price,
        "price_label": "" if price is None else f"{float(price):g}",
        "cost": None if price is None or billable is None else price * billable / Decimal(3600),
        "training_time": duration(job.training_seconds),
        "billable_time": duration(billable),
        "now": timezone.now(),
        "running": job.status in RUNNING,
        "can_stop": job.status == TrainingJobStatus.IN_PROGRESS,
    }
    return render(request, "dashboard/jobs_detail.html", context)


@login_required
@require_POST
def job_stop(request: HttpRequest, name: str) -> HttpResponse:
    try:
        stop_training_job(request.user, name)
    except ResourceNotFound as e:
        raise Http404(e.message) from e
    except StudioError as e:
        # AccessDenied (not the owner), or a job that is no longer InProgress.
        messages.error(request, e.message)
    else:
        messages.success(request, f"Stopping {name}: the container gets SIGTERM, then SIGKILL.")
    return redirect("dashboard:job", name=name)


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


def _download(path: Path, filename: str, content_type: str) -> StreamingHttpResponse:
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
    return _download(path, f"{job.name}-{host}.log", "text/plain; charset=utf-8")


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
    return _download(path, f"{job.name}-{artifact}", "application/gzip")


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
            return redirect(reverse("dashboard:job", kwargs={"name": job.name}))
    return render(request, "dashboard/jobs_new.html", {"form": form, "domain": domain})
