"""CreateApp, DescribeApp, ListApps, DeleteApp: JupyterLab servers in spaces; and where a start
stands while it waits for a worker."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from domains.models import App, AppStatus, SharingType, Space, StudioStatus, UserProfile
from domains.permissions import User, authorize, enforce_quotas, require_in_scope
from domains.services.lifecycle_configs import lifecycle_config_for
from domains.services.lookup import get_domain
from domains.services.spaces import get_space, visible_spaces
from domains.services.tags import save_tags, validate_tags
from domains.user_settings import default_image, default_instance_type, merge_user_settings
from metering import catalog, usage
from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from studio.core.lifecycle import record_creation, transition
from studio.core.queue import Wait, enqueue, wait_for
from studio.core.runtime import runtime_name
from studio.core.shapes import validate

APP_TYPES = ("JupyterLab",)
DEFAULT_IMAGE = "studio/jupyter:latest"
DEFAULT_INSTANCE_TYPE = "ml.t3.medium"  # SageMaker's default for JupyterLab spaces


def _acting_profile(actor: User, space: Space) -> UserProfile:
    """Who is acting: the owner, or a member of a shared space starting it for everyone."""
    profile = UserProfile.objects.filter(domain=space.domain, user=actor).first()
    if (
        profile is not None
        and space.sharing_type == SharingType.SHARED
        and space.members.filter(pk=profile.pk).exists()
    ):
        return profile
    return space.owner


def _resource_spec(space: Space, given: dict[str, Any] | None) -> dict[str, Any]:
    """The request's ResourceSpec over the space's and the owner's defaults."""
    if given is not None:
        validate(given, "ResourceSpec", "ResourceSpec")
    settings = merge_user_settings(space.domain.default_user_settings, space.owner.user_settings)
    space_spec = (space.space_settings.get("JupyterLabAppSettings") or {}).get(
        "DefaultResourceSpec", {}
    )
    spec = {
        "InstanceType": default_instance_type(settings) or DEFAULT_INSTANCE_TYPE,
        "SageMakerImageArn": default_image(settings) or DEFAULT_IMAGE,
        **space_spec,
        **(given or {}),
    }
    config = lifecycle_config_for(space, spec.get("LifecycleConfigArn"))
    if config is not None:
        spec["LifecycleConfigArn"] = config.arn
    if catalog.offered(spec["InstanceType"]) is None:
        raise ValidationException(
            f"InstanceType {spec['InstanceType']!r} is not offered here.",
            "ResourceSpec.InstanceType",
        )
    return spec


def create_app(
    actor: User,
    domain_id: str,
    *,
    space_name: str,
    app_type: str = "JupyterLab",
    app_name: str = "default",
    resource_spec: dict[str, Any] | None = None,
    tags: list[dict[str, str]] | None = None,
) -> App:
    """Start the space's JupyterLab (again, if it was stopped): the worker brings it up."""
    # Refused before the lookup, so a shared space's key learns nothing of the name it gave.
    require_in_scope(actor, "sagemaker:CreateApp")
    domain = get_domain(actor, domain_id)
    check_app_type(app_type)
    validate(app_name, "AppName", "AppName")
    validate_tags(tags)
    space = get_space(actor, domain, space_name)
    acting = _acting_profile(actor, space)
    authorize(actor, "sagemaker:CreateApp", domain=domain, owner=acting, space_id=space.pk)
    spec = _resource_spec(space, resource_spec)

    with transaction.atomic():
        space = Space.objects.select_for_update().select_related("domain", "owner").get(pk=space.pk)
        if space.status != StudioStatus.IN_SERVICE:
            raise ResourceInUse(f"Space {space_name} is {space.status}; wait until InService.")
        enforce_quotas(
            space.owner,
            usage.profile_usage(space.domain.domain_id, space.owner.name),
            domain_usage=usage.domain_usage(space.domain.domain_id),
            instance_type=spec["InstanceType"],
            instance_count=1,
            starts_app=True,
        )
        app, created = App.objects.get_or_create(
            space=space,
            app_type=app_type,
            app_name=app_name,
            defaults={"status": AppStatus.PENDING, "resource_spec": spec},
        )
        if not created:
            if app.status not in (AppStatus.DELETED, AppStatus.FAILED):
                raise ResourceInUse(f"App {app_name} of space {space_name} is {app.status}.")
            app.resource_spec = spec
            app.stopped_reason = ""
            app.save(update_fields=["resource_spec", "stopped_reason"])
            transition(app, AppStatus.PENDING)
        app.runtime_state = {"runtime": runtime_name()}
        app.last_user_activity_at = timezone.now()
        app.save(update_fields=["runtime_state", "last_user_activity_at"])
        if created:
            record_creation(app)
        if created or tags:
            save_tags(actor, app.arn, tags)
        enqueue("domains.tasks.start_app", app.pk)
    return app


