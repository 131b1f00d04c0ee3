"""CreateProcessingJob, DescribeProcessingJob, ListProcessingJobs, StopProcessingJob,
DeleteProcessingJob."""

import copy
from pathlib import PurePosixPath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from jobs.models import ProcessingJob
from jobs.processing import workspace
from jobs.services.common import (
    Code,
    check_instances,
    check_max_runtime,
    code_uri,
    get_job,
    insert_job,
    list_jobs_of,
    request_stop,
    require_profile,
    role_arn,
    with_role,
)
from jobs.services.images import resolve_image
from jobs.services.training import delete_ended_job
from studio.core import storage
from studio.core.errors import ValidationException
from studio.core.runtime import runtime_name
from studio.core.shapes import PROCESSING_ROOT, validate
from studio.core.storage import paths

DEFAULT_MAX_RUNTIME = 86_400
IMAGE_URI = "AppSpecification.ImageUri"
# Where code uploaded with the request is mounted, as the SDK's ScriptProcessor mounts it.
CODE_DIR = "/opt/ml/processing/input/code"


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


def validate_processing_request(
    request: dict[str, Any], uploaded: str | None = None
) -> dict[str, Any]:
    """The request with defaults filled, or ValidationException naming the field and rule.
    Every input must have data in the store but the one at `uploaded`, whose content comes
    with the request (its code)."""
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
        uri_field = f"{field}.S3Input.S3Uri"
        if source["S3Uri"] != uploaded and not storage.artifact_store().exists(
            source["S3Uri"], uri_field
        ):
            raise ValidationException(f"No data at {source['S3Uri']} ({uri_field}).", uri_field)
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


def processing_code_uri(domain_id: str, job_name: str, script: str) -> str:
    """Where a script uploaded with the request is stored, as the SDK's ScriptProcessor stores
    its `code`."""
    return code_uri(domain_id, job_name, script)


def processing_output_uri(domain_id: str, job_name: str, output: str) -> str:
    """Where an output goes unless the request says otherwise: the domain's bucket."""
    return f"s3://{storage.domain_bucket(domain_id)}/processing/{job_name}/{output}"


def s3_input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    """A ProcessingInput: what `uri` names, copied to `local_path` before the job starts."""
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
        },
    }


def _mount_code(
    domain_id: str, request: dict[str, Any], script: UploadedFile
) -> tuple[dict[str, Any], str]:
    """The request with `script` as its first input, "code", mounted at CODE_DIR as the SDK's
    ScriptProcessor adds it; and the URI the script is to be stored at."""
    # The name becomes part of a URI: refused first as what it is, not as a bad URI.
    validate(request.get("ProcessingJobName"), "ProcessingJobName", "ProcessingJobName")
    request = copy.deepcopy(request)
    uri = processing_code_uri(
        domain_id, request["ProcessingJobName"], PurePosixPath(script.name).name
    )
    code = s3_input("code", uri, CODE_DIR)
    request["ProcessingInputs"] = [code, *request.get("ProcessingInputs", [])]
    return request, uri


def create_processing_job(
    actor: User, domain_id: str, request: dict[str, Any], *, code: UploadedFile | None = None
) -> ProcessingJob:
    """CreateProcessingJob. `code` is a script uploaded with the request (the dashboard's
    form): it becomes the job's first input, mounted at CODE_DIR, and is stored at
    `processing_code_uri` in the transaction that creates the job, once the job is admitted;
    ResourceInUse if something is stored there already."""
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateProcessingJob", domain=domain), "Processing jobs"
    )
    uploaded = None
    if code is not None and isinstance(request, dict):
        request, uploaded = _mount_code(domain.domain_id, request, code)
    # Before validation, which looks into the store: nothing about another domain's
    # bucket (or the host's files) may show, not even whether a path exists.
    storage.check_request_uris(request, domain.domain_id)
    request = validate_processing_request(with_role(request, "RoleArn", profile), uploaded)
    check_max_runtime(profile, request)
    cluster = request["ProcessingResources"]["ClusterConfig"]
    if code is not None:
        code.seek(0)
    return insert_job(
        ProcessingJob,
        domain,
        profile,
        request,
        instance_type=cluster["InstanceType"],
        count=cluster.get("InstanceCount", 1),
        # Both chosen once, here: a re-adopted job keeps its runtime and image even if
        # STUDIO_RUNTIME or the image registry changed meanwhile.
        runtime_state={"runtime": runtime_name(), "image": processing_image(request)},
        task="jobs.tasks.run_processing_job",
        code=None if uploaded is None else Code(uploaded, code, replace=False),
    )


def describe_processing_job(actor: User, domain_id: str, name: str) -> ProcessingJob:
    job = get_job(ProcessingJob, actor, domain_id, name)
    authorize(actor, "sagemaker:DescribeProcessingJob", domain=job.domain, owner=job.profile)
    return job


def list_processing_jobs(actor: User, domain_id: str, **filters: Any) -> QuerySet[ProcessingJob]:
    """ListProcessingJobs; `filters` as `list_jobs_of` takes them."""
    return list_jobs_of(ProcessingJob, actor, domain_id, **filters)


def stop_processing_job(actor: User, domain_id: str, name: str) -> ProcessingJob:

    return request_stop(ProcessingJob, actor, domain_id, name, "jobs.tasks.run_processing_job")


def delete_processing_job(actor: User, domain_id: str, name: str) -> None:
    """DeleteProcessingJob: forget a job that has ended, as `delete_training_job` does."""
    delete_ended_job(ProcessingJob, actor, domain_id, name, workspace.job_dir(domain_id, name))
