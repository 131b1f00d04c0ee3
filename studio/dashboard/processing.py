"""Processing jobs in the dashboard: a job's page (spec, inputs and outputs with the datasets
they became, timeline, live logs, cost), Stop, log downloads, and the form that starts one.
Every read and change goes through `jobs.services`, which decides who may do what; the list
is shared with training jobs (`jobs.job_list`)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from jobs.models import ProcessingJob, TrainingJobStatus
from jobs.processing.runner import job_dir
from jobs.services import (
    create_processing_job,
    describe_processing_job,
    list_datasets,
    stop_processing_job,
)
from jobs.training.logs import log_path
from jobs.training.workspace import hosts
from studio.dashboard.cost import cost_context
from studio.dashboard.current import current_profile
from studio.dashboard.forms import ProcessingJobForm
from studio.dashboard.jobs import (
    RUNNING,
    denied_page,
    download,
    duration,
    stop_and_return,
    tail,
)
from studio.errors import (
    AccessDenied,
    ResourceInUse,
    ResourceNotFound,
    StudioError,
    ValidationException,
)

WHAT = "processing job"


def _describe_or_404(request: HttpRequest, name: str) -> ProcessingJob:
    """The job if the user may see it. Another domain's job is "not found", as in the API."""
    try:
        return describe_processing_job(request.user, name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e


def _spec(job: ProcessingJob) -> dict[str, Any]:
    """What the job was asked to do, from the request as accepted, for display: each output
    with the dataset it became once the job Completed."""
    request = job.request
    app = request["AppSpecification"]
    completed = job.status == TrainingJobStatus.COMPLETED
    outputs = []
    for item in request.get("ProcessingOutputConfig", {}).get("Outputs", []):
        dataset = job.output_datasets.get(item["OutputName"]) if completed else None
        outputs.append(
            {
                "name": item["OutputName"],
                "uri": item["S3Output"]["S3Uri"],
                "local_path": item["S3Output"]["LocalPath"],
                "dataset": dataset,
                "dataset_url": dataset
                and reverse("dashboard:dataset", args=[job.domain.domain_id, dataset]),
            }
        )
    image = app["ImageUri"]
    resolved = job.runtime_state.get("image", image)
    return {
        "image": image,
        "resolved_image": "" if resolved == image else resolved,
        "entrypoint": " ".join(app.get("ContainerEntrypoint") or []),
        "arguments": " ".join(app.get("ContainerArguments") or []),
        "inputs": [
            {
                "name": item["InputName"],
                "uri": item["S3Input"]["S3Uri"],
                "local_path": item["S3Input"]["LocalPath"],
            }
            for item in request.get("ProcessingInputs", [])
        ],
        "outputs": outputs,
        "environment": sorted(request.get("Environment", {}).items()),
        "max_runtime": request["StoppingCondition"]["MaxRuntimeInSeconds"],
    }


def _timeline(job: ProcessingJob) -> list[dict[str, Any]]:
    """The job's status transitions, each with how long the job stayed in it."""
    steps = list(job.transitions())
    timeline = []
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        took = int((following.at - step.at).total_seconds()) if following else None
        timeline.append(
            {"status": step.to_status, "reason": step.reason, "at": step.at, "took": duration(took)}
        )
    return timeline


def _seconds(job: ProcessingJob) -> int | None:
    if job.processing_start_time is None:
        return None
    end = job.processing_end_time or timezone.now()
    return max(0, int((end - job.processing_start_time).total_seconds()))


@login_required
def job_detail(request: HttpRequest, name: str) -> HttpResponse:
    try:
        job = _describe_or_404(request, name)
    except AccessDenied as denied:
        return denied_page(request, denied, WHAT)
    seconds = _seconds(job)
    billable = None if seconds is None else seconds * job.instance_count
    root = job_dir(job.name)
    context = {
        "job": job,
        "spec": _spec(job),
        "timeline": _timeline(job),
        "logs": [{"host": h, "text": tail(log_path(root, h))} for h in hosts(job.instance_count)],
        **cost_context(job.instance_type, billable),
        "processing_time": duration(seconds),
        "billable_time": duration(billable),
        "now": timezone.now(),
        "running": job.status in RUNNING,
        "can_stop": job.status == TrainingJobStatus.IN_PROGRESS,
    }
    return render(request, "dashboard/processing_detail.html", context)


@login_required
@require_POST
def job_stop(request: HttpRequest, name: str) -> HttpResponse:
    return stop_and_return(request, stop_processing_job, name, "dashboard:processing_job")


@login_required
@require_http_methods(["GET", "HEAD"])
def job_log(request: HttpRequest, name: str, host: str) -> HttpResponse:
    try:
        job = _describe_or_404(request, name)
    except AccessDenied as denied:
        return denied_page(request, denied, WHAT)
    if host not in hosts(job.instance_count):
        raise Http404(f"Processing job {name} has no host {host}.")
    path = log_path(job_dir(job.name), host)
    if not path.is_file():
        raise Http404(f"Processing job {name} has no log for {host} yet.")
    return download(path, f"{job.name}-{host}.log", "text/plain; charset=utf-8")


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
    form = ProcessingJobForm(
        request.POST or None, request.FILES or None, domain=domain, datasets=datasets
    )
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        # The script goes in first: the service checks that every input it names exists.
        if not form.store_script():
            form.add_error("name", f"A job named {name} has code stored already; pick another.")
        else:
            try:
                job = create_processing_job(request.user, domain.domain_id, form.request())
            except StudioError as refused:
                form.remove_script()
                if isinstance(refused, ValidationException):
                    form.show_error(refused)
                else:
                    # ResourceLimitExceeded, AccessDenied, ResourceInUse: about the whole
                    # request, unless it is the name that is taken.
                    taken = isinstance(refused, ResourceInUse) and name in str(refused)
                    form.add_error("name" if taken else None, refused.message)
            else:
                messages.success(request, f"Processing job {job.name} was created.")
                return redirect("dashboard:processing_job", name=job.name)
    return render(request, "dashboard/processing_new.html", {"form": form, "domain": domain})
