"""Spaces and their JupyterLab apps: SageMaker's Create, Describe, List, Update (spaces) and
Delete of each. Studio runs JupyterLab apps only: any other AppType is a ValidationException
naming it, from the service."""

from typing import Any

from domains.models import App, Space
from domains.services import apps, spaces
from studio.core.errors import ValidationException
from studio.web.api import lifecycle_configs, tags  # noqa: F401  (they register operations)
from studio.web.api.auth import Caller
from studio.web.api.registry import domain_of, listing, operation, timestamp, without_none
from studio.web.api.tenancy import SORT_FIELDS, sorted_by


def _space_summary(space: Space) -> dict[str, Any]:
    return without_none(
        {
            "DomainId": space.domain.domain_id,
            "SpaceName": space.name,
            "Status": space.status,
            "CreationTime": timestamp(space.created_at),
            "LastModifiedTime": timestamp(space.last_modified_at),
            "SpaceDisplayName": space.display_name,
            "SpaceSharingSettingsSummary": {"SharingType": space.sharing_type},
            "OwnershipSettingsSummary": {"OwnerUserProfileName": space.owner.name},
        }
    )


def _app_summary(app: App) -> dict[str, Any]:
    return without_none(
        {
            "DomainId": app.space.domain.domain_id,
            "SpaceName": app.space.name,
            "AppType": app.app_type,
            "AppName": app.app_name,
            "Status": app.status,
            "CreationTime": timestamp(app.created_at),
            "ResourceSpec": app.resource_spec,
        }
    )


def _require_space(params: dict[str, Any]) -> None:
    # SageMaker also knows apps of user profiles; Studio's JupyterLab apps run in spaces.
    if not params.get("SpaceName"):
        raise ValidationException(
            "SpaceName is required: Studio's apps run in spaces.", "SpaceName"
        )


@operation("ListSpaces")
def list_spaces(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domain_id = domain_of(caller, params.get("DomainIdEquals", caller.domain_id))
    found = spaces.list_spaces(caller.user, domain_id)
    if params.get("SpaceNameContains"):
        found = found.filter(name__contains=params["SpaceNameContains"])
    found = sorted_by(found, params, SORT_FIELDS)
    return listing("Spaces", found, _space_summary, params)


@operation("DescribeSpace")
def describe_space(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    space = spaces.describe_space(
        caller.user, domain_of(caller, params["DomainId"]), params["SpaceName"]
    )
    summary = _space_summary(space)
    del summary["SpaceSharingSettingsSummary"], summary["OwnershipSettingsSummary"]
    return without_none(
        {
            **summary,
            "SpaceArn": space.arn,
            "HomeEfsFileSystemUid": str(space.home_uid),
            "FailureReason": space.failure_reason,
            "SpaceSettings": space.space_settings or None,
            "SpaceSharingSettings": {"SharingType": space.sharing_type},
            "OwnershipSettings": {"OwnerUserProfileName": space.owner.name},
        }
    )


@operation("ListApps")
def list_apps(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domain_id = domain_of(caller, params.get("DomainIdEquals", caller.domain_id))
    found = apps.list_apps(caller.user, domain_id).select_related("space__domain")
    if params.get("SpaceNameEquals"):
        found = found.filter(space__name=params["SpaceNameEquals"])
    if params.get("UserProfileNameEquals"):
        # A user profile's apps are those of the spaces it owns: Studio's apps run in spaces.
        found = found.filter(space__owner__name=params["UserProfileNameEquals"])
    found = sorted_by(found, params, {"CreationTime": "created_at"})
    return listing("Apps", found, _app_summary, params)


@operation("DescribeApp")
def describe_app(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    if not params.get("SpaceName"):
        # SageMaker also knows apps of user profiles; Studio's JupyterLab apps run in spaces.
        raise ValidationException(
            "SpaceName is required: Studio's apps run in spaces.", "SpaceName"
        )
    app = apps.describe_app(
        caller.user,
        domain_of(caller, params["DomainId"]),
        params["SpaceName"],
        params["AppName"],
        params["AppType"],
    )
    return without_none(
        {
            **_app_summary(app),
            "AppArn": app.arn,
            "FailureReason": app.failure_reason,
            "LastUserActivityTimestamp": timestamp(app.last_user_activity_at),
        }
    )


@operation("CreateSpace")
def create_space(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    space = spaces.create_space(
        caller.user,
        domain_of(caller, params["DomainId"]),
        name=params["SpaceName"],
        owner=params.get("OwnershipSettings", {}).get("OwnerUserProfileName"),
        sharing_type=params.get("SpaceSharingSettings", {}).get("SharingType", "Private"),
        space_settings=params.get("SpaceSettings"),
        display_name=params.get("SpaceDisplayName", ""),
        tags=params.get("Tags"),
    )
    return {"SpaceArn": space.arn}


@operation("UpdateSpace")
def update_space(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    space = spaces.update_space(
        caller.user,
        domain_of(caller, params["DomainId"]),
        params["SpaceName"],
        space_settings=params.get("SpaceSettings"),
        display_name=params.get("SpaceDisplayName"),
    )
    return {"SpaceArn": space.arn}


@operation("DeleteSpace")
def delete_space(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    spaces.delete_space(caller.user, domain_of(caller, params["DomainId"]), params["SpaceName"])
    return {}


@operation("CreateApp")
def create_app(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    _require_space(params)
    app = apps.create_app(
        caller.user,
        domain_of(caller, params["DomainId"]),
        space_name=params["SpaceName"],
        app_type=params["AppType"],
        app_name=params["AppName"],
        resource_spec=params.get("ResourceSpec"),
        tags=params.get("Tags"),
    )
    return {"AppArn": app.arn}


@operation("DeleteApp")
def delete_app(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    _require_space(params)
    apps.delete_app(
        caller.user,
        domain_of(caller, params["DomainId"]),
        params["SpaceName"],
        params["AppName"],
        app_type=params["AppType"],
    )
    return {}
