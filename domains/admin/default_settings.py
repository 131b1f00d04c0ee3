"""The three settings the console edits in a UserSettings: the default instance type, image and
idle timeout, on a domain's defaults and on a profile alike. Every other setting an API caller
stored is left as it was."""

import copy
from typing import Any, ClassVar

from django import forms

from domains.user_settings import (
    default_image,
    default_instance_type,
    idle_timeout_minutes,
    merge_user_settings,
    simple_user_settings,
)
from metering import catalog
from studio.core.shapes import shape

# The three plain settings a SageMaker UserSettings nests under JupyterLabAppSettings.
_LAB = "JupyterLabAppSettings"


def instance_type_choices() -> list[tuple[str, str]]:
    """The catalog's types an app may run on: those this installation offers (as the dashboard
    and jobs do), among SageMaker's app instance types (the service validates against them)."""
    app_types = set(shape("AppInstanceType")["enum"])
    types = [t for t in catalog.offered_names() if t in app_types]
    return [("", "— not set —"), *((t, t) for t in types)]


def with_simple_settings(
    current: dict, instance_type: str | None, image: str | None, idle_timeout: int | None
) -> dict:
    """`current` UserSettings with the console's three fields replaced (or cleared), and every
    other setting an API caller stored left as it was."""
    settings = copy.deepcopy(current)
    lab = settings.get(_LAB)
    if isinstance(lab, dict):
        spec = lab.get("DefaultResourceSpec")
        if isinstance(spec, dict):
            spec.pop("InstanceType", None)
            spec.pop("SageMakerImageArn", None)
            if not spec:
                lab.pop("DefaultResourceSpec")
        lifecycle = lab.get("AppLifecycleManagement")
        if isinstance(lifecycle, dict):
            lifecycle.pop("IdleSettings", None)
            if not lifecycle:
                lab.pop("AppLifecycleManagement")
        if not lab:
            settings.pop(_LAB)
    return merge_user_settings(settings, simple_user_settings(instance_type, image, idle_timeout))


class SimpleSettingsMixin(forms.Form):
    """The default instance type, image and idle timeout of a (default) UserSettings."""

    default_instance_type = forms.ChoiceField(
        choices=instance_type_choices, required=False, label="Default instance type"
    )
    default_image = forms.CharField(
        required=False,
        max_length=256,
        label="Default image ARN",
        help_text="arn:aws:sagemaker:REGION:ACCOUNT:image/NAME; empty for the built-in image.",
    )
    idle_timeout = forms.IntegerField(
        required=False,
        label="Idle timeout (minutes)",
        help_text="Stop idle JupyterLab apps after this long (60 to 525600); empty never stops.",
    )
    settings_fields: ClassVar[dict[str, str]] = {
        "InstanceType": "default_instance_type",
        "SageMakerImageArn": "default_image",
        "IdleTimeoutInMinutes": "idle_timeout",
        "IdleSettings": "idle_timeout",
    }

    def show_settings(self, settings: dict) -> None:
        self.initial.setdefault("default_instance_type", default_instance_type(settings) or "")
        self.initial.setdefault("default_image", default_image(settings) or "")
        self.initial.setdefault("idle_timeout", idle_timeout_minutes(settings))

    def settings_from(self, current: dict, data: dict[str, Any]) -> dict:
        return with_simple_settings(
            current,
            data.get("default_instance_type") or None,
            data.get("default_image") or None,
            data.get("idle_timeout"),
        )
