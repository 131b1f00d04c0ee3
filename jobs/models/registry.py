"""The model registry in SageMaker's shape: ModelPackageGroups holding versioned ModelPackages,
each with an approval status whose every change is kept (who, when, why).

A group's name is unique in its domain whatever its case, because its ARN (and its versions'
ARNs, `model-package/<group in lower case>/<version>`) carries it in lower case: two names
that differ only in case would share ARNs. Versions are numbered per group from 1 and a number
is never given twice, not even after its version is deleted (as SageMaker's).
"""

import re
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from domains.models import Domain, UserProfile, arn
from jobs.models.base import DomainResource
from studio.core.events import domain_group, profile_group, resource_group
from studio.core.lifecycle import LifecycleModel


class ModelPackageGroupStatus(models.TextChoices):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    DELETING = "Deleting"
    DELETE_FAILED = "DeleteFailed"


class ModelPackageStatus(models.TextChoices):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    DELETING = "Deleting"


class ModelApprovalStatus(models.TextChoices):
    PENDING_MANUAL_APPROVAL = "PendingManualApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"


G = ModelPackageGroupStatus
GROUP_TRANSITIONS = {
    G.PENDING: {G.IN_PROGRESS, G.COMPLETED, G.FAILED, G.DELETING},
    G.IN_PROGRESS: {G.COMPLETED, G.FAILED, G.DELETING},
    G.COMPLETED: {G.DELETING},
    G.FAILED: {G.DELETING},
    G.DELETING: {G.DELETE_FAILED},
    G.DELETE_FAILED: {G.DELETING},
}

P = ModelPackageStatus
PACKAGE_TRANSITIONS = {
    P.PENDING: {P.IN_PROGRESS, P.COMPLETED, P.FAILED, P.DELETING},
    P.IN_PROGRESS: {P.COMPLETED, P.FAILED, P.DELETING},
    P.COMPLETED: {P.DELETING},
    P.FAILED: {P.DELETING},
}

# A SageMaker ARN as ArnOrName and VersionedArnOrName take it: the kind of resource, a name,
# and for a versioned model package its version.
ARN = re.compile(
    r"arn:aws[a-z\-]*:sagemaker:(?P<region>[a-z0-9\-]*):(?P<account>[0-9]{12}):"
    r"(?P<kind>[a-z\-]*)/(?P<name>[^/]+)(?:/(?P<version>[0-9]{1,9}))?"
)
# A versioned package by name: "<group>/<version>".
VERSIONED_NAME = re.compile(r"(?P<name>[^/]+)/(?P<version>[0-9]{1,9})")


class ModelPackageGroup(DomainResource, LifecycleModel):
    TRANSITIONS = GROUP_TRANSITIONS
    RESOURCE_TYPE = "ModelPackageGroup"
    ARN_KIND = "model-package-group"

    name = models.CharField(max_length=63)
    domain = models.ForeignKey(
        Domain, on_delete=models.CASCADE, related_name="model_package_groups"
    )
    profile = models.ForeignKey(
        UserProfile, on_delete=models.CASCADE, related_name="model_package_groups"
    )
    description = models.TextField(blank=True)
    # SageMaker's UserContext of the creator, kept as it was (a profile may be renamed).
    created_by = models.JSONField(default=dict)
    # The last version number given: the next version is this plus one.
    latest_version = models.PositiveIntegerField(default=0)
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "domain", name="model_package_group_name_unique_in_domain"
            )
        ]

    @classmethod
    def find(cls, domain: Domain, reference: str) -> "ModelPackageGroup | None":
        """The group `reference` (a name or this domain's group ARN) names, or None."""
        match = ARN.fullmatch(reference)
        if match:
            if not _ours(match, domain, cls.ARN_KIND) or match["version"]:
                return None
            reference = match["name"]
        return (
            cls.objects.select_related("domain", "profile")
            .filter(domain=domain, name__iexact=reference)
            .first()
        )


