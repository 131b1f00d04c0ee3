"""CreateImage, DescribeImage, ListImages, UpdateImage, DeleteImage, CreateImageVersion,
DescribeImageVersion, ListImageVersions, DeleteImageVersion; and `resolve_image`, which turns
what a job names as its image into the container reference the runtime runs.

SageMaker's own image URIs (what the SDK's `image_uris.retrieve` gives for the scikit-learn
framework and the built-in algorithms, in any region, partition and account) name Studio's
`sklearn` image, which runs both (docs/images-and-uris.md).

Images are site-wide (docs/images.md): superusers register and delete them, every signed-in
user may read them. The registry is the runtime's own image store, so there is nothing to copy:
a new image or version is CREATED at once, and deleting one never deletes the container image.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from domains.permissions import User, authorize
from domains.services.tags import forget_tags, save_tags
from jobs import builtin_algorithms
from jobs.models import Image, ImageStatus, ImageVersion, ImageVersionStatus
from jobs.models.images import (
    SAGEMAKER_REPOSITORIES,
    default_role_arn,
    runtime_reference,
    sagemaker_repository,
)
from studio.core.errors import AccessDenied, ResourceInUse, ResourceNotFound, ValidationException
from studio.core.images import buildable_images, image_ref
from studio.core.lifecycle import record_creation, transition
from studio.core.runtime import get_runtime, runtime_name
from studio.core.runtime.base import sandbox_rootfs
from studio.core.shapes import validate, validate_name

TRAINING_IMAGE = "AlgorithmSpecification.TrainingImage"
# A Docker image reference: [registry[:port]/]path[:tag][@digest], as `docker pull` takes it.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
# The first component is a registry only if it looks like a host: a dot, a port or localhost.
_REGISTRY = r"(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+(?=:))(?::[0-9]+)?/"
REFERENCE = re.compile(
    rf"(?:{_REGISTRY})?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
_REGISTRY_PREFIX = re.compile(_REGISTRY)
IMAGE_ARN = re.compile(r"arn:aws[\w-]*:sagemaker:[^:]+:[0-9]{12}:image/(?P<name>[a-z0-9.-]+)")
IMAGE_VERSION_ARN = re.compile(
    r"arn:aws[\w-]*:sagemaker:[^:]+:[0-9]{12}:image-version/(?P<name>[a-z0-9.-]+)/(?P<version>[0-9]+)"
)


@dataclass(frozen=True)
class TimeFilters:
    """A List operation's CreationTimeAfter/Before and LastModifiedTimeAfter/Before."""

    created_after: datetime | None = None
    created_before: datetime | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None


def _authorize_read(actor: User, action: str) -> None:
    """Images are the platform's, like instance types: anyone signed in may see them."""
    if not actor.is_authenticated or not actor.is_active:
        raise AccessDenied(f"Sign in to perform {action}.")


def _get_image(name: str, *, for_update: bool = False) -> Image:
    validate_name(name, "ImageName", "ImageName")
    images = Image.objects.select_for_update() if for_update else Image.objects.all()
    image = images.filter(name__iexact=name).first()
    if image is None:
        raise ResourceNotFound(f"Image {name} does not exist.")
    return image


def _check_reference(reference: str) -> None:
    """A BaseImage Studio can run: one of its built-in images (by reference or name), a
    SageMaker URI it serves, or an image already on the active runtime. Studio pulls from no
    registry, so a reference naming one is refused unless the runtime has it already."""
    validate_name(reference, "ImageBaseImage", "BaseImage")
    repository = sagemaker_repository(reference)
    if repository is not None and repository not in SAGEMAKER_REPOSITORIES:
        raise _not_served("BaseImage", reference, repository, "BaseImage")
    if repository is not None or reference in _builtin_references() | set(buildable_images()):
        return
    if not REFERENCE.fullmatch(reference):
        raise ValidationException(
            f"BaseImage {reference!r} is not a container image reference such as "
            "myteam/trainer:1.2 or registry.example:5000/team/image@sha256:<digest>.",
            "BaseImage",
        )
    runtime = runtime_name()
    try:
        present = get_runtime().has_image(reference)
    except Exception as error:  # the engine's own failure; the form must say it, not crash
        raise ValidationException(
            f"The {runtime} runtime could not be asked for {reference!r}: {error}", "BaseImage"
        ) from error
    if present:
        return
    if runtime == "docker":
        how = (
            "Load it into the Docker engine first (`docker load -i image.tar`, or "
            f"`docker build -t {reference} DIR`)"
        )
    else:
        how = (
            f"The sandbox runtime runs an image from its root file system tree at "
            f"{sandbox_rootfs(reference)}; prepare that first"
        )
    registry = _REGISTRY_PREFIX.match(reference)
    unreachable = (
        f"Studio reaches no container registry, so it cannot pull it from "
        f"{registry[0].rstrip('/')}. "
        if registry
        else ""
    )
    raise ValidationException(
        f"BaseImage {reference!r} is not on the {runtime} runtime. {unreachable}{how}; the "
        "built-in images are made with `studio images build NAME` (BaseImage `sklearn`, or "
        "a SageMaker image URI of " + _served() + ").",
        "BaseImage",
    )


