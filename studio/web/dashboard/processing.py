"""Processing jobs in the dashboard: a job's page (spec, inputs and outputs with the datasets
they became, timeline, live logs, cost), Stop, log downloads, and the form that starts one,
made by `job_pages` from what is a processing job's own here. Every read and change goes
through `jobs.services`, which decides who may do what; the list is shared with training jobs
(`jobs.job_list`)."""

from typing import Any

from django.urls import reverse
from django.utils.text import Truncator

from jobs.models import ProcessingJob, TrainingJobStatus
from studio.web.dashboard.forms import ProcessingJobForm
from studio.web.dashboard.job_kinds import PROCESSING
from studio.web.dashboard.job_pages import (
    duration,
    form_view,
    log_view,
    page_view,
    stop_view,
)

# The timeline shows the start of a long reason: a failure's is shown whole in the banner
# above it.
REASON_CHARS = 200


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
    """The job's status transitions, each with how long the job stayed in it, as the page's
    timeline shows steps (dashboard/job_page.html)."""
    steps = list(job.transitions())
    timeline = []
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        took = int((following.at - step.at).total_seconds()) if following else None
        timeline.append(
            {
                "status": step.to_status,
                "message": Truncator(step.reason).chars(REASON_CHARS),
                "at": step.at,
                "took": duration(took),
            }
        )
    return timeline


def _page_context(job: ProcessingJob) -> dict[str, Any]:
    """What a processing job's page shows besides what every job's page does."""
    return {"spec": _spec(job), "timeline": _timeline(job)}


job_detail = page_view(PROCESSING, "dashboard/processing_detail.html", _page_context)
job_stop = stop_view(PROCESSING)
job_log = log_view(PROCESSING)
job_new = form_view(PROCESSING, ProcessingJobForm, "dashboard/processing_new.html")
