"""CreateProcessingJob, DescribeProcessingJob, ListProcessingJobs, StopProcessingJob."""

import copy
from pathlib import PurePosixPath
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from jobs.models import ProcessingJob, TrainingJobStatus
from jobs.services.common import (
    admit,
    check_instances,
    check_max_runtime,
    get_job,
    request_stop,
    require_profile,
    role_arn,
)
from jobs.services.images import resolve_image
from studio.core import storage
from studio.core.errors import ValidationException
from studio.core.lifecycle import record_creation
from studio.core.queue import enqueue
from studio.core.runtime import runtime_name
from studio.core.shapes import PROCESSING_ROOT, validate
from studio.core.storage import paths

DEFAULT_MAX_RUNTIME = 86_400
IMAGE_URI = "AppSpecification.ImageUri"


def _local_path(value: str | None, field: str, taken: list[PurePosixPath]) -> PurePosixPath:
    """SageMaker maps inputs and outputs under /opt/ml/processing/; nowhere else. Each is its
    own mount, so none may be another's directory or inside it: one mount would hide, or be
    created inside, the other."""
    if not value:
        raise ValidationException(
            f"{field} is required: a directory under {PROCESSING_ROOT}.", field
        )
    path = PurePosixPath(PROCESSING_ROOT, paths.below(value, PROCESSING_ROOT, field))
    for other in taken:
        if path.is_relative_to(other) or other.is_relative_to(path):
            raise ValidationException(
                f"{field} {path} overlaps {other}, the LocalPath of another input or output "
                "(the same directory, or one inside the other); each needs its own.",
                field,
            )
    taken.append(path)
    return path


def processing_image(request: dict[str, Any]) -> str:
    """The container reference the job runs: its ImageUri resolved as a TrainingImage is (an
    ImageArn, an ImageVersionArn, a registered or built-in reference)."""
    reference = request["AppSpecification"]["ImageUri"]
    try:
        return resolve_image(reference)
    except ValidationException as e:
        # resolve_image speaks of TrainingImage; here the same rules apply to ImageUri.
        message = e.message.replace("TrainingImage", IMAGE_URI, 1)
        raise ValidationException(message, IMAGE_URI) from e


def validate_processing_request(request: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise ValidationException("The request must be an object.", "CreateProcessingJobRequest")
    request = copy.deepcopy(request)
    request.setdefault("RoleArn", role_arn())
    request.setdefault("StoppingCondition", {}).setdefault(
        "MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME
    )
    validate(request, "CreateProcessingJobRequest", "")
    processing_image(request)
    cluster = request["ProcessingResources"]["ClusterConfig"]
    check_instances(
        cluster.get("InstanceType", ""),
        cluster.get("InstanceCount", 1),
        "ProcessingResources.ClusterConfig",
    )
    names: set[str] = set()
    taken: list[PurePosixPath] = []
    for i, item in enumerate(request.get("ProcessingInputs", [])):
        field = f"ProcessingInputs[{i}]"
        if item["InputName"] in names:
            raise ValidationException(
                f"{field}.InputName {item['InputName']!r} appears twice.", f"{field}.InputName"
            )
        names.add(item["InputName"])
        source = item.get("S3Input")
        if source is None:
            raise ValidationException(f"{field} needs S3Input.", field)
        _local_path(source.get("LocalPath"), f"{field}.S3Input.LocalPath", taken)
        if not storage.artifact_store().exists(source["S3Uri"], f"{field}.S3Input.S3Uri"):
            raise ValidationException(
                f"No data at {source['S3Uri']} ({field}.S3Input.S3Uri).", f"{field}.S3Input.S3Uri"
            )
    outputs = request.get("ProcessingOutputConfig", {}).get("Outputs", [])
    for i, item in enumerate(outputs):
        field = f"ProcessingOutputConfig.Outputs[{i}]"
        if item["OutputName"] in names:
            raise ValidationException(
                f"{field}.OutputName {item['OutputName']!r} is already used.",
                f"{field}.OutputName",
            )
        names.add(item["OutputName"])
        destination = item.get("S3Output")
        if destination is None:
            raise ValidationException(f"{field} needs S3Output.", field)
        _local_path(destination.get("LocalPath"), f"{field}.S3Output.LocalPath", taken)
        storage.parse_uri(destination["S3Uri"], f"{field}.S3Output.S3Uri")
    return request


def create_processing_job(actor: User, domain_id: str, request: dict[str, Any]) -> ProcessingJob:
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateProcessingJob", domain=domain), "Processing jobs"
    )
    # Before validation, which looks into the store: nothing about another domain's
    # bucket (or the host's files) may show, not even whether a path exists.
    storage.check_request_uris(request, domain.domain_id)
    request = validate_processing_request(request)
    check_max_runtime(profile, request)
    cluster = request["ProcessingResources"]["ClusterConfig"]
    count = cluster.get("InstanceCount", 1)

    with transaction.atomic():
        admit(
            domain,
            profile,
            ProcessingJob,
            request["ProcessingJobName"],
            cluster["InstanceType"],
            count,
        )
        job = ProcessingJob.objects.create(
            name=request["ProcessingJobName"],
            domain=domain,
            profile=profile,
            request=request,
            status=TrainingJobStatus.IN_PROGRESS,
            instance_type=cluster["InstanceType"],
            instance_count=count,
            # Both chosen once, here: a re-adopted job keeps its runtime and image even if
            # STUDIO_RUNTIME or the image registry changed meanwhile.
            runtime_state={"runtime": runtime_name(), "image": processing_image(request)},
        )
        record_creation(job)
        enqueue("jobs.tasks.run_processing_job", job.pk)
    return job


def describe_processing_job(actor: User, domain_id: str, name: str) -> ProcessingJob:
    job = get_job(ProcessingJob, actor, domain_id, name)
    authorize(actor, "sagemaker:DescribeProcessingJob", domain=job.domain, owner=job.profile)
    return job


def list_processing_jobs(actor: User, domain_id: str) -> QuerySet[ProcessingJob]:
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:ListProcessingJobs", domain=domain)
    return ProcessingJob.objects.filter(domain=domain).select_related("profile")


def stop_processing_job(actor: User, domain_id: str, name: str) -> ProcessingJob:

    return request_stop(ProcessingJob, actor, domain_id, name, "jobs.tasks.run_processing_job")