def create_image(
    actor: User,
    name: str,
    *,
    display_name: str = "",
    description: str = "",
    role_arn: str | None = None,
    tags: list[dict[str, str]] | None = None,
) -> Image:
    authorize(actor, "sagemaker:CreateImage")
    validate_name(name, "ImageName", "ImageName")
    if display_name:
        validate(display_name, "ImageDisplayName", "DisplayName")
    if description:
        validate(description, "ImageDescription", "Description")
    if role_arn:
        validate(role_arn, "RoleArn", "RoleArn")
    with transaction.atomic():
        if Image.objects.filter(name__iexact=name).exists():
            raise ResourceInUse(f"Image {name} already exists.")
        try:
            with transaction.atomic():
                image = Image.objects.create(
                    name=name,
                    display_name=display_name,
                    description=description,
                    role_arn=role_arn or default_role_arn(),
                    # Nothing to build or copy: the runtime already holds the images.
                    status=ImageStatus.CREATED,
                )
        except IntegrityError as error:  # a concurrent CreateImage of the same name won
            raise ResourceInUse(f"Image {name} already exists.") from error
        record_creation(image)
        if tags:
            save_tags(actor, image.arn, tags)
    return image


def describe_image(actor: User, name: str) -> Image:
    _authorize_read(actor, "sagemaker:DescribeImage")
    return _get_image(name)


def _narrowed(items: QuerySet, times: TimeFilters, sort: str, order: str) -> QuerySet:
    """`items` within the time bounds (After inclusive, Before exclusive), in SageMaker's
    SortBy/SortOrder, ties broken by the primary key so that pages resume exactly."""
    for column, after, before in (
        ("created_at", times.created_after, times.created_before),
        ("last_modified_at", times.modified_after, times.modified_before),
    ):
        if after is not None:
            items = items.filter(**{f"{column}__gte": after})
        if before is not None:
            items = items.filter(**{f"{column}__lt": before})
    if order == "ASCENDING":
        return items.order_by(sort, "pk")
    return items.order_by(f"-{sort}", "-pk")


def _sort_column(sort_by: str | None, columns: dict[str, str], field: str = "SortBy") -> str:
    column = columns.get(sort_by or "CREATION_TIME")
    if column is None:
        raise ValidationException(
            f"{field} must be one of {', '.join(columns)}, not {sort_by!r}.", field
        )
    return column


def _sort_order(sort_order: str | None) -> str:
    if sort_order not in (None, "ASCENDING", "DESCENDING"):
        raise ValidationException(
            f"SortOrder must be ASCENDING or DESCENDING, not {sort_order!r}.", "SortOrder"
        )
    return sort_order or "DESCENDING"


