"""CreateStudioLifecycleConfig, DescribeStudioLifecycleConfig, ListStudioLifecycleConfigs,
DeleteStudioLifecycleConfig, and which one an app runs.

A domain admin's configuration belongs to their domain; a superuser's without a domain is the
installation's, which every domain sees and may attach. Only JupyterLab configurations exist,
since JupyterLab is the only app Studio runs.
"""

import base64
import binascii
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from domains.models import App, AppStatus, Domain, Space, StudioLifecycleConfig, UserProfile
from domains.permissions import User, authorize, bound_profile, visible_domains
from domains.services.lookup import get_domain
from domains.services.tags import forget_tags, save_tags, validate_tags
from domains.user_settings import merge_user_settings
from studio.core.errors import AccessDenied, ResourceInUse, ResourceNotFound, ValidationException
from studio.core.shapes import validate

FIELD = "StudioLifecycleConfigContent"
APP_TYPES = ("JupyterLab",)


def _require_admin(actor: User, action: str, domain: Domain) -> None:
    """A configuration runs in its domain's members' containers as them: only the domain's
    admins (and superusers) may create or delete one."""
    profile = authorize(actor, action, domain=domain)
    if profile is not None and not profile.is_admin and not actor.is_superuser:
        raise AccessDenied(
            f"User profile '{profile.name}' in domain '{domain.name}' is not authorized to "
            f"perform {action}: it is reserved to the domain's admins."
        )


def _authorize_read(actor: User, action: str) -> None:
    bound = bound_profile(actor)
    if bound is not None:
        authorize(actor, action, domain=bound.domain)
    elif not actor.is_superuser:
        authorize(actor, action)


def check_app_type(app_type: str, field: str = "StudioLifecycleConfigAppType") -> None:
    if app_type not in APP_TYPES:
        raise ValidationException(
            f"{field} {app_type!r} is not supported: Studio runs only "
            f"{', '.join(APP_TYPES)} apps, so only {', '.join(APP_TYPES)} lifecycle "
            "configurations.",
            field,
        )


