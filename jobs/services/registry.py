"""The model registry's actions: Create/Describe/List/DeleteModelPackageGroup,
Create/Describe/List/Update/DeleteModelPackage, and a version registered from a finished
training job in one step (the dashboard's "Register").

Who may do what (domains/permissions.py): any member whose policy allows
sagemaker:CreateModelPackage may add a version to any group of the domain (a group is the
team's shelf for one model); a version belongs to whoever created it, and only they — or a
domain admin — may approve, reject or delete it (UpdateModelPackage, DeleteModelPackage on
another's resource), as members change only their own resources everywhere in Studio.
"""

import copy
import io
import json
from datetime import datetime
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from domains.models import Domain, StudioStatus, UserProfile
from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from jobs.models import (
    ModelApprovalChange,
    ModelApprovalStatus,
    ModelPackage,
    ModelPackageGroup,
    ModelPackageGroupStatus,
    ModelPackageStatus,
    TrainingJob,
    TrainingJobStatus,
)
from jobs.services.common import require_profile
from jobs.services.hosted_models import MODEL_ARCHIVE, training_job_image
from jobs.services.images import resolve_image
from jobs.services.training import describe_training_job, training_job_artifacts
from studio.core import storage
from studio.core.errors import ConflictException, ResourceInUse, ValidationException
from studio.core.events import publish
from studio.core.lifecycle import record_creation, transition
from studio.core.shapes import validate

# CreateModelPackage members Studio does not act on: refused by name rather than kept and
# ignored, so that nobody believes a validation ran or a marketplace listing was made.
UNSUPPORTED_PACKAGE_MEMBERS = {
    "SourceAlgorithmSpecification": "give InferenceSpecification (an image and a model)",
    "ValidationSpecification": "validation transform jobs are not run here",
    "DriftCheckBaselines": "drift checks are not run here",
    "AdditionalInferenceSpecifications": "give one InferenceSpecification",
    "SecurityConfig": "Studio encrypts its database with its own key",
    "ModelCard": "model cards are not kept here",
    "ModelLifeCycle": "use ModelApprovalStatus",
    "ManagedStorageType": "Studio stores models in the artifact store",
}
UNSUPPORTED_CONTAINER_MEMBERS = {
    "ModelDataSource": "give ModelDataUrl, the S3 URI of a model.tar.gz",
    "AdditionalModelDataSources": "give one ModelDataUrl",
    "AdditionalS3DataSource": "give one ModelDataUrl",
    "ProductId": "AWS Marketplace products are not available here",
    "ImageDigest": "images are pinned by their registered version, not a digest",
    "BaseModel": "give the model itself in ModelDataUrl",
    "ModelInput": "not used by Studio's serving",
}
UNSUPPORTED_UPDATE_MEMBERS = (
    "InferenceSpecification",
    "AdditionalInferenceSpecificationsToAdd",
    "ModelCard",
    "ModelLifeCycle",
    "SourceUri",
    "ModelPackageRegistrationType",
)
# SageMaker gives Domain and Task no length limit; Studio keeps them to this.
MAX_LABEL = 1024
# CustomerMetadataProperties keys Studio writes for lineage, which a request may not set.
RESERVED_METADATA_PREFIX = "studio:"
LINEAGE_JOB_KEY = "studio:lineage:TrainingJob"
LINEAGE_DATASET_KEY = "studio:lineage:Dataset:"
MAX_METADATA_VALUE = 256  # CustomerMetadataValue's limit
MAX_METADATA_ENTRIES = 50
SORT_BY = ("Name", "CreationTime")
SORT_ORDER = ("Ascending", "Descending")
PACKAGE_TYPES = ("Versioned", "Unversioned", "Both")


# Errors -------------------------------------------------------------------------------------


