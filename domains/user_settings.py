"""UserSettings: the domain's defaults, a profile's overrides, and how SageMaker merges them.

Values keep SageMaker's shape (`JupyterLabAppSettings.DefaultResourceSpec.InstanceType`, ...), so
the API returns them as stored. The accessors at the bottom read the few settings the platform
acts on.
"""

import copy
from typing import Any

from studio.core.shapes import validate

# Lists SageMaker aggregates instead of replacing when both levels set them.
AGGREGATED_LISTS = {"SecurityGroups"}


def validate_user_settings(value: Any, path: str) -> dict:
    if value is None:
        return {}
    validate(value, "UserSettings", path)
    return value


def merge_user_settings(domain_defaults: dict, profile_settings: dict) -> dict:
    """Profile values take precedence; nested structures merge member by member.

    The result shares nothing with either argument, so callers may change it freely."""
    merged = copy.deepcopy(domain_defaults)
    for key, value in profile_settings.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = merge_user_settings(base, value)
        elif key in AGGREGATED_LISTS and isinstance(base, list) and isinstance(value, list):
            merged[key] = base + [v for v in value if v not in base]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _dig(settings: dict, *path: str) -> Any:
    for key in path:
        if not isinstance(settings, dict):
            return None
        settings = settings.get(key)
    return settings


def default_instance_type(settings: dict) -> str | None:
    return _dig(settings, "JupyterLabAppSettings", "DefaultResourceSpec", "InstanceType")


def default_image(settings: dict) -> str | None:
    return _dig(settings, "JupyterLabAppSettings", "DefaultResourceSpec", "SageMakerImageArn")


def idle_timeout_minutes(settings: dict) -> int | None:
    idle = _dig(settings, "JupyterLabAppSettings", "AppLifecycleManagement", "IdleSettings")
    if not idle or idle.get("LifecycleManagement") == "DISABLED":
        return None
    return idle.get("IdleTimeoutInMinutes")


def simple_user_settings(
    instance_type: str | None, image: str | None, idle_timeout: int | None
) -> dict:
    """The nested shape for the three settings the console edits as plain fields."""
    spec = {k: v for k, v in (("InstanceType", instance_type), ("SageMakerImageArn", image)) if v}
    lab: dict[str, Any] = {}
    if spec:
        lab["DefaultResourceSpec"] = spec
    if idle_timeout:
        lab["AppLifecycleManagement"] = {
            "IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": idle_timeout}
        }
    return {"JupyterLabAppSettings": lab} if lab else {}
