"""CreateModel, DescribeModel, ListModels, DeleteModel, and a model from a finished training
job in one step (the dashboard's "Create model")."""

import copy
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from domains.models import Domain
from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from jobs import builtin_algorithms
from jobs.models import Model, ModelPackage, TrainingJob, TrainingJobStatus
from jobs.services.common import require_profile, role_arn, with_role
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


def _from_package(actor: User, domain: Domain, container: dict[str, Any], field: str) -> None:
    """Fill a container that names a ModelPackageName with that version's own container
    (Image, ModelDataUrl; its Environment under the container's): only an Approved version is
    deployed. The model keeps the name, as SageMaker's Describe shows it."""
    name_field = f"{field}.ModelPackageName"
    for member in ("Image", "ModelDataUrl"):
        if container.get(member):
            raise ValidationException(
                f"{field}: give either ModelPackageName or {member}; the model package "
                "version gives the image and the model.",
                f"{field}.{member}",
            )
    reference = container["ModelPackageName"]
    package = ModelPackage.find(domain, reference)
    if package is None:
        raise ValidationException(
            f"{name_field}: model package {reference} does not exist.", name_field
        )
    authorize(actor, "sagemaker:DescribeModelPackage", domain=domain, owner=package.profile)
    if not package.is_approved:
        raise ValidationException(
            f"Model package {package.arn} is {package.approval_status}; only Approved "
            "versions are deployed.",
            name_field,
        )
    source = package.containers[0]
    container["Image"] = source["Image"]
    if source.get("ModelDataUrl"):
        container["ModelDataUrl"] = source["ModelDataUrl"]
    environment = {**source.get("Environment", {}), **container.get("Environment", {})}
    if environment:
        container["Environment"] = environment


def _check_container(container: Any, field: str, domain_id: str) -> None:
    if not isinstance(container, dict):
        raise ValidationException(f"{field} must be an object.", field)
    if (container.get("Mode") or "SingleModel") != "SingleModel":
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


def validate_model_request(
    request: Any, domain_id: str, actor: User | None = None
) -> dict[str, Any]:
    """The request with defaults filled, or ValidationException naming the field and rule.
    A container naming a ModelPackageName gets that version's image and model, which only an
    `actor` who may describe it (and only an Approved version) can have."""
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
    container, field = (
        (primary, "PrimaryContainer") if primary else (containers[0], "Containers[0]")
    )
    if isinstance(container, dict) and container.get("ModelPackageName"):
        if actor is None:
            raise ValidationException(f"{field}.ModelPackageName is not accepted here.", field)
        _from_package(actor, get_domain(actor, domain_id), container, field)
    _check_container(container, field, domain_id)
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
    request = with_role(request, "ExecutionRoleArn", profile)
    request = validate_model_request(request, domain.domain_id, actor)
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


def model_from_training_job(actor: User, domain_id: str, job_name: str, model_name: str) -> Model:
    """CreateModel from a Completed training job: its image (the built-in algorithms' image
    for a built-in) and its model.tar.gz."""
    job = describe_training_job(actor, domain_id, job_name)
    if job.status != TrainingJobStatus.COMPLETED:
        raise ValidationException(
            f"Training job {job.name} is {job.status}; only a Completed job has a model to deploy.",
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