def check_app_type(app_type: str) -> None:
    """Studio runs JupyterLab apps only: any other AppType SageMaker knows is refused by name."""
    if app_type not in APP_TYPES:
        raise ValidationException(
            f"AppType {app_type!r} is not supported: Studio runs only {', '.join(APP_TYPES)} apps.",
            "AppType",
        )


def get_app(
    actor: User,
    domain_id: str,
    space_name: str,
    app_name: str = "default",
    app_type: str = "JupyterLab",
) -> App:
    check_app_type(app_type)
    domain = get_domain(actor, domain_id)
    space = get_space(actor, domain, space_name)
    app = (
        App.objects.select_related("space__domain", "space__owner")
        .filter(space=space, app_type=app_type, app_name=app_name)
        .first()
    )
    if app is None:
        raise ResourceNotFound(f"App {app_name} does not exist in space {space_name}.")
    return app


def describe_app(
    actor: User,
    domain_id: str,
    space_name: str,
    app_name: str = "default",
    app_type: str = "JupyterLab",
) -> App:
    app = get_app(actor, domain_id, space_name, app_name, app_type)
    authorize(
        actor,
        "sagemaker:DescribeApp",
        domain=app.space.domain,
        owner=app.space.owner,
        space_id=app.space_id,
    )
    return app


def describe_app_start_wait(
    actor: User, domain_id: str, space_name: str, app_name: str = "default"
) -> Wait | None:
    """Where the app's start stands in the workers' queue while it is Pending, else None. As
    DescribeApp: whoever may see the app may see how its start waits."""
    app = describe_app(actor, domain_id, space_name, app_name)
    if app.status != AppStatus.PENDING:
        return None
    return wait_for("domains.tasks.start_app", app.pk)


def list_apps(actor: User, domain_id: str) -> QuerySet[App]:
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:ListApps", domain=domain)
    return App.objects.filter(space__in=visible_spaces(actor, domain)).select_related("space")


def delete_app(
    actor: User,
    domain_id: str,
    space_name: str,
    app_name: str = "default",
    *,
    reason: str = "",
    app_type: str = "JupyterLab",
) -> App:
    """Stop the server; the space's files stay. `reason` says why when Studio stops it."""
    # Refused before the lookup, so a shared space's key learns nothing of the name it gave.
    require_in_scope(actor, "sagemaker:DeleteApp")
    app = get_app(actor, domain_id, space_name, app_name, app_type)
    authorize(
        actor,
        "sagemaker:DeleteApp",
        domain=app.space.domain,
        owner=_acting_profile(actor, app.space),
        space_id=app.space_id,
    )
    return stop_app_now(app, reason)


def stop_app_now(app: App, reason: str = "") -> App:
    """The transition and the worker's stop, shared by DeleteApp and the idle culler."""

    with transaction.atomic():
        if app.status not in (AppStatus.PENDING, AppStatus.IN_SERVICE):
            raise ValidationException(
                f"App {app.app_name} is {app.status}; only a running app can be deleted.",
                "AppName",
            )
        app.stopped_reason = reason
        app.save(update_fields=["stopped_reason"])
        transition(app, AppStatus.DELETING)
        enqueue("domains.tasks.stop_app", app.pk)
    return app
