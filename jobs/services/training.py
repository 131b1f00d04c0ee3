"""CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob,
DeleteTrainingJob."""

import copy
import io
import shutil
import tarfile
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from domains.services.tags import forget_tags
from jobs import builtin_algorithms
from jobs.models import TrainingJob
from jobs.models.base import JobIdentity
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
from jobs.services.images import builtin_algorithm, resolve_image, training_image
from jobs.training import workspace
from jobs.training.logs import compile_metric_regex
from studio.core import storage
from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from studio.core.models import StatusTransition
from studio.core.runtime import runtime_name
from studio.core.shapes import validate

DEFAULT_MAX_RUNTIME = 86_400  # SageMaker's default: one day
# What a finished job leaves below `<S3OutputPath>/<job>/output/`, as SageMaker's jobs do.
ARTIFACTS = ("model.tar.gz", "output.tar.gz")


def _fill_defaults(request: dict[str, Any]) -> dict[str, Any]:
    """What SageMaker fills in when the caller leaves it out (RoleArn is meaningless here)."""
    request = copy.deepcopy(request)
    request.setdefault("RoleArn", role_arn())
    request.setdefault("StoppingCondition", {}).setdefault(
        "MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME
    )
    if isinstance(request.get("AlgorithmSpecification"), dict):
        request["AlgorithmSpecification"].setdefault("TrainingInputMode", "File")
    if isinstance(request.get("ResourceConfig"), dict):
        request["ResourceConfig"].setdefault("InstanceCount", 1)
        request["ResourceConfig"].setdefault("VolumeSizeInGB", 30)
    return request


def _fail(message: str, field: str) -> None:
    raise ValidationException(message, field)


def _check_algorithm(spec: dict[str, Any]) -> None:
    image, algorithm = spec.get("TrainingImage"), spec.get("AlgorithmName")
    if bool(image) == bool(algorithm):
        _fail(
            "AlgorithmSpecification needs exactly one of TrainingImage or AlgorithmName.",
            "AlgorithmSpecification",
        )
    if algorithm and algorithm not in builtin_algorithms.names():
        _fail(
            f"AlgorithmName {algorithm!r} is not a built-in algorithm; choose one of "
            f"{', '.join(builtin_algorithms.names())}.",
            "AlgorithmSpecification.AlgorithmName",
        )
    if image:
        resolve_image(image)
    if spec.get("TrainingInputMode") != "File":
        _fail(
            "Only TrainingInputMode File is supported.",
            "AlgorithmSpecification.TrainingInputMode",
        )
    for i, definition in enumerate(spec.get("MetricDefinitions", [])):
        # Compiled as the worker will run it (RE2, linear time): refused here, not later.
        compile_metric_regex(
            definition["Regex"], f"AlgorithmSpecification.MetricDefinitions[{i}].Regex"
        )


def _check_channels(channels: list[dict[str, Any]]) -> None:
    seen = set()
    for i, channel in enumerate(channels):
        name = channel["ChannelName"]
        if name in seen:
            _fail(
                f"InputDataConfig[{i}].ChannelName {name!r} appears twice.",
                f"InputDataConfig[{i}].ChannelName",
            )
        seen.add(name)
        source = channel["DataSource"].get("S3DataSource")
        if source is None:
            _fail(f"InputDataConfig[{i}] needs DataSource.S3DataSource.", f"InputDataConfig[{i}]")
        field = f"InputDataConfig[{i}].DataSource.S3DataSource.S3Uri"
        if not storage.artifact_store().exists(source["S3Uri"], field):
            _fail(f"{field}: channel {name!r} has no data at {source['S3Uri']}.", field)