def _group_not_found(reference: str, domain: Domain, field: str) -> ValidationException:
    """SageMaker's answer for a group that does not exist (Describe and Delete list no other
    error): the ARN of the name asked for. Another domain's group is not found either."""
    shown = reference if reference.startswith("arn:") else _group_arn(domain, reference)
    return ValidationException(f"ModelPackageGroup {shown} does not exist.", field)


def _package_not_found(reference: str, domain: Domain, field: str) -> ValidationException:
    if reference.startswith("arn:"):
        shown = reference
    elif "/" in reference:
        group, version = reference.split("/", 1)
        shown = ModelPackage(
            group=ModelPackageGroup(name=group, domain=domain), domain=domain, version=version
        ).arn
    else:
        return ValidationException(
            f"ModelPackage {reference} does not exist: a versioned model package is named by "
            f"its ARN or as <group>/<version>, e.g. {reference}/1.",
            field,
        )
    return ValidationException(f"ModelPackage {shown} does not exist.", field)


def _group_arn(domain: Domain, name: str) -> str:
    return ModelPackageGroup(name=name, domain=domain).arn


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationException(f"{field}: {message}.", field)


# Who, and where -----------------------------------------------------------------------------


def user_context(actor: User, profile: UserProfile | None, domain: Domain) -> dict[str, Any]:
    """SageMaker's UserContext for CreatedBy and LastModifiedBy: the acting profile, or for a
    superuser acting without one, their identity as an IAM user of the installation."""
    if profile is not None:
        return {
            "UserProfileArn": profile.arn,
            "UserProfileName": profile.name,
            "DomainId": domain.domain_id,
        }
    return {
        "DomainId": domain.domain_id,
        "IamIdentity": {
            "Arn": f"arn:aws:iam::{domain.account_id}:user/{actor.get_username()}",
            "PrincipalId": actor.get_username(),
        },
    }


def _lock_in_service(domain: Domain) -> None:
    """Lock the domain's row for a creation, which a domain being deleted refuses."""
    status = Domain.objects.select_for_update().values_list("status", flat=True).get(pk=domain.pk)
    if status != StudioStatus.IN_SERVICE:
        raise ResourceInUse(f"Domain {domain.domain_id} is {status}; wait until InService.")


def _check_sort(sort_by: str | None, sort_order: str | None) -> tuple[str, str]:
    sort_by, sort_order = sort_by or "CreationTime", sort_order or "Ascending"
    if sort_by not in SORT_BY:
        _refuse("SortBy", f"must be one of {', '.join(SORT_BY)}")
    if sort_order not in SORT_ORDER:
        _refuse("SortOrder", f"must be one of {', '.join(SORT_ORDER)}")
    return sort_by, sort_order


def _created_between(items: QuerySet, after: datetime | None, before: datetime | None):
    if after is not None:
        items = items.filter(created_at__gt=after)
    if before is not None:
        items = items.filter(created_at__lt=before)
    return items


# Groups -------------------------------------------------------------------------------------


def create_model_package_group(
    actor: User, domain_id: str, request: dict[str, Any]
) -> ModelPackageGroup:
    """CreateModelPackageGroup: a group, Completed at once (it holds no work of its own)."""
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateModelPackageGroup", domain=domain),
        "Model package groups",
    )
    if not isinstance(request, dict):
        raise ValidationException(
            "CreateModelPackageGroup: the request must be an object.", "CreateModelPackageGroup"
        )
    validate(request, "CreateModelPackageGroupInput", "")
    if request.get("ManagedConfiguration"):
        _refuse("ManagedConfiguration", "is not supported here")
    name = request["ModelPackageGroupName"]
    try:
        with transaction.atomic():
            _lock_in_service(domain)
            if ModelPackageGroup.objects.filter(domain=domain, name__iexact=name).exists():
                raise _group_exists(domain, name)
            group = ModelPackageGroup.objects.create(
                name=name,
                domain=domain,
                profile=profile,
                description=request.get("ModelPackageGroupDescription") or "",
                created_by=user_context(actor, profile, domain),
                tags=request.get("Tags") or [],
                status=ModelPackageGroupStatus.COMPLETED,
            )
            record_creation(group)
    except IntegrityError:  # a racing creation of the same name, past the lock's check
        raise _group_exists(domain, name) from None
    return group


