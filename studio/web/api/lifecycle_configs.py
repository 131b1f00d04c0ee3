"""Studio lifecycle configurations: SageMaker's Create, Describe, List and Delete.

A key creates its domain's configurations (its profile must be the domain's admin); it sees
those and the installation's. Content goes in and out base64-encoded, as SageMaker's."""

import base64
from typing import Any

from domains.models import StudioLifecycleConfig
from domains.services import lifecycle_configs
from studio.web.api.auth import Caller
from studio.web.api.registry import listing, operation, timestamp, without_none
from studio.web.api.tenancy import created_between, sorted_by

SORT_FIELDS = {"CreationTime": "created_at", "LastModifiedTime": "last_modified_at", "Name": "name"}


def _summary(config: StudioLifecycleConfig) -> dict[str, Any]:
    return without_none(
        {
            "StudioLifecycleConfigArn": config.arn,
            "StudioLifecycleConfigName": config.name,
            "CreationTime": timestamp(config.created_at),
            "LastModifiedTime": timestamp(config.last_modified_at),
            "StudioLifecycleConfigAppType": config.app_type,
        }
    )


@operation("CreateStudioLifecycleConfig")
def create_studio_lifecycle_config(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    config = lifecycle_configs.create_studio_lifecycle_config(
        caller.user,
        name=params["StudioLifecycleConfigName"],
        content=params["StudioLifecycleConfigContent"],
        app_type=params["StudioLifecycleConfigAppType"],
        domain_id=caller.domain_id,
        tags=params.get("Tags"),
    )
    return {"StudioLifecycleConfigArn": config.arn}


@operation("DescribeStudioLifecycleConfig")
def describe_studio_lifecycle_config(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    config = lifecycle_configs.describe_studio_lifecycle_config(
        caller.user, params["StudioLifecycleConfigName"]
    )
    return {
        **_summary(config),
        "StudioLifecycleConfigContent": base64.b64encode(config.content.encode()).decode(),
    }


@operation("ListStudioLifecycleConfigs")
def list_studio_lifecycle_configs(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = lifecycle_configs.list_studio_lifecycle_configs(caller.user)
    if params.get("NameContains"):
        found = found.filter(name__contains=params["NameContains"])
    if params.get("AppTypeEquals"):
        found = found.filter(app_type=params["AppTypeEquals"])
    found = created_between(found, params, "Creation")
    found = created_between(found, params, "Modified")
    found = sorted_by(found, params, SORT_FIELDS, default_order="Descending")
    return listing("StudioLifecycleConfigs", found, _summary, params)


@operation("DeleteStudioLifecycleConfig")
def delete_studio_lifecycle_config(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    lifecycle_configs.delete_studio_lifecycle_config(
        caller.user, params["StudioLifecycleConfigName"]
    )
    return {}
