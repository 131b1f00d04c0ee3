"""Batch transform: SageMaker's CreateTransformJob, DescribeTransformJob, ListTransformJobs and
StopTransformJob, so that boto3 code and the SageMaker SDK's Transformer run here."""

from typing import Any

from jobs.models import TransformJob
from jobs.services import transform
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

# SageMaker's default order for ListTransformJobs, as botocore documents it.
COLUMNS = Columns(default_sort="CreationTime", default_order="Descending")


@operation("CreateTransformJob")
def create_transform_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    job = create_tagged(
        caller,
        params,
        lambda: transform.create_transform_job(caller.user, caller.domain_id, params),
    )
    return {"TransformJobArn": job.arn}


def _summary(job: TransformJob) -> dict[str, Any]:
    return without_none(
        {
            "TransformJobName": job.name,
            "TransformJobArn": job.arn,
            "CreationTime": timestamp(job.created_at),
            "TransformEndTime": timestamp(job.transform_end_time),
            "LastModifiedTime": timestamp(job.last_modified_at),
            "TransformJobStatus": job.status,
            "FailureReason": job.failure_reason,
        }
    )


@operation("DescribeTransformJob")
def describe_transform_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    name = params["TransformJobName"]
    job = transform.describe_transform_job(caller.user, caller.domain_id, name)
    members = shape("DescribeTransformJobResponse")["members"]
    summary = _summary(job)
    summary.pop("LastModifiedTime", None)  # not a member of Describe's answer
    return without_none(
        {
            **{key: value for key, value in job.request.items() if key in members},
            **summary,
            "TransformStartTime": timestamp(job.transform_start_time),
        }
    )


@operation("ListTransformJobs")
def list_transform_jobs(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = transform.list_transform_jobs(
        caller.user, caller.domain_id, status=params.get("StatusEquals")
    )
    return listing("TransformJobSummaries", narrowed(found, params, COLUMNS), _summary, params)


@operation("StopTransformJob")
def stop_transform_job(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    transform.stop_transform_job(caller.user, caller.domain_id, params["TransformJobName"])
    return {}