def _group_exists(domain: Domain, name: str) -> ValidationException:
    return ValidationException(
        f"Model Package Group already exists: {_group_arn(domain, name)}. Choose another "
        "ModelPackageGroupName (names are unique in a domain whatever their case).",
        "ModelPackageGroupName",
    )


def get_model_package_group(
    actor: User, domain_id: str, reference: str, field: str = "ModelPackageGroupName"
) -> ModelPackageGroup:
    """The group `reference` (name or ARN) names in the domain, or ValidationException."""
    validate(reference, "ArnOrName", field)
    domain = get_domain(actor, domain_id)
    group = ModelPackageGroup.find(domain, reference)
    if group is None:
        raise _group_not_found(reference, domain, field)
    return group


def describe_model_package_group(actor: User, domain_id: str, reference: str) -> ModelPackageGroup:
    group = get_model_package_group(actor, domain_id, reference)
    authorize(
        actor, "sagemaker:DescribeModelPackageGroup", domain=group.domain, owner=group.profile
    )
    return group


def list_model_package_groups(
    actor: User,
    domain_id: str,
    *,
    name_contains: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> QuerySet[ModelPackageGroup]:
    """ListModelPackageGroups; SageMaker's default order: CreationTime, Ascending."""
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:ListModelPackageGroups", domain=domain)
    sort_by, sort_order = _check_sort(sort_by, sort_order)
    groups = ModelPackageGroup.objects.filter(domain=domain).select_related("domain", "profile")
    if name_contains:
        groups = groups.filter(name__icontains=name_contains)
    groups = _created_between(groups, created_after, created_before)
    keys = ["name", "created_at"] if sort_by == "Name" else ["created_at", "id"]
    return groups.order_by(*(f"-{k}" if sort_order == "Descending" else k for k in keys))


def delete_model_package_group(actor: User, domain_id: str, reference: str) -> None:
    """DeleteModelPackageGroup: refused while the group holds versions (as in SageMaker)."""
    group = get_model_package_group(actor, domain_id, reference)
    authorize(actor, "sagemaker:DeleteModelPackageGroup", domain=group.domain, owner=group.profile)
    with transaction.atomic():
        # Locked, so that no version is added between the count and the deletion.
        ModelPackageGroup.objects.select_for_update().filter(pk=group.pk).values_list("pk").get()
        held = group.versions.count()
        if held:
            raise ConflictException(
                f"ModelPackageGroup {group.arn} holds {held} model package version"
                f"{'s' if held > 1 else ''}; delete them before the group."
            )
        transition(group, ModelPackageGroupStatus.DELETING)
        publish(group.event("deleted"))
        group.delete()


# Versions -----------------------------------------------------------------------------------


def _check_container(container: dict[str, Any], field: str, domain_id: str) -> None:
    for member, instead in UNSUPPORTED_CONTAINER_MEMBERS.items():
        if container.get(member):
            _refuse(f"{field}.{member}", f"is not supported here; {instead}")
    if not container.get("Image"):
        _refuse(f"{field}.Image", "is required: the image that serves the model")
    resolve_image(container["Image"], f"{field}.Image")
    url = container.get("ModelDataUrl")
    if url:
        url_field = f"{field}.ModelDataUrl"
        storage.check_access(url, domain_id, url_field)
        if not storage.artifact_store().exists(url, url_field):
            _refuse(url_field, f"there is no object at {url}")


def _check_package_request(request: Any, domain: Domain) -> dict[str, Any]:
    """The CreateModelPackage request with defaults filled, or ValidationException naming the
    field and the rule."""
    if not isinstance(request, dict):
        raise ValidationException(
            "CreateModelPackage: the request must be an object.", "CreateModelPackage"
        )
    request = copy.deepcopy(request)
    validate(request, "CreateModelPackageInput", "")
    if request.get("ModelPackageName") and request.get("ModelPackageGroupName"):
        raise ValidationException(
            "Both ModelPackageName and ModelPackageGroupName are provided in the input. Cannot "
            "determine which one to use: a version is named after its group, so give "
            "ModelPackageGroupName only.",
            "ModelPackageName",
        )
    if not request.get("ModelPackageGroupName"):
        _refuse(
            "ModelPackageGroupName",
            "is required: Studio's registry keeps versioned model packages, each in a group "
            "(unversioned packages are for AWS Marketplace)",
        )
    if request.get("Tags"):
        _refuse("Tags", "a version takes its group's tags; tag the group instead")
    if request.get("CertifyForMarketplace"):
        _refuse("CertifyForMarketplace", "does not apply to versioned model packages")
    for member, instead in UNSUPPORTED_PACKAGE_MEMBERS.items():
        if request.get(member):
            _refuse(member, f"is not supported here; {instead}")
    for member in ("Domain", "Task"):
        if len(request.get(member) or "") > MAX_LABEL:
            _refuse(member, f"must be at most {MAX_LABEL} characters")
    for key in request.get("CustomerMetadataProperties") or {}:
        if key.startswith(RESERVED_METADATA_PREFIX):
            _refuse(
                f"CustomerMetadataProperties key {key!r}",
                f"keys starting {RESERVED_METADATA_PREFIX!r} are Studio's lineage records",
            )
    spec = request.get("InferenceSpecification")
    if not spec:
        _refuse(
            "InferenceSpecification",
            "is required: the container (Image, ModelDataUrl) that a model made from this "
            "version runs",
        )
    containers = spec["Containers"]
    if len(containers) > 1:
        _refuse(
            "InferenceSpecification.Containers",
            "inference pipelines (more than one container) are not supported; give one",
        )
    _check_container(containers[0], "InferenceSpecification.Containers[0]", domain.domain_id)
    request.setdefault("ModelApprovalStatus", ModelApprovalStatus.PENDING_MANUAL_APPROVAL)
    return request


def create_model_package(actor: User, domain_id: str, request: dict[str, Any]) -> ModelPackage:
    """CreateModelPackage of a version in ModelPackageGroupName: numbered one more than the
    group's last, Completed at once, PendingManualApproval unless the request says."""
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateModelPackage", domain=domain), "Model packages"
    )
    # Before validation, which looks into the store: nothing about another domain's bucket may
    # show, not even whether a path exists.
    storage.check_request_uris(request, domain.domain_id)
    request = _check_package_request(request, domain)
    return _insert_version(actor, domain, profile, request)