def validate_training_request(request: dict[str, Any]) -> dict[str, Any]:
    """The request with defaults filled, or ValidationException naming the field and rule."""
    if not isinstance(request, dict):
        _fail("The request must be an object.", "CreateTrainingJobRequest")
    request = _fill_defaults(request)
    validate(request, "CreateTrainingJobRequest", "")
    for required in ("AlgorithmSpecification", "ResourceConfig"):
        if required not in request:
            _fail(f"{required} is required.", required)
    _check_algorithm(request["AlgorithmSpecification"])
    algorithm = builtin_algorithm(
        request["AlgorithmSpecification"], request.get("HyperParameters", {})
    )
    if algorithm:
        # As SageMaker checks a built-in's hyperparameters: refused now, the name left free.
        hyperparameters = request.get("HyperParameters", {})
        builtin_algorithms.check_hyperparameters(algorithm, hyperparameters)
        channels = [c.get("ChannelName") for c in request.get("InputDataConfig", [])]
        builtin_algorithms.check_channels(algorithm, hyperparameters, channels)
    _check_channels(request.get("InputDataConfig", []))
    checkpoints = request.get("CheckpointConfig")
    if checkpoints:  # its LocalPath is one of studio.core.shapes' stricter rules
        storage.parse_uri(checkpoints["S3Uri"], "CheckpointConfig.S3Uri")
    storage.parse_uri(request["OutputDataConfig"]["S3OutputPath"], "OutputDataConfig.S3OutputPath")
    config = request["ResourceConfig"]
    if not config.get("InstanceType"):
        _fail("ResourceConfig.InstanceType is required.", "ResourceConfig.InstanceType")
    check_instances(config["InstanceType"], config["InstanceCount"], "ResourceConfig")
    return request


def training_code_uri(domain_id: str, job_name: str) -> str:
    """Where a script uploaded with the request is stored: `sourcedir.tar.gz`, as the SageMaker
    SDK uploads an estimator's `source_dir`."""
    return code_uri(domain_id, job_name, "sourcedir.tar.gz")


def default_output_path(domain_id: str) -> str:
    """Where a job's artifacts go unless its request says otherwise: the domain's bucket."""
    return f"s3://{storage.domain_bucket(domain_id)}/training-output"


def _run_script(domain_id: str, request: dict[str, Any], script: UploadedFile) -> dict[str, Any]:
    """The request with script mode's hyperparameters set to run `script` from where it will
    be stored, as the SDK's estimators set them."""
    # The name becomes part of a URI: refused first as what it is, not as a bad URI.
    validate(request.get("TrainingJobName"), "TrainingJobName", "TrainingJobName")
    request = copy.deepcopy(request)
    hyperparameters = request.setdefault("HyperParameters", {})
    hyperparameters["sagemaker_program"] = PurePosixPath(script.name).name
    hyperparameters["sagemaker_submit_directory"] = training_code_uri(
        domain_id, request["TrainingJobName"]
    )
    return request


def _pack(script: UploadedFile) -> BinaryIO:
    """`script` packed as the SDK packs `source_dir`: a tar.gz holding the one file."""
    script.seek(0)
    content = script.read()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo(PurePosixPath(script.name).name)
        info.size = len(content)
        info.mode = 0o644
        info.mtime = int(timezone.now().timestamp())
        tar.addfile(info, io.BytesIO(content))
    archive.seek(0)
    return archive


def create_training_job(
    actor: User, domain_id: str, request: dict[str, Any], *, code: UploadedFile | None = None
) -> TrainingJob:
    """CreateTrainingJob. `code` is a training script uploaded with the request (the
    dashboard's form): the job runs it in script mode, and it is stored at
    `training_code_uri` in the transaction that creates the job, once the job is admitted."""
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateTrainingJob", domain=domain), "Training jobs"
    )
    if code is not None and isinstance(request, dict):
        request = _run_script(domain.domain_id, request, code)
    # Before validation, which looks into the store: nothing about another domain's
    # bucket (or the host's files) may show, not even whether a path exists.
    storage.check_request_uris(request, domain.domain_id)
    request = validate_training_request(with_role(request, "RoleArn", profile))
    check_max_runtime(profile, request)
    config = request["ResourceConfig"]
    name = request["TrainingJobName"]
    return insert_job(
        TrainingJob,
        domain,
        profile,
        request,
        instance_type=config["InstanceType"],
        count=config["InstanceCount"],
        # Chosen once, here: re-adoption after a restart must use the same runtime even
        # if STUDIO_RUNTIME changed meanwhile.
        runtime_state={
            "runtime": runtime_name(),
            "image": training_image(request["AlgorithmSpecification"]),
        },
        task="jobs.tasks.run_training_job",
        code=None
        if code is None
        else Code(training_code_uri(domain.domain_id, name), _pack(code), replace=True),
    )


