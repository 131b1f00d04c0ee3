"""CreateStudioLifecycleConfig, DescribeStudioLifecycleConfig, DeleteStudioLifecycleConfig, and
which one an app runs."""

import base64
import binascii

from django.db import IntegrityError, transaction

from domains.models import StudioLifecycleConfig
from domains.permissions import User, authorize
from domains.user_settings import merge_user_settings
from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from studio.core.shapes import validate

FIELD = "StudioLifecycleConfigContent"


def create_studio_lifecycle_config(
    actor: User, *, name: str, content: str, app_type: str = "JupyterLab"
) -> StudioLifecycleConfig:
    """Site-wide, like SageMaker's (an account resource); superusers create them, domain
    admins attach them through settings. `content` is base64, as the API takes it."""
    authorize(actor, "sagemaker:CreateStudioLifecycleConfig")
    validate(
        {
            "StudioLifecycleConfigName": name,
            FIELD: content,
            "StudioLifecycleConfigAppType": app_type,
        },
        "CreateStudioLifecycleConfigRequest",
        "",
    )
    if app_type != "JupyterLab":
        raise ValidationException(
            "Only JupyterLab lifecycle configurations run here.", "StudioLifecycleConfigAppType"
        )
    try:
        script = base64.b64decode(content, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as e:
        raise ValidationException(f"{FIELD} must be a base64-encoded script.", FIELD) from e
    try:
        with transaction.atomic():
            return StudioLifecycleConfig.objects.create(
                name=name, app_type=app_type, content=script
            )
    except IntegrityError as e:
        raise ResourceInUse(f"Lifecycle configuration {name} already exists.") from e


def _by_arn_or_name(value: str, field: str) -> StudioLifecycleConfig:
    name = value.rsplit("/", 1)[-1]
    config = StudioLifecycleConfig.objects.filter(name=name).first()
    if config is None:
        raise ResourceNotFound(f"{field}: lifecycle configuration {value} does not exist.")
    return config


def describe_studio_lifecycle_config(actor: User, name: str) -> StudioLifecycleConfig:
    authorize(actor, "sagemaker:DescribeStudioLifecycleConfig")
    return _by_arn_or_name(name, "StudioLifecycleConfigName")


def delete_studio_lifecycle_config(actor: User, name: str) -> None:
    authorize(actor, "sagemaker:DeleteStudioLifecycleConfig")
    _by_arn_or_name(name, "StudioLifecycleConfigName").delete()


def lifecycle_config_for(space, requested: str | None) -> StudioLifecycleConfig | None:
    """The configuration an app of `space` runs: the one its ResourceSpec names, else the
    default of the owner's merged settings. It must be attached (listed in
    JupyterLabAppSettings.LifecycleConfigArns at domain or profile level), as in SageMaker."""
    settings = merge_user_settings(space.domain.default_user_settings, space.owner.user_settings)
    lab = settings.get("JupyterLabAppSettings", {})
    attached = set(lab.get("LifecycleConfigArns", []))
    chosen = requested or lab.get("DefaultResourceSpec", {}).get("LifecycleConfigArn")
    if not chosen:
        return None
    field = "ResourceSpec.LifecycleConfigArn"
    config = _by_arn_or_name(chosen, field)
    if config.arn not in attached and config.name not in attached:
        raise ValidationException(
            f"{field}: {config.name} is not attached to the domain or the user profile "
            "(JupyterLabAppSettings.LifecycleConfigArns).",
            field,
        )
    return config