def _insert_version(
    actor: User,
    domain: Domain,
    profile: UserProfile,
    request: dict[str, Any],
    *,
    lineage: dict[str, Any] | None = None,
    metrics: list[dict[str, Any]] | None = None,
) -> ModelPackage:
    """Number and insert a checked request's version, record its creation and first approval
    status; with `metrics`, write their report to the store first (and remove it again if the
    version is not created after all)."""
    group_field = "ModelPackageGroupName"
    store = storage.artifact_store()
    report_uri = ""
    try:
        with transaction.atomic():
            _lock_in_service(domain)
            found = ModelPackageGroup.find(domain, request[group_field])
            if found is None:
                raise _group_not_found(request[group_field], domain, group_field)
            # The group's row is the version counter: locked, two creations number one after
            # the other.
            group = ModelPackageGroup.objects.select_for_update().get(pk=found.pk)
            token = request.get("ClientToken") or ""
            if token:
                again = group.versions.filter(client_token=token).first()
                if again is not None:
                    return again  # the same request retried (ClientToken's idempotence)
            group.latest_version += 1
            group.save(update_fields=["latest_version"])
            request[group_field] = group.name
            package = ModelPackage(
                group=group,
                domain=domain,
                profile=profile,
                version=group.latest_version,
                request=request,
                approval_status=request["ModelApprovalStatus"],
                created_by=user_context(actor, profile, domain),
                lineage=lineage or {},
                metrics=metrics or [],
                client_token=token,
                status=ModelPackageStatus.COMPLETED,
            )
            if metrics:
                report_uri = _write_metrics_report(package, store)
                package.metrics_uri = report_uri
                request["ModelMetrics"] = {
                    "ModelQuality": {
                        "Statistics": {"ContentType": "application/json", "S3Uri": report_uri}
                    }
                }
            package.save()
            ModelApprovalChange.objects.create(
                package=package,
                to_status=package.approval_status,
                changed_by=package.created_by,
                at=package.created_at,
            )
            record_creation(package)
    except BaseException:
        if report_uri:
            store.delete(report_uri)
        raise
    return package


