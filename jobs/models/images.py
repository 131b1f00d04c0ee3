"""Image and ImageVersion, in SageMaker's shape: the container images admins register
(bring your own container), each a named series of versions pointing at a container reference.

Images are site-wide, as in SageMaker (an account's images, not a domain's): see docs/images.md.
"""

import re
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from domains.models import arn
from jobs.builtin_algorithms import BUILTIN_IMAGE
from studio.core.events import resource_group
from studio.core.images import buildable_images, image_ref
from studio.core.lifecycle import LifecycleModel

# An image in Amazon ECR, as the SDK builds SageMaker's: <account>.dkr.ecr.<region>.<the
# partition's DNS suffix>/<repository>:<tag>. The suffix is any host name (amazonaws.com,
# amazonaws.com.cn, c2s.ic.gov, sc2s.sgov.gov, csp.hci.ic.gov, and partitions yet to come).
ECR_URI = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)"
    r"\.(?P<suffix>[a-z0-9-]+(?:\.[a-z0-9-]+)+)"
    r"/(?P<repository>[a-z0-9][a-z0-9._/-]*?)(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@sha256:[0-9a-f]{64})?"
)
# SageMaker's repositories that Studio's sklearn image stands in for, and the built-in
# algorithm each runs (None: the scikit-learn framework container, which runs script mode).
# Repository names as in the SDK's image_uri_config/*.json; any tag (version) maps.
SAGEMAKER_REPOSITORIES: dict[str, str | None] = {
    "sagemaker-scikit-learn": None,
    "linear-learner": "linear-learner",
    "kmeans": "kmeans",
    "knn": "knn",
    "pca": "pca",
    "randomcutforest": "randomcutforest",
    "sagemaker-xgboost": "xgboost",
    "xgboost": "xgboost",  # the SDK's version "1" of xgboost, the legacy repository
}


def sagemaker_repository(reference: str) -> str | None:
    """The repository of an ECR image URI (`sagemaker-scikit-learn`), else None."""
    match = ECR_URI.fullmatch(reference)
    return match["repository"] if match else None


def runtime_reference(reference: str) -> str:
    """What the runtime runs for a stored reference: Studio's sklearn image for a SageMaker
    URI it serves, a built-in image for its bare name (`sklearn`), else the reference."""
    if sagemaker_repository(reference) in SAGEMAKER_REPOSITORIES:
        return BUILTIN_IMAGE
    if reference in buildable_images():
        return image_ref(reference)
    return reference


class ImageStatus(models.TextChoices):
    CREATING = "CREATING"
    CREATED = "CREATED"
    CREATE_FAILED = "CREATE_FAILED"
    UPDATING = "UPDATING"
    UPDATE_FAILED = "UPDATE_FAILED"
    DELETING = "DELETING"
    DELETE_FAILED = "DELETE_FAILED"


class ImageVersionStatus(models.TextChoices):
    CREATING = "CREATING"
    CREATED = "CREATED"
    CREATE_FAILED = "CREATE_FAILED"
    DELETING = "DELETING"
    DELETE_FAILED = "DELETE_FAILED"


S = ImageStatus
IMAGE_TRANSITIONS = {
    S.CREATING: {S.CREATED, S.CREATE_FAILED},
    S.CREATED: {S.UPDATING, S.DELETING},
    S.UPDATING: {S.CREATED, S.UPDATE_FAILED},
    S.UPDATE_FAILED: {S.UPDATING, S.DELETING},
    S.CREATE_FAILED: {S.DELETING},
    S.DELETING: {S.DELETE_FAILED},
    S.DELETE_FAILED: {S.DELETING},
}
V = ImageVersionStatus
VERSION_TRANSITIONS = {
    V.CREATING: {V.CREATED, V.CREATE_FAILED},
    V.CREATED: {V.DELETING},
    V.CREATE_FAILED: {V.DELETING},
    V.DELETING: {V.DELETE_FAILED},
    V.DELETE_FAILED: {V.DELETING},
}


def default_role_arn() -> str:
    """What CreateImage's required RoleArn says when the caller leaves it out: roles mean
    nothing here, but DescribeImage returns one."""
    return f"arn:aws:iam::{settings.STUDIO_ACCOUNT_ID}:role/studio"


class Image(LifecycleModel):
    TRANSITIONS = IMAGE_TRANSITIONS
    RESOURCE_TYPE = "Image"

    name = models.CharField(max_length=63)
    display_name = models.CharField(max_length=128, blank=True)
    description = models.CharField(max_length=512, blank=True)
    role_arn = models.CharField(max_length=2048, blank=True)
    # Versions are numbered 1, 2, ... and a deleted version's number is never reused, so an
    # ImageVersionArn always means the same container reference.
    last_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            # ARNs hold the name in lower case, so names differing only in case would share one.
            models.UniqueConstraint(Lower("name"), name="image_name_unique_ignoring_case")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def resource_id(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arn(f"image/{self.name.lower()}")

    def event_groups(self) -> list[str]:
        return [resource_group(self.RESOURCE_TYPE, self.name)]

    def latest_version(self) -> "ImageVersion | None":
        """The newest CREATED version: what the image's ARN stands for."""
        return self.versions.filter(status=ImageVersionStatus.CREATED).order_by("-version").first()

    def describe(self) -> dict[str, Any]:
        """DescribeImageResponse, timestamps as seconds since the epoch (as on the wire)."""
        response = {
            "CreationTime": self.created_at.timestamp(),
            "ImageArn": self.arn,
            "ImageName": self.name,
            "ImageStatus": self.status,
            "LastModifiedTime": self.last_modified_at.timestamp(),
            "RoleArn": self.role_arn,
            "DisplayName": self.display_name,
            "Description": self.description,
            "FailureReason": self.failure_reason,
        }
        return {k: v for k, v in response.items() if v != ""}


class ImageVersion(LifecycleModel):
    TRANSITIONS = VERSION_TRANSITIONS
    RESOURCE_TYPE = "ImageVersion"

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    # The container reference the runtime runs: `studio/sklearn:latest`, `myteam/trainer:1.2`.
    base_image = models.CharField(max_length=255)
    # CreateImageVersion's idempotency token: boto3 fills one in, and a retried call with the
    # same token returns the version it made instead of making another.
    client_token = models.CharField(max_length=36, blank=True, editable=False)

    class Meta:
        ordering = ["image__name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["image", "version"], name="image_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.image.name}:{self.version}"

    @property
    def resource_id(self) -> str:
        return f"{self.image.name}/{self.version}"

    @property
    def arn(self) -> str:
        return arn(f"image-version/{self.image.name.lower()}/{self.version}")

    def event_groups(self) -> list[str]:
        return [
            resource_group(Image.RESOURCE_TYPE, self.image.name),
            resource_group(self.RESOURCE_TYPE, self.resource_id),
        ]

    def describe(self) -> dict[str, Any]:
        """DescribeImageVersionResponse. The registry is the runtime's own image store, so the
        container image is what the runtime runs for the base image (SageMaker would copy it
        into its ECR): the base image itself, or Studio's image a SageMaker URI stands for.
        Timestamps as seconds since the epoch (as on the wire)."""
        response = {
            "BaseImage": self.base_image,
            "ContainerImage": runtime_reference(self.base_image),
            "CreationTime": self.created_at.timestamp(),
            "ImageArn": self.image.arn,
            "ImageVersionArn": self.arn,
            "ImageVersionStatus": self.status,
            "LastModifiedTime": self.last_modified_at.timestamp(),
            "Version": self.version,
            "FailureReason": self.failure_reason,
        }
        return {k: v for k, v in response.items() if v != ""}