def describe_training_job(actor: User, domain_id: str, name: str) -> TrainingJob:
    job = get_job(TrainingJob, actor, domain_id, name)
    authorize(actor, "sagemaker:DescribeTrainingJob", domain=job.domain, owner=job.profile)
    return job


def list_training_jobs(actor: User, domain_id: str, **filters: Any) -> QuerySet[TrainingJob]:
    """ListTrainingJobs; `filters` as `list_jobs_of` takes them."""
    return list_jobs_of(TrainingJob, actor, domain_id, **filters)


def stop_training_job(actor: User, domain_id: str, name: str) -> TrainingJob:

    return request_stop(TrainingJob, actor, domain_id, name, "jobs.tasks.run_training_job")


def delete_training_job(actor: User, domain_id: str, name: str) -> None:
    """DeleteTrainingJob: forget a job that has ended (Completed, Failed or Stopped), so that
    its name can be used again: its row, its metrics, its status history, its tags and its
    tree on the host (logs). What it wrote to the store stays, as SageMaker leaves S3 alone."""
    delete_ended_job(TrainingJob, actor, domain_id, name, workspace.job_dir(domain_id, name))


def delete_ended_job(model, actor: User, domain_id: str, name: str, tree: Path) -> None:
    """Delete{Training,Processing}Job: the job `name` of `model`, once it has ended. A job still
    InProgress or Stopping is refused (ResourceInUse, as SageMaker documents): its containers
    are running. The history is keyed by the job's name in its domain, so it goes too, lest a
    new job of the same name inherit it."""
    job = get_job(model, actor, domain_id, name)
    authorize(actor, f"sagemaker:Delete{model.RESOURCE_TYPE}", domain=job.domain, owner=job.profile)
    label = model.RESOURCE_TYPE.removesuffix("Job")
    with transaction.atomic():
        status = model.objects.select_for_update().filter(pk=job.pk).values_list("status")
        current = status.first()
        if current is None:  # deleted meanwhile: as gone as one never made
            raise ResourceNotFound(f"{label} job {name} does not exist.")
        if current[0] in JobIdentity.HOLDING_STATUSES:
            raise ResourceInUse(
                f"{label} job {name} is {current[0]}; only a job that has ended (Completed, "
                "Failed or Stopped) can be deleted. Stop it first."
            )
        StatusTransition.objects.filter(
            resource_type=model.RESOURCE_TYPE, resource_id=job.resource_id
        ).delete()
        forget_tags(job.arn)
        job.delete()
        transaction.on_commit(partial(remove_job_tree, tree))


def remove_job_tree(tree: Path) -> None:
    """A deleted job's directory on this host. Its containers wrote below it, so rmtree must
    not follow links there (it works by descriptors where `avoids_symlink_attacks`); the path
    itself is Studio's, made of the domain id and a checked name. A second host's tree is
    left to that host."""
    if not shutil.rmtree.avoids_symlink_attacks or tree.is_symlink():
        return
    shutil.rmtree(tree, ignore_errors=True)


def training_job_artifacts(job: TrainingJob) -> dict[str, storage.StoredObject]:
    """The artifacts a job the caller has described wrote, by name."""
    output = job.request["OutputDataConfig"]["S3OutputPath"]
    store = storage.artifact_store()
    found = {}
    for artifact in ARTIFACTS:
        try:
            stored = store.head(storage.join(output, job.name, "output", artifact))
        except ValidationException:
            continue  # an output path accepted before today's rules: nothing can be there
        if stored is not None:
            found[artifact] = stored
    return found


def open_training_job_artifact(job: TrainingJob, artifact: str) -> tuple[BinaryIO, int]:
    """One of `training_job_artifacts` and its size, for downloading it."""
    stored = training_job_artifacts(job).get(artifact)
    if stored is None:
        raise ResourceNotFound(f"Training job {job.name} has no {artifact}.")
    return storage.artifact_store().open(stored.uri), stored.size