def _write_metrics_report(package: ModelPackage, store: storage.ArtifactStore) -> str:
    """The training job's final metrics as a model quality statistics report (JSON), in the
    domain's bucket under the version's own key; its URI."""
    bucket = storage.domain_bucket(package.domain.domain_id)
    uri = storage.join(
        f"s3://{bucket}",
        "model-registry",
        package.group.name.lower(),
        str(package.version),
        "statistics.json",
    )
    report = {
        "version": 0.0,
        "training_job": package.lineage.get("TrainingJobArn"),
        "metrics": {m["MetricName"]: {"value": m["Value"]} for m in package.metrics},
    }
    store.put(uri, io.BytesIO(json.dumps(report, indent=2).encode()))
    return uri


def get_model_package(
    actor: User, domain_id: str, reference: str, field: str = "ModelPackageName"
) -> ModelPackage:
    """The version `reference` (its ARN, or "<group>/<version>") names in the domain."""
    validate(reference, "VersionedArnOrName", field)
    domain = get_domain(actor, domain_id)
    package = ModelPackage.find(domain, reference)
    if package is None:
        raise _package_not_found(reference, domain, field)
    return package


def describe_model_package(actor: User, domain_id: str, reference: str) -> ModelPackage:
    package = get_model_package(actor, domain_id, reference)
    authorize(actor, "sagemaker:DescribeModelPackage", domain=package.domain, owner=package.profile)
    return package


def approval_history(actor: User, domain_id: str, reference: str) -> QuerySet[ModelApprovalChange]:
    """A version's approval changes, oldest first: the status it was created with, then each
    UpdateModelPackage that changed it, with who and when."""
    return describe_model_package(actor, domain_id, reference).approval_changes.all()


def list_model_packages(
    actor: User,
    domain_id: str,
    *,
    group: str | None = None,
    approval_status: str | None = None,
    name_contains: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    package_type: str = "Versioned",
) -> QuerySet[ModelPackage]:
    """ListModelPackages: the domain's versions (of `group`, a name or ARN, when given).
    Studio keeps no unversioned packages, so `package_type` "Unversioned" lists none. A group
    that does not exist has no versions to list, as in SageMaker."""
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:ListModelPackages", domain=domain)
    sort_by, sort_order = _check_sort(sort_by, sort_order)
    if approval_status and approval_status not in ModelApprovalStatus.values:
        _refuse("ModelApprovalStatus", f"must be one of {', '.join(ModelApprovalStatus.values)}")
    if package_type not in PACKAGE_TYPES:
        _refuse("ModelPackageType", f"must be one of {', '.join(PACKAGE_TYPES)}")
    packages = ModelPackage.objects.filter(domain=domain).select_related(
        "group", "domain", "profile"
    )
    if package_type == "Unversioned":
        return packages.none()
    if group:
        validate(group, "ArnOrName", "ModelPackageGroupName")
        found = ModelPackageGroup.find(domain, group)
        packages = packages.filter(group=found) if found else packages.none()
    if approval_status:
        packages = packages.filter(approval_status=approval_status)
    if name_contains:
        packages = packages.filter(group__name__icontains=name_contains)
    packages = _created_between(packages, created_after, created_before)
    keys = ["group__name", "version"] if sort_by == "Name" else ["created_at", "id"]
    return packages.order_by(*(f"-{k}" if sort_order == "Descending" else k for k in keys))