def create_studio_lifecycle_config(
    actor: User,
    *,
    name: str,
    content: str,
    app_type: str = "JupyterLab",
    domain_id: str | None = None,
    tags: list[dict[str, str]] | None = None,
) -> StudioLifecycleConfig:
    """A configuration of the domain `domain_id` (its admins'), or without one the
    installation's (superusers'). `content` is base64, as the API takes it."""
    domain = None
    if domain_id is not None:
        domain = get_domain(actor, domain_id)
        _require_admin(actor, "sagemaker:CreateStudioLifecycleConfig", domain)
    else:
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
    check_app_type(app_type)
    validate_tags(tags)
    try:
        script = base64.b64decode(content, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as e:
        raise ValidationException(f"{FIELD} must be a base64-encoded script.", FIELD) from e
    try:
        with transaction.atomic():
            config = StudioLifecycleConfig.objects.create(
                name=name, app_type=app_type, content=script, domain=domain
            )
            save_tags(actor, config.arn, tags)
            return config
    except IntegrityError as e:
        # Names are unique across the installation (the launcher finds one by its name).
        raise ResourceInUse(f"Lifecycle configuration {name} already exists.") from e


def visible_configs(actor: User) -> QuerySet[StudioLifecycleConfig]:
    """The installation's configurations and those of the domains the actor can see."""
    return StudioLifecycleConfig.objects.select_related("domain").filter(
        Q(domain__in=visible_domains(actor)) | Q(domain__isnull=True)
    )


def _find(configs: QuerySet[StudioLifecycleConfig], value: str, field: str):
    """The configuration `value` names (its name or its ARN) among `configs`."""
    name = value.rsplit("/", 1)[-1]
    config = configs.filter(name=name).first()
    if config is None or (value.startswith("arn:") and value != config.arn):
        raise ResourceNotFound(f"{field}: lifecycle configuration {value} does not exist.")
    return config


def describe_studio_lifecycle_config(actor: User, name: str) -> StudioLifecycleConfig:
    _authorize_read(actor, "sagemaker:DescribeStudioLifecycleConfig")
    return _find(visible_configs(actor), name, "StudioLifecycleConfigName")


def list_studio_lifecycle_configs(actor: User) -> QuerySet[StudioLifecycleConfig]:
    _authorize_read(actor, "sagemaker:ListStudioLifecycleConfigs")
    return visible_configs(actor)


def _names_in(settings: Any) -> Iterable[str]:
    """Every lifecycle configuration a UserSettings or SpaceSettings value names."""
    for app in ("JupyterLabAppSettings", "JupyterServerAppSettings", "KernelGatewayAppSettings"):
        part = (settings or {}).get(app) or {}
        yield from part.get("LifecycleConfigArns") or []
        chosen = (part.get("DefaultResourceSpec") or {}).get("LifecycleConfigArn")
        if chosen:
            yield chosen


def _attached_to(config: StudioLifecycleConfig) -> str | None:
    """Where the configuration is attached or in use, or None."""
    refs = {config.name, config.arn}
    domains = Domain.objects.all() if config.domain is None else [config.domain]
    for domain in domains:
        if refs & set(_names_in(domain.default_user_settings)):
            return f"domain {domain.domain_id}'s DefaultUserSettings"
        for profile in UserProfile.objects.filter(domain=domain):
            if refs & set(_names_in(profile.user_settings)):
                return f"user profile {profile.name}'s UserSettings"
        for space in Space.objects.filter(domain=domain):
            if refs & set(_names_in(space.space_settings)):
                return f"space {space.name}'s SpaceSettings"
    running = App.objects.filter(
        resource_spec__LifecycleConfigArn=config.arn,
        status__in=(AppStatus.PENDING, AppStatus.IN_SERVICE),
    ).first()
    if running is not None:
        return f"the running app of space {running.space.name}"
    return None


def delete_studio_lifecycle_config(actor: User, name: str) -> None:
    """Refused (ResourceInUse) while a domain, profile or space attaches it or an app runs it."""
    config = _find(visible_configs(actor), name, "StudioLifecycleConfigName")
    if config.domain is None:
        authorize(actor, "sagemaker:DeleteStudioLifecycleConfig")
    else:
        _require_admin(actor, "sagemaker:DeleteStudioLifecycleConfig", config.domain)
    with transaction.atomic():
        where = _attached_to(config)
        if where is not None:
            raise ResourceInUse(
                f"Lifecycle configuration {config.name} is attached to {where}; detach it first."
            )
        forget_tags(config.arn)
        config.delete()


def check_attachable(domain: Domain, settings: Any, field: str) -> None:
    """Every configuration `settings` names must be the domain's or the installation's."""
    configs = StudioLifecycleConfig.objects.filter(Q(domain=domain) | Q(domain__isnull=True))
    for value in _names_in(settings):
        try:
            _find(configs, value, field)
        except ResourceNotFound:
            raise ValidationException(
                f"{field}: lifecycle configuration {value} does not exist in domain "
                f"{domain.domain_id}.",
                field,
            ) from None


def lifecycle_config_for(space, requested: str | None) -> StudioLifecycleConfig | None:
    """The configuration an app of `space` runs: the one its ResourceSpec names, else the
    default of the owner's merged settings. It must be attached (listed in
    JupyterLabAppSettings.LifecycleConfigArns at domain or profile level), as in SageMaker,
    and be the space's domain's or the installation's."""
    settings = merge_user_settings(space.domain.default_user_settings, space.owner.user_settings)
    lab = settings.get("JupyterLabAppSettings", {})
    attached = set(lab.get("LifecycleConfigArns", []))
    chosen = requested or lab.get("DefaultResourceSpec", {}).get("LifecycleConfigArn")
    if not chosen:
        return None
    field = "ResourceSpec.LifecycleConfigArn"
    configs = StudioLifecycleConfig.objects.filter(Q(domain=space.domain) | Q(domain__isnull=True))
    config = _find(configs, chosen, field)
    if config.arn not in attached and config.name not in attached:
        raise ValidationException(
            f"{field}: {config.name} is not attached to the domain or the user profile "
            "(JupyterLabAppSettings.LifecycleConfigArns).",
            field,
        )
    return config