class ModelPackage(LifecycleModel):
    """A versioned model package: the CreateModelPackage request as accepted, its approval,
    and, when registered from a training job, its lineage and the job's final metrics."""

    TRANSITIONS = PACKAGE_TRANSITIONS
    RESOURCE_TYPE = "ModelPackage"
    ARN_KIND = "model-package"

    group = models.ForeignKey(ModelPackageGroup, on_delete=models.CASCADE, related_name="versions")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="model_packages")
    # Who created the version: its owner, whom policies treat as a resource's owner.
    profile = models.ForeignKey(
        UserProfile, on_delete=models.CASCADE, related_name="model_packages"
    )
    version = models.PositiveIntegerField()
    request = models.JSONField()
    approval_status = models.CharField(
        max_length=32,
        choices=ModelApprovalStatus.choices,
        default=ModelApprovalStatus.PENDING_MANUAL_APPROVAL,
    )
    approval_description = models.TextField(blank=True)
    created_by = models.JSONField(default=dict)
    last_modified_by = models.JSONField(default=dict)
    # Where the version came from, when Studio registered it from a training job:
    # {"TrainingJobName", "TrainingJobArn", "Datasets": [{"ChannelName", "S3Uri"}]}.
    lineage = models.JSONField(default=dict, blank=True)
    # The training job's final metrics ([{"MetricName", "Value", "Timestamp"}]), and the report
    # Studio wrote of them (ModelMetrics.ModelQuality.Statistics), which it deletes with it.
    metrics = models.JSONField(default=list, blank=True)
    metrics_uri = models.CharField(max_length=1024, blank=True)
    client_token = models.CharField(max_length=36, blank=True)

    class Meta:
        ordering = ["group", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "version"], name="model_package_version_unique_in_group"
            ),
            models.UniqueConstraint(
                fields=["group", "client_token"],
                condition=~models.Q(client_token=""),
                name="model_package_client_token_unique_in_group",
            ),
        ]
        indexes = [models.Index(fields=["domain", "approval_status"])]

    def __str__(self) -> str:
        return f"{self.group.name}/{self.version}"

    @property
    def name(self) -> str:
        """A versioned package's ModelPackageName is its group's name."""
        return self.group.name

    @property
    def resource_id(self) -> str:
        return f"{self.group.resource_id}/{self.version}"

    @property
    def arn(self) -> str:
        return arn(
            f"{self.ARN_KIND}/{self.group.name.lower()}/{self.version}", self.domain.account_id
        )

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.request["InferenceSpecification"]["Containers"])

    @property
    def is_approved(self) -> bool:
        return self.approval_status == ModelApprovalStatus.APPROVED

    def event_groups(self) -> list[str]:
        return [
            profile_group(self.profile_id),
            domain_group(self.domain.domain_id),
            resource_group(self.RESOURCE_TYPE, self.resource_id),
            # The group's page lists its versions.
            resource_group(ModelPackageGroup.RESOURCE_TYPE, self.group.resource_id),
        ]

    @classmethod
    def find(cls, domain: Domain, reference: str) -> "ModelPackage | None":
        """The version `reference` names in `domain` — its ARN, or "<group>/<version>" — or
        None (also for a bare name: Studio keeps no unversioned packages)."""
        match = ARN.fullmatch(reference)
        if match and not _ours(match, domain, cls.ARN_KIND):
            return None
        match = match or VERSIONED_NAME.fullmatch(reference)
        if not match or not match["version"]:
            return None
        return (
            cls.objects.select_related("group", "domain", "profile")
            .filter(domain=domain, group__name__iexact=match["name"], version=int(match["version"]))
            .first()
        )


def _ours(match: re.Match, domain: Domain, kind: str) -> bool:
    """Whether an ARN names a resource of `kind` in this domain's account and region."""
    return (
        match["kind"] == kind
        and match["account"] == domain.account_id
        and match["region"] == settings.STUDIO_REGION
    )


class ModelApprovalChange(models.Model):
    """One change of a version's ModelApprovalStatus (its first entry: the status it was
    created with): the history the registry's pages show."""

    package = models.ForeignKey(
        ModelPackage, on_delete=models.CASCADE, related_name="approval_changes"
    )
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    description = models.TextField(blank=True)
    # SageMaker's UserContext of who made the change, kept as it was.
    changed_by = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.package}: {self.from_status or '-'} → {self.to_status}"