def update_model_package(actor: User, domain_id: str, request: dict[str, Any]) -> ModelPackage:
    """UpdateModelPackage: approve or reject a version (ModelApprovalStatus, with an
    ApprovalDescription), or change its CustomerMetadataProperties. Each approval change is
    recorded with who made it and when; LastModifiedBy/Time say who touched it last."""
    if not isinstance(request, dict):
        raise ValidationException(
            "UpdateModelPackage: the request must be an object.", "UpdateModelPackage"
        )
    validate(request, "UpdateModelPackageInput", "")
    for member in UNSUPPORTED_UPDATE_MEMBERS:
        if request.get(member):
            _refuse(
                member,
                "cannot be changed here; UpdateModelPackage changes ModelApprovalStatus, "
                "ApprovalDescription and CustomerMetadataProperties",
            )
    status = request.get("ModelApprovalStatus")
    description = request.get("ApprovalDescription")
    added = request.get("CustomerMetadataProperties") or {}
    removed = request.get("CustomerMetadataPropertiesToRemove") or []
    if status is None and description is None and not added and not removed:
        _refuse(
            "ModelApprovalStatus",
            "give ModelApprovalStatus, ApprovalDescription or CustomerMetadataProperties to change",
        )
    for key in [*added, *removed]:
        if key.startswith(RESERVED_METADATA_PREFIX):
            _refuse(
                f"CustomerMetadataProperties key {key!r}",
                f"keys starting {RESERVED_METADATA_PREFIX!r} are Studio's lineage records",
            )
    package = get_model_package(actor, domain_id, request["ModelPackageArn"], "ModelPackageArn")
    profile = authorize(
        actor, "sagemaker:UpdateModelPackage", domain=package.domain, owner=package.profile
    )
    who = user_context(actor, profile, package.domain)
    with transaction.atomic():
        package = (
            ModelPackage.objects.select_for_update()
            .select_related("group", "domain", "profile")
            .get(pk=package.pk)
        )
        now = timezone.now()
        if status is not None and status != package.approval_status:
            ModelApprovalChange.objects.create(
                package=package,
                from_status=package.approval_status,
                to_status=status,
                description=description or "",
                changed_by=who,
                at=now,
            )
            package.approval_status = status
            package.approval_description = description or ""
        elif description is not None:
            package.approval_description = description
        if added or removed:
            _change_metadata(package, added, removed)
        package.last_modified_by = who
        package.last_modified_at = now
        package.save()
        publish(package.event("updated", approval_status=package.approval_status))
    return package


def _change_metadata(package: ModelPackage, added: dict[str, str], removed: list[str]) -> None:
    metadata = dict(package.request.get("CustomerMetadataProperties") or {})
    for key in removed:
        metadata.pop(key, None)
    metadata.update(added)
    if len(metadata) > MAX_METADATA_ENTRIES:
        _refuse(
            "CustomerMetadataProperties",
            f"a version holds at most {MAX_METADATA_ENTRIES} entries; this would make "
            f"{len(metadata)}",
        )
    if metadata:
        package.request["CustomerMetadataProperties"] = metadata
    else:
        package.request.pop("CustomerMetadataProperties", None)