def list_images(
    actor: User,
    *,
    name_contains: str | None = None,
    times: TimeFilters = TimeFilters(),
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> QuerySet[Image]:
    """ListImages: newest first by default (CREATION_TIME, DESCENDING)."""
    _authorize_read(actor, "sagemaker:ListImages")
    images = Image.objects.all()
    if name_contains:
        validate(name_contains, "ImageNameContains", "NameContains")
        images = images.filter(name__icontains=name_contains)
    columns = {
        "CREATION_TIME": "created_at",
        "LAST_MODIFIED_TIME": "last_modified_at",
        "IMAGE_NAME": "name",
    }
    return _narrowed(images, times, _sort_column(sort_by, columns), _sort_order(sort_order))


def update_image(
    actor: User,
    name: str,
    *,
    description: str | None = None,
    display_name: str | None = None,
    role_arn: str | None = None,
    delete_properties: list[str] | None = None,
) -> Image:
    """UpdateImage: a new DisplayName, Description or RoleArn, or DeleteProperties clearing
    DisplayName and Description. Refused while the image is being deleted (ResourceInUse)."""
    authorize(actor, "sagemaker:UpdateImage")
    changes: dict[str, str] = {}
    for prop in delete_properties or []:
        if prop not in ("DisplayName", "Description"):
            raise ValidationException(
                f"DeleteProperties may hold DisplayName and Description, not {prop!r}.",
                "DeleteProperties",
            )
        changes["display_name" if prop == "DisplayName" else "description"] = ""
    for value, shape, member, column in (
        (display_name, "ImageDisplayName", "DisplayName", "display_name"),
        (description, "ImageDescription", "Description", "description"),
        (role_arn, "RoleArn", "RoleArn", "role_arn"),
    ):
        if value is None:
            continue
        if column in changes:
            raise ValidationException(
                f"{member} cannot be both set and in DeleteProperties.", member
            )
        validate(value, shape, member)
        changes[column] = value
    with transaction.atomic():
        image = _get_image(name, for_update=True)
        if image.status not in (ImageStatus.CREATED, ImageStatus.UPDATE_FAILED):
            raise ResourceInUse(f"Image {image.name} is {image.status}; it cannot be updated.")
        transition(image, ImageStatus.UPDATING)
        for column, value in changes.items():
            setattr(image, column, value)
        image.save(update_fields=[*changes, "last_modified_at"])
        # Nothing to rebuild: the new properties are the image's at once.
        transition(image, ImageStatus.CREATED)
    return image


def delete_image(actor: User, name: str) -> None:
    """Delete the image and every version of it; the container images stay on the runtime."""
    authorize(actor, "sagemaker:DeleteImage")
    with transaction.atomic():
        image = _get_image(name, for_update=True)
        for version in image.versions.select_related("image"):
            transition(version, ImageVersionStatus.DELETING)
        transition(image, ImageStatus.DELETING)
        forget_tags(image.arn)
        image.delete()


def create_image_version(
    actor: User, image_name: str, base_image: str, *, client_token: str | None = None
) -> ImageVersion:
    """A new version of `image_name` pointing at `base_image`, which the active runtime must
    already have. A repeated call with the same ClientToken returns the version it made."""
    authorize(actor, "sagemaker:CreateImageVersion")
    if client_token:
        validate(client_token, "ClientToken", "ClientToken")
    with transaction.atomic():
        image = _get_image(image_name, for_update=True)
        if client_token:
            made = image.versions.filter(client_token=client_token).first()
            if made is not None:
                return made
        if image.status != ImageStatus.CREATED:
            raise ResourceInUse(f"Image {image.name} is {image.status}, not CREATED.")
        _check_reference(base_image)
        # The image row is locked, so two callers cannot take the same number.
        image.last_version += 1
        image.save(update_fields=["last_version"])
        version = ImageVersion.objects.create(
            image=image,
            version=image.last_version,
            base_image=base_image,
            client_token=client_token or "",
            status=ImageVersionStatus.CREATED,
        )
        record_creation(version)
    return version


def _get_version(image: Image, version: int | None) -> ImageVersion:
    if version is None:
        found = image.versions.select_related("image").order_by("-version").first()
        if found is None:
            raise ResourceNotFound(f"Image {image.name} has no versions.")
        return found
    validate(version, "ImageVersionNumber", "Version")
    found = image.versions.select_related("image").filter(version=version).first()
    if found is None:
        raise ResourceNotFound(f"Image {image.name} has no version {version}.")
    return found


def describe_image_version(
    actor: User, image_name: str, version: int | None = None
) -> ImageVersion:
    """The given version, or the latest one when `version` is None (as SageMaker does)."""
    _authorize_read(actor, "sagemaker:DescribeImageVersion")
    return _get_version(_get_image(image_name), version)


def list_image_versions(
    actor: User,
    image_name: str,
    *,
    times: TimeFilters = TimeFilters(),
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> QuerySet[ImageVersion]:
    """ListImageVersions: newest first by default (CREATION_TIME, DESCENDING)."""
    _authorize_read(actor, "sagemaker:ListImageVersions")
    versions = _get_image(image_name).versions.select_related("image")
    columns = {
        "CREATION_TIME": "created_at",
        "LAST_MODIFIED_TIME": "last_modified_at",
        "VERSION": "version",
    }
    return _narrowed(versions, times, _sort_column(sort_by, columns), _sort_order(sort_order))


def delete_image_version(actor: User, image_name: str, version: int) -> None:
    authorize(actor, "sagemaker:DeleteImageVersion")
    with transaction.atomic():
        found = _get_version(_get_image(image_name, for_update=True), version)
        transition(found, ImageVersionStatus.DELETING)
        found.delete()


def _registered() -> str:
    """The registered images, for an error message: `sklearn (studio/sklearn:latest), ...`."""
    latest = {}
    for version in ImageVersion.objects.filter(
        status=ImageVersionStatus.CREATED, image__status=ImageStatus.CREATED
    ).select_related("image"):
        if version.version > latest.get(version.image.name, (0, ""))[0]:
            latest[version.image.name] = (version.version, version.base_image)
    return ", ".join(f"{name} ({ref})" for name, (_, ref) in sorted(latest.items())) or "none"


def _served() -> str:
    """What Studio serves for SageMaker's image URIs, for an error message."""
    return ", ".join(SAGEMAKER_REPOSITORIES)


def _not_served(label: str, reference: str, repository: str, field: str) -> ValidationException:
    return ValidationException(
        f"{label} {reference}: Studio does not serve the ECR repository {repository!r} and "
        f"reaches no registry. SageMaker image URIs of these repositories run Studio's "
        f"sklearn image: {_served()} (any region, account and tag). For another image, an "
        "admin loads it into the runtime and registers it with CreateImage and "
        "CreateImageVersion; name it by its ImageArn.",
        field,
    )


def _registered_reference(reference: str, field: str) -> str:
    """The reference a job's image stands for, before mapping: an ImageVersionArn's or
    ImageArn's BaseImage, a SageMaker URI Studio serves, a built-in, or a registered
    version's BaseImage. ValidationException naming `field` for anything else."""
    label = field.rsplit(".", 1)[-1]
    created = ImageVersion.objects.filter(
        status=ImageVersionStatus.CREATED, image__status=ImageStatus.CREATED
    )
    match = IMAGE_VERSION_ARN.fullmatch(reference)
    if match:
        version = created.filter(
            image__name__iexact=match["name"], version=int(match["version"])
        ).first()
        if version is None or version.arn != reference:
            raise ValidationException(
                f"{label} {reference}: no such image version here. Registered images: "
                f"{_registered()}.",
                field,
            )
        return version.base_image
    match = IMAGE_ARN.fullmatch(reference)
    if match:
        image = Image.objects.filter(name__iexact=match["name"], status=ImageStatus.CREATED).first()
        if image is None or image.arn != reference:
            raise ValidationException(
                f"{label} {reference}: no such image here. Registered images: {_registered()}.",
                field,
            )
        latest = image.latest_version()
        if latest is None:
            raise ValidationException(
                f"{label} {reference}: image {image.name} has no CREATED version; "
                "add one with CreateImageVersion.",
                field,
            )
        return latest.base_image
    repository = sagemaker_repository(reference)
    if repository is not None:
        if repository in SAGEMAKER_REPOSITORIES:
            return reference
        raise _not_served(label, reference, repository, field)
    if reference in _builtin_references() or created.filter(base_image=reference).exists():
        return reference
    raise ValidationException(
        f"{label} {reference!r} is not a registered image. Give an ImageArn, an "
        f"ImageVersionArn, the reference of a registered version, or a SageMaker image URI "
        f"of {_served()}; registered images: {_registered()}. An admin registers others "
        "with CreateImage and CreateImageVersion.",
        field,
    )


def resolve_image(reference: str, field: str = TRAINING_IMAGE) -> str:
    """The container reference for what a job names as its image: an ImageVersionArn, an
    ImageArn (its latest CREATED version), a registered version's BaseImage, or a SageMaker
    ECR URI of the scikit-learn container or a built-in algorithm (Studio's sklearn image).

    The built-in images (`studio/NAME:latest` for each images/NAME/) are always accepted: the
    platform runs them for built-in algorithms whatever the registry holds. Errors name
    `field` (a training job's TrainingImage, a model's container Image).
    """
    return runtime_reference(_registered_reference(reference, field))


def builtin_algorithm(algorithm: dict, hyperparameters: dict[str, str] | None = None) -> str | None:
    """The built-in algorithm a training job's AlgorithmSpecification runs: its AlgorithmName,
    or the one whose SageMaker image its TrainingImage names (directly or as a registered
    version's BaseImage). None for script mode, which a job asks for with a
    `sagemaker_program` hyperparameter even on SageMaker's xgboost image (the SDK's XGBoost
    estimator with an entry point) and always on the scikit-learn image."""
    if algorithm.get("AlgorithmName"):
        return algorithm["AlgorithmName"]
    if not algorithm.get("TrainingImage") or "sagemaker_program" in (hyperparameters or {}):
        return None
    try:
        reference = _registered_reference(algorithm["TrainingImage"], TRAINING_IMAGE)
    except ValidationException:
        return None
    return SAGEMAKER_REPOSITORIES.get(sagemaker_repository(reference) or "")


def _builtin_references() -> set[str]:
    return {builtin_algorithms.BUILTIN_IMAGE, *(image_ref(n) for n in buildable_images())}


def training_image(algorithm: dict) -> str:
    """The container reference a training job with this AlgorithmSpecification runs."""
    if algorithm.get("TrainingImage"):
        return resolve_image(algorithm["TrainingImage"])
    return builtin_algorithms.BUILTIN_IMAGE
