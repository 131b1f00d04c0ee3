"""CreateModel, DescribeModel, ListModels, DeleteModel, and a model from a finished training
job in one step (the dashboard's "Create model")."""

import copy
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from jobs import builtin_algorithms
from jobs.models import Model, TrainingJob, TrainingJobStatus
from jobs.services.common import require_profile, role_arn
from jobs.services.images import resolve_image
from jobs.services.training import describe_training_job, training_job_artifacts
from studio.core import storage
from studio.core.errors import ResourceInUse, ValidationException
from studio.core.events import Event, publish
from studio.core.shapes import validate

# The model archive the serving side unpacks into /opt/ml/model.
MODEL_ARCHIVE = "model.tar.gz"


def _not_found(arn: str) -> ValidationException:
    """What SageMaker answers for a model that does not exist (the SDK looks for "Could not
    find" to tell "absent" from other errors)."""
    return ValidationException(f'Could not find model "{arn}".', "ModelName")


def _check_container(container: Any, field: str, domain_id: str) -> None:
    if not isinstance(container, dict):
        raise ValidationException(f"{field} must be an object.", field)
    if container.get("Mode", "SingleModel") != "SingleModel":
        raise ValidationException(f"{field}.Mode: only SingleModel is supported.", f"{field}.Mode")
    if container.get("ModelDataSource"):
        raise ValidationException(
            f"{field}.ModelDataSource is not supported; give ModelDataUrl, the S3 URI of a "
            "model.tar.gz.",
            f"{field}.ModelDataSource",
        )
    if not container.get("Image"):
        raise ValidationException(f"{field}.Image is required.", f"{field}.Image")
    resolve_image(container["Image"], f"{field}.Image")
    url = container.get("ModelDataUrl")
    if url:
        url_field = f"{field}.ModelDataUrl"
        storage.check_access(url, domain_id, url_field)
        if not storage.artifact_store().exists(url, url_field):
            raise ValidationException(f"{url_field}: there is no object at {url}.", url_field)


def validate_model_request(request: Any, domain_id: str) -> dict[str, Any]:
    """The request with defaults filled, or ValidationException naming the field and rule."""
    if not isinstance(request, dict):
        raise ValidationException("The request must be an object.", "CreateModelRequest")
    request = copy.deepcopy(request)
    request.setdefault("ExecutionRoleArn", role_arn())
    validate(request, "CreateModelInput", "")
    primary, containers = request.get("PrimaryContainer"), request.get("Containers")
    if bool(primary) == bool(containers):
        raise ValidationException(
            "Give exactly one of PrimaryContainer or Containers.", "PrimaryContainer"
        )
    if containers and len(containers) > 1:
        raise ValidationException(
            "Containers: inference pipelines (more than one container) are not supported; give "
            "one container.",
            "Containers",
        )
    if primary:
        _check_container(primary, "PrimaryContainer", domain_id)
    else:
        _check_container(containers[0], "Containers[0]", domain_id)
    for field in ("VpcConfig", "InferenceExecutionConfig"):
        if request.get(field):
            raise ValidationException(f"{field} is not supported here.", field)
    return request


def create_model(actor: User, domain_id: str, request: dict[str, Any]) -> Model:
    """CreateModel."""
    domain = get_domain(actor, domain_id)
    profile = require_profile(authorize(actor, "sagemaker:CreateModel", domain=domain), "Models")
    # Before validation, which looks into the store: nothing about another domain's bucket may
    # show, not even whether a path exists.
    storage.check_request_uris(request, domain.domain_id)
    request = validate_model_request(request, domain.domain_id)
    name = request["ModelName"]
    try:
        with transaction.atomic():
            model = Model.objects.create(name=name, domain=domain, profile=profile, request=request)
    except IntegrityError:
        raise ResourceInUse(
            f'Cannot create already existing model "{_arn(domain, name)}".'
        ) from None
    publish_model(model, "created")
    return model


def _arn(domain, name: str) -> str:
    return Model(name=name, domain=domain).arn


def publish_model(model: Model, kind: str) -> None:
    """Tell the dashboard a model was `kind` ("created", "deleted"): models have no status."""
    publish(
        Event(
            kind=kind,
            resource_type=Model.RESOURCE_TYPE,
            resource_id=model.resource_id,
            groups=model.event_groups(),
            data={},
        )
    )


def get_model(actor: User, domain_id: str, name: str) -> Model:
    """The model `name` of the domain, or SageMaker's ValidationException "Could not find"."""
    validate(name, "ModelName", "ModelName")
    domain = get_domain(actor, domain_id)
    model = Model.objects.select_related("domain", "profile").filter(domain=domain, name=name)
    found = model.first()
    if found is None:
        raise _not_found(_arn(domain, name))
    return found


def describe_model(actor: User, domain_id: str, name: str) -> Model:
    model = get_model(actor, domain_id, name)
    authorize(actor, "sagemaker:DescribeModel", domain=model.domain, owner=model.profile)
    return model


def list_models(
    actor: User, domain_id: str, *, name_contains: str | None = None
) -> QuerySet[Model]:
    """ListModels, newest first (SageMaker's default: CreationTime, Descending)."""
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:ListModels", domain=domain)
    models = Model.objects.filter(domain=domain).select_related("domain", "profile")
    if name_contains:
        models = models.filter(name__icontains=name_contains)
    return models.order_by("-created_at")


def delete_model(actor: User, domain_id: str, name: str) -> None:
    """DeleteModel. Endpoints already serving it keep their instances (as in SageMaker)."""
    model = get_model(actor, domain_id, name)
    authorize(actor, "sagemaker:DeleteModel", domain=model.domain, owner=model.profile)
    with transaction.atomic():
        publish_model(model, "deleted")
        model.delete()


def model_from_training_job(
    actor: User, domain_id: str, job_name: str, model_name: str
) -> Model:
    """CreateModel from a Completed training job: its image (the built-in algorithms' image
    for a built-in) and its model.tar.gz."""
    job = describe_training_job(actor, domain_id, job_name)
    if job.status != TrainingJobStatus.COMPLETED:
        raise ValidationException(
            f"Training job {job.name} is {job.status}; only a Completed job has a model to "
            "deploy.",
            "TrainingJobName",
        )
    artifact = training_job_artifacts(job).get(MODEL_ARCHIVE)
    if artifact is None:
        raise ValidationException(
            f"Training job {job.name} wrote no model.tar.gz (its /opt/ml/model was empty).",
            "TrainingJobName",
        )
    return create_model(
        actor,
        domain_id,
        {
            "ModelName": model_name,
            "PrimaryContainer": {
                "Image": training_job_image(job),
                "ModelDataUrl": artifact.uri,
            },
        },
    )


def training_job_image(job: TrainingJob) -> str:
    """The image a training job ran, as a model's container names it."""
    algorithm = job.request["AlgorithmSpecification"]
    return algorithm.get("TrainingImage") or builtin_algorithms.BUILTIN_IMAGE