def delete_model_package(actor: User, domain_id: str, reference: str) -> None:
    """DeleteModelPackage. Models already made from the version keep their containers (as in
    SageMaker); the metrics report Studio wrote for it goes with it."""
    package = get_model_package(actor, domain_id, reference)
    authorize(actor, "sagemaker:DeleteModelPackage", domain=package.domain, owner=package.profile)
    report = package.metrics_uri
    with transaction.atomic():
        transition(package, ModelPackageStatus.DELETING)
        publish(package.event("deleted"))
        package.delete()
        if report:
            transaction.on_commit(lambda: storage.artifact_store().delete(report))


# From a training job ------------------------------------------------------------------------


def model_package_from_training_job(
    actor: User,
    domain_id: str,
    job_name: str,
    group: str,
    *,
    description: str = "",
    approval_status: str = ModelApprovalStatus.PENDING_MANUAL_APPROVAL,
    inference: dict[str, Any] | None = None,
    create_group: bool = False,
) -> ModelPackage:
    """A version of `group` from Completed training job `job_name`, in one step: its image and
    model.tar.gz, its final metrics (ModelMetrics, and `metrics` for pages), and its lineage —
    the job's ARN (MetadataProperties.GeneratedBy) and its channels' S3 URIs
    (CustomerMetadataProperties "studio:lineage:…", and `lineage` whole). `inference` adds
    InferenceSpecification members (SupportedContentTypes...); `create_group` creates the
    group first when it does not exist, in the same transaction."""
    job = describe_training_job(actor, domain_id, job_name)
    if job.status != TrainingJobStatus.COMPLETED:
        raise ValidationException(
            f"Training job {job.name} is {job.status}; only a Completed job has a model to "
            "register.",
            "TrainingJobName",
        )
    artifact = training_job_artifacts(job).get(MODEL_ARCHIVE)
    if artifact is None:
        raise ValidationException(
            f"Training job {job.name} wrote no model.tar.gz (its /opt/ml/model was empty).",
            "TrainingJobName",
        )
    if not isinstance(inference, dict | None) or "Containers" in (inference or {}):
        _refuse(
            "InferenceSpecification", "give only its Supported* members; the job gives Containers"
        )
    lineage = _lineage(job)
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": approval_status,
        "InferenceSpecification": {
            **(inference or {}),
            "Containers": [{"Image": training_job_image(job), "ModelDataUrl": artifact.uri}],
        },
        "MetadataProperties": {"GeneratedBy": job.arn},
    }
    if description:
        request["ModelPackageDescription"] = description
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateModelPackage", domain=domain), "Model packages"
    )
    request = _check_package_request(request, domain)
    request["CustomerMetadataProperties"] = _lineage_metadata(lineage)
    with transaction.atomic():
        if create_group and ModelPackageGroup.find(domain, group) is None:
            create_model_package_group(actor, domain_id, {"ModelPackageGroupName": group})
        return _insert_version(
            actor, domain, profile, request, lineage=lineage, metrics=list(job.final_metrics)
        )


def _lineage(job: TrainingJob) -> dict[str, Any]:
    datasets = []
    for channel in job.request.get("InputDataConfig") or []:
        source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
        if source.get("S3Uri"):
            datasets.append({"ChannelName": channel["ChannelName"], "S3Uri": source["S3Uri"]})
    return {"TrainingJobName": job.name, "TrainingJobArn": job.arn, "Datasets": datasets}


def _lineage_metadata(lineage: dict[str, Any]) -> dict[str, str]:
    """Lineage as CustomerMetadataProperties, which boto3's Describe shows: URIs longer than
    a metadata value may be are in `lineage` only."""
    metadata = {LINEAGE_JOB_KEY: lineage["TrainingJobArn"]}
    for dataset in lineage["Datasets"]:
        if len(dataset["S3Uri"]) <= MAX_METADATA_VALUE:
            metadata[LINEAGE_DATASET_KEY + dataset["ChannelName"]] = dataset["S3Uri"]
    return metadata
