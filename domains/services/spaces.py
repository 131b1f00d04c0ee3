"""CreateSpace, DescribeSpace, ListSpaces, UpdateSpace, DeleteSpace."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from domains.models import App, AppStatus, SharingType, Space, StudioStatus, UserProfile
from domains.permissions import User, authorize, key_scope, profile_quotas, require_in_scope
from domains.services.lookup import get_domain, get_profile
from domains.services.tags import forget_tags, save_tags, validate_tags
from domains.user_settings import default_instance_type, merge_user_settings
from metering import catalog
from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from studio.core.events import publish
from studio.core.lifecycle import record_creation, transition
from studio.core.queue import enqueue
from studio.core.shapes import validate, validate_name


def _acting_profile(actor: User, domain) -> UserProfile:
    profile = UserProfile.objects.filter(domain=domain, user=actor).first()
    if profile is None:
        raise ValidationException(
            "Spaces belong to user profiles; you have none in this domain.", "OwnerUserProfileName"
        )
    return profile


INSTANCE_TYPE_PATH = "SpaceSettings.JupyterLabAppSettings.DefaultResourceSpec.InstanceType"


def allowed_instance_types(owner: UserProfile) -> list[str]:
    """The catalog's enabled types, cheapest first, less those the owner's policies allow none
    of (MaxInstancesPerType 0): what a space of theirs may be set to run on."""
    quotas = profile_quotas(owner).instances_per_type
    return [
        name for name in catalog.offered_names() if name not in quotas or quotas[name].value > 0
    ]


def _check_instance_type(owner: UserProfile, space_settings: dict[str, Any] | None) -> None:
    """A space set to run on a type must be able to: refused now, on the field, rather than
    at every start."""
    instance_type = default_instance_type(space_settings or {})
    if instance_type is None:
        return
    if catalog.offered(instance_type) is None:
        raise ValidationException(
            f"Instance type {instance_type} is not offered here; choose one of "
            f"{', '.join(catalog.offered_names())}.",
            INSTANCE_TYPE_PATH,
        )
    limit = profile_quotas(owner).instances_per_type.get(instance_type)
    if limit is not None and limit.value == 0:
        raise ValidationException(
            f"{limit.source} allows no {instance_type} instances for user profile "
            f"'{owner.name}'; choose another instance type or ask a domain admin.",
            INSTANCE_TYPE_PATH,
        )


def create_space(
    actor: User,
    domain_id: str,
    *,
    name: str,
    owner: str | None = None,
    sharing_type: str = SharingType.PRIVATE,
    members: list[str] | None = None,
    space_settings: dict[str, Any] | None = None,
    display_name: str = "",
    tags: list[dict[str, str]] | None = None,
) -> Space:
    """A space owned by `owner` (a profile name; the actor's own profile by default). The type
    in `space_settings` (JupyterLabAppSettings.DefaultResourceSpec.InstanceType), if any, is
    what its JupyterLab starts on: it must be offered, and allowed by the owner's policies."""
    domain = get_domain(actor, domain_id)
    validate_name(name, "SpaceName", "SpaceName")
    if sharing_type not in SharingType.values:
        raise ValidationException(
            "SpaceSharingSettings.SharingType must be Private or Shared.",
            "SpaceSharingSettings.SharingType",
        )
    if space_settings is not None:
        validate(space_settings, "SpaceSettings", "SpaceSettings")
    if display_name:
        validate(display_name, "NonEmptyString64", "SpaceDisplayName")
    validate_tags(tags)
    owner_profile = get_profile(domain, owner) if owner else _acting_profile(actor, domain)
    authorize(actor, "sagemaker:CreateSpace", domain=domain, owner=owner_profile)
    _check_instance_type(owner_profile, space_settings)
    member_profiles = [get_profile(domain, m) for m in members or []]
    if member_profiles and sharing_type != SharingType.SHARED:
        raise ValidationException("Only a Shared space has members.", "Members")

    with transaction.atomic():
        try:
            with transaction.atomic():
                space = Space.objects.create(
                    domain=domain,
                    name=name,
                    owner=owner_profile,
                    sharing_type=sharing_type,
                    space_settings=space_settings or {},
                    display_name=display_name,
                    status=StudioStatus.PENDING,
                )
        except IntegrityError as e:
            raise ResourceInUse(f"Space {name} already exists in domain {domain_id}.") from e
        space.members.set(member_profiles)
        record_creation(space)
        save_tags(actor, space.arn, tags)
        enqueue("domains.tasks.provision_space", space.pk)
    return space


def visible_spaces(actor: User, domain) -> QuerySet[Space]:
    """Spaces the actor may open: their own and shared ones they belong to (all, for admins);
    for a shared space's key, that space alone."""
    profile = UserProfile.objects.filter(domain=domain, user=actor).first()
    spaces = Space.objects.filter(domain=domain).select_related("domain", "owner")
    scope = key_scope(actor)
    if scope is not None:
        return spaces.filter(pk=scope.space_id)
    if actor.is_superuser or (profile is not None and profile.is_admin):
        return spaces
    if profile is None:
        return spaces.none()
    return spaces.filter(Q(owner=profile) | Q(members=profile)).distinct()


def get_space(actor: User, domain, name: str) -> Space:
    validate(name, "SpaceName", "SpaceName")
    space = visible_spaces(actor, domain).filter(name=name).first()
    if space is None:
        raise ResourceNotFound(f"Space {name} does not exist in domain {domain.domain_id}.")
    return space


def describe_space(actor: User, domain_id: str, name: str) -> Space:
    domain = get_domain(actor, domain_id)
    space = get_space(actor, domain, name)
    authorize(actor, "sagemaker:DescribeSpace", domain=domain, owner=space.owner, space_id=space.pk)
    return space


def list_spaces(actor: User, domain_id: str) -> QuerySet[Space]:
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:ListSpaces", domain=domain)
    return visible_spaces(actor, domain).order_by("name")


def update_space(
    actor: User,
    domain_id: str,
    name: str,
    *,
    space_settings: dict[str, Any] | None = None,
    display_name: str | None = None,
) -> Space:
    """Change a space's settings, merged member by member over what it has (as a profile's
    over the domain's): a new InstanceType keeps its image. It takes effect at the next start
    of its JupyterLab; a running one keeps what it started on. Only its owner or an admin."""
    require_in_scope(actor, "sagemaker:UpdateSpace")
    domain = get_domain(actor, domain_id)
    space = get_space(actor, domain, name)
    authorize(actor, "sagemaker:UpdateSpace", domain=domain, owner=space.owner, space_id=space.pk)
    if space_settings is None and display_name is None:
        return space
    if display_name is not None:
        validate(display_name, "NonEmptyString64", "SpaceDisplayName")
    if space_settings is not None:
        validate(space_settings, "SpaceSettings", "SpaceSettings")
        _check_instance_type(space.owner, space_settings)
    with transaction.atomic():
        space = Space.objects.select_for_update().select_related("domain", "owner").get(pk=space.pk)
        if space.status != StudioStatus.IN_SERVICE:
            raise ResourceInUse(f"Space {name} is {space.status}; wait until InService.")
        if space_settings is not None:
            space.space_settings = merge_user_settings(space.space_settings, space_settings)
        if display_name is not None:
            space.display_name = display_name
        space.last_modified_at = timezone.now()
        space.save(update_fields=["space_settings", "display_name", "last_modified_at"])
        publish(space.event("updated"))
    return space


def delete_space(actor: User, domain_id: str, name: str) -> Space:
    """As in SageMaker, a space's apps must be deleted first (a stopped or failed one holds
    nothing, and goes with the space). Its files stay on the volume."""
    # Refused before the lookup, so a shared space's key learns nothing of the name it gave.
    require_in_scope(actor, "sagemaker:DeleteSpace")
    domain = get_domain(actor, domain_id)
    space = get_space(actor, domain, name)
    authorize(actor, "sagemaker:DeleteSpace", domain=domain, owner=space.owner, space_id=space.pk)

    with transaction.atomic():
        running = (
            App.objects.filter(space=space)
            .exclude(status__in=(AppStatus.DELETED, AppStatus.FAILED))
            .first()
        )
        if running is not None:
            raise ResourceInUse(
                f"Space {name} cannot be deleted while its JupyterLab app is {running.status}: "
                "stop it first (DeleteApp)."
            )
        transition(space, StudioStatus.DELETING)
        # Its apps go with it.
        for arn in [space.arn, *(app.arn for app in space.apps.select_related("space__domain"))]:
            forget_tags(arn)
        enqueue("domains.tasks.finish_space_deletion", space.pk)
    return space
