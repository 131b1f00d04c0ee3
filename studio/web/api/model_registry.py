"""The model registry: SageMaker's ModelPackageGroup and ModelPackage operations, so that boto3
code and the SageMaker SDK's `model.register(...)` and `ModelPackage` work here."""

from typing import Any

from jobs.models import ModelPackage, ModelPackageGroup
from jobs.services import registry
from studio.core.shapes import shape
from studio.web.api.auth import Caller
from studio.web.api.registry import (
    create_tagged,
    listing,
    moment,
    operation,
    timestamp,
    without_none,
)


def _group_summary(group: ModelPackageGroup) -> dict[str, Any]:
    return without_none(
        {
            "ModelPackageGroupName": group.name,
            "ModelPackageGroupArn": group.arn,
            "ModelPackageGroupDescription": group.description,
            "CreationTime": timestamp(group.created_at),
            "ModelPackageGroupStatus": group.status,
        }
    )


@operation("CreateModelPackageGroup")
def create_model_package_group(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    group = create_tagged(
        caller,
        params,
        lambda: registry.create_model_package_group(caller.user, caller.domain_id, params),
    )
    return {"ModelPackageGroupArn": group.arn}


@operation("DescribeModelPackageGroup")
def describe_model_package_group(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    group = registry.describe_model_package_group(
        caller.user, caller.domain_id, params["ModelPackageGroupName"]
    )
    return {**_group_summary(group), "CreatedBy": group.created_by}


@operation("ListModelPackageGroups")
def list_model_package_groups(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("CrossAccountFilterOption") == "CrossAccount":
        # Nothing is shared with a domain from another: there are no such groups to list.
        return {"ModelPackageGroupSummaryList": []}
    found = registry.list_model_package_groups(
        caller.user,
        caller.domain_id,
        name_contains=params.get("NameContains"),
        created_after=moment(params, "CreationTimeAfter"),
        created_before=moment(params, "CreationTimeBefore"),
        sort_by=params.get("SortBy"),
        sort_order=params.get("SortOrder"),
    )
    return listing("ModelPackageGroupSummaryList", found, _group_summary, params)


@operation("DeleteModelPackageGroup")
def delete_model_package_group(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    registry.delete_model_package_group(
        caller.user, caller.domain_id, params["ModelPackageGroupName"]
    )
    return {}


@operation("CreateModelPackage")
def create_model_package(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    package = create_tagged(
        caller,
        params,
        lambda: registry.create_model_package(caller.user, caller.domain_id, params),
    )
    return {"ModelPackageArn": package.arn}


def _package_summary(package: ModelPackage) -> dict[str, Any]:
    return without_none(
        {
            "ModelPackageName": package.name,
            "ModelPackageGroupName": package.group.name,
            "ModelPackageVersion": package.version,
            "ModelPackageArn": package.arn,
            "ModelPackageDescription": package.request.get("ModelPackageDescription"),
            "CreationTime": timestamp(package.created_at),
            "ModelPackageStatus": package.status,
            "ModelApprovalStatus": package.approval_status,
            "ModelPackageRegistrationType": package.request.get("ModelPackageRegistrationType"),
        }
    )


def _echo(request: dict[str, Any]) -> dict[str, Any]:
    """The members of the stored request that DescribeModelPackage repeats."""
    members = shape("DescribeModelPackageOutput")["members"]
    return {key: value for key, value in request.items() if key in members}


@operation("DescribeModelPackage")
def describe_model_package(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    package = registry.describe_model_package(
        caller.user, caller.domain_id, params["ModelPackageName"]
    )
    return without_none(
        {
            **_echo(package.request),
            **_package_summary(package),
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
            "CreatedBy": package.created_by,
            "LastModifiedTime": timestamp(package.last_modified_at),
            "LastModifiedBy": package.last_modified_by or None,
            "ApprovalDescription": package.approval_description,
        }
    )


@operation("ListModelPackages")
def list_model_packages(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    group = params.get("ModelPackageGroupName")
    # SageMaker lists unversioned packages unless told otherwise, or given a group; Studio
    # keeps versioned ones only.
    package_type = params.get("ModelPackageType") or ("Versioned" if group else "Unversioned")
    found = registry.list_model_packages(
        caller.user,
        caller.domain_id,
        group=group,
        approval_status=params.get("ModelApprovalStatus"),
        name_contains=params.get("NameContains"),
        created_after=moment(params, "CreationTimeAfter"),
        created_before=moment(params, "CreationTimeBefore"),
        sort_by=params.get("SortBy"),
        sort_order=params.get("SortOrder"),
        package_type=package_type,
    )
    return listing("ModelPackageSummaryList", found, _package_summary, params)


@operation("UpdateModelPackage")
def update_model_package(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    package = registry.update_model_package(caller.user, caller.domain_id, params)
    return {"ModelPackageArn": package.arn}


@operation("DeleteModelPackage")
def delete_model_package(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    registry.delete_model_package(caller.user, caller.domain_id, params["ModelPackageName"])
    return {}
