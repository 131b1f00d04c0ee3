"""Training and processing jobs: SageMaker's Create, Describe, List, Stop and Delete of each, so
that boto3 code (and the SageMaker SDK's estimators and processors, which call them) runs
here."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from jobs.models import ProcessingJob, TrainingJob
from jobs.services import processing, training
from studio.core.errors import ResourceNotFound, ValidationException
from studio.core.shapes import shape
from studio.web.api.auth import Caller
from studio.web.api.registry import (
    Columns,
    create_tagged,
    listing,
    narrowed,
    operation,
    timestamp,
    without_none,
)

# SageMaker's default order for both List operations, as botocore documents it.
JOB_COLUMNS = Columns(default_sort="CreationTime", default_order="Ascending")
NOT_FOUND = "Requested resource not found."

Result = TypeVar("Result")


def _iso(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def _echo(request: dict[str, Any], response_shape: str) -> dict[str, Any]:
    """The members of the stored request that SageMaker's Describe answer repeats."""
    members = shape(response_shape)["members"]
    return {key: value for key, value in request.items() if key in members}


def _found(field: str, call: Callable[[], Result]) -> Result:
    """`call()`, a service call naming one job. SageMaker answers a job that does not exist
    (or is another account's) with ValidationException "Requested resource not found." on
    Describe, Stop and Delete alike; botocore's waiters and the SDK match on it. The
    services' ResourceNotFound says the same for the dashboard in its own words."""
    try:
        return call()
    except ResourceNotFound:
        raise ValidationException(NOT_FOUND, field) from None


def _training_job(caller: Caller, name: str) -> TrainingJob:
    """A key acts in its profile's domain only, and job names are unique per domain (as per
    account in SageMaker): a job is looked up by name in the caller's domain, so another
    domain's job of the same name is unknown here, exactly like a name nobody uses."""
    return _found(
        "TrainingJobName",
        lambda: training.describe_training_job(caller.user, caller.domain_id, name),
    )


def _processing_job(caller: Caller, name: str) -> ProcessingJob:
    return _found(
        "ProcessingJobName",
        lambda: processing.describe_processing_job(caller.user, caller.domain_id, name),
    )


@operation("CreateTrainingJob")
def create_training_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    job = create_tagged(
        caller,
        params,
        lambda: training.create_training_job(caller.user, caller.domain_id, params),
    )
    return {"TrainingJobArn": job.arn}


def _model_artifacts(job: TrainingJob) -> dict[str, str]:
    """ModelArtifacts is a required member of the answer: before the job has uploaded its
    model, where it will be (`<S3OutputPath>/<job>/output/model.tar.gz`), as SageMaker says."""
    if job.model_artifacts:
        return {"S3ModelArtifacts": job.model_artifacts}
    output = job.request["OutputDataConfig"]["S3OutputPath"].rstrip("/")
    return {"S3ModelArtifacts": f"{output}/{job.name}/output/model.tar.gz"}


@operation("DescribeTrainingJob")
def describe_training_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    job = _training_job(caller, params["TrainingJobName"])
    return without_none(
        {
            **_echo(job.request, "DescribeTrainingJobResponse"),
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "TrainingJobStatus": job.status,
            "SecondaryStatus": job.secondary_status,
            "FailureReason": job.failure_reason,
            "CreationTime": timestamp(job.created_at),
            "LastModifiedTime": timestamp(job.last_modified_at),
            "TrainingStartTime": timestamp(job.training_start_time),
            "TrainingEndTime": timestamp(job.training_end_time),
            "TrainingTimeInSeconds": job.training_seconds,
            "BillableTimeInSeconds": job.billable_seconds,
            "ModelArtifacts": _model_artifacts(job),
            "SecondaryStatusTransitions": [
                without_none(
                    {
                        **step,
                        "StartTime": _iso(step.get("StartTime")),
                        "EndTime": _iso(step.get("EndTime")),
                    }
                )
                for step in job.secondary_status_transitions
            ],
            "FinalMetricDataList": [
                {**metric, "Timestamp": _iso(metric.get("Timestamp"))}
                for metric in job.final_metrics
            ]
            or None,
        }
    )


def _training_summary(job: TrainingJob) -> dict[str, Any]:
    return without_none(
        {
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "CreationTime": timestamp(job.created_at),
            "TrainingEndTime": timestamp(job.training_end_time),
            "LastModifiedTime": timestamp(job.last_modified_at),
            "TrainingJobStatus": job.status,
            "SecondaryStatus": job.secondary_status,
        }
    )


@operation("ListTrainingJobs")
def list_training_jobs(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = training.list_training_jobs(
        caller.user, caller.domain_id, status=params.get("StatusEquals")
    )
    if params.get("WarmPoolStatusEquals") or params.get("TrainingPlanArnEquals"):
        # Studio keeps no training warm pools and has no training plans: no job has either.
        found = found.none()
    return listing(
        "TrainingJobSummaries", narrowed(found, params, JOB_COLUMNS), _training_summary, params
    )


@operation("StopTrainingJob")
def stop_training_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    name = params["TrainingJobName"]
    _found(
        "TrainingJobName",
        lambda: training.stop_training_job(caller.user, caller.domain_id, name),
    )
    return {}


@operation("DeleteTrainingJob")
def delete_training_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    name = params["TrainingJobName"]
    _found(
        "TrainingJobName",
        lambda: training.delete_training_job(caller.user, caller.domain_id, name),
    )
    return {}


@operation("CreateProcessingJob")
def create_processing_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    job = create_tagged(
        caller,
        params,
        lambda: processing.create_processing_job(caller.user, caller.domain_id, params),
    )
    return {"ProcessingJobArn": job.arn}


def _processing_summary(job: ProcessingJob) -> dict[str, Any]:
    return without_none(
        {
            "ProcessingJobName": job.name,
            "ProcessingJobArn": job.arn,
            "CreationTime": timestamp(job.created_at),
            "ProcessingEndTime": timestamp(job.processing_end_time),
            "LastModifiedTime": timestamp(job.last_modified_at),
            "ProcessingJobStatus": job.status,
            "FailureReason": job.failure_reason,
            "ExitMessage": job.exit_message,
        }
    )


@operation("DescribeProcessingJob")
def describe_processing_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    job = _processing_job(caller, params["ProcessingJobName"])
    return without_none(
        {
            **_echo(job.request, "DescribeProcessingJobResponse"),
            **_processing_summary(job),
            "ProcessingStartTime": timestamp(job.processing_start_time),
        }
    )


@operation("ListProcessingJobs")
def list_processing_jobs(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = processing.list_processing_jobs(
        caller.user, caller.domain_id, status=params.get("StatusEquals")
    )
    return listing(
        "ProcessingJobSummaries",
        narrowed(found, params, JOB_COLUMNS),
        _processing_summary,
        params,
    )


@operation("StopProcessingJob")
def stop_processing_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ProcessingJobName"]
    _found(
        "ProcessingJobName",
        lambda: processing.stop_processing_job(caller.user, caller.domain_id, name),
    )
    return {}


@operation("DeleteProcessingJob")
def delete_processing_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ProcessingJobName"]
    _found(
        "ProcessingJobName",
        lambda: processing.delete_processing_job(caller.user, caller.domain_id, name),
    )
    return {}
