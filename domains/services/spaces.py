"""CreateSpace, DescribeSpace, ListSpaces, DeleteSpace."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from domains.models import App, AppStatus, SharingType, Space, StudioStatus, UserProfile
from domains.permissions import User, authorize, key_scope, require_in_scope
from domains.services.lookup import get_domain, get_profile
from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
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
) -> Space:
    """A space owned by `owner` (a profile name; the actor's own profile by default)."""
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
    owner_profile = get_profile(domain, owner) if owner else _acting_profile(actor, domain)
    authorize(actor, "sagemaker:CreateSpace", domain=domain, owner=owner_profile)
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


def delete_space(actor: User, domain_id: str, name: str) -> Space:
    """As in SageMaker, a space's apps must be deleted first. Its files stay on the volume."""
    # Refused before the lookup, so a shared space's key learns nothing of the name it gave.
    require_in_scope(actor, "sagemaker:DeleteSpace")
    domain = get_domain(actor, domain_id)
    space = get_space(actor, domain, name)
    authorize(actor, "sagemaker:DeleteSpace", domain=domain, owner=space.owner, space_id=space.pk)

    with transaction.atomic():
        running = App.objects.filter(space=space).exclude(status=AppStatus.DELETED)
        if running.exists():
            raise ResourceInUse(f"Space {name} still has an app; delete it first.")
        transition(space, StudioStatus.DELETING)
        enqueue("domains.tasks.finish_space_deletion", space.pk)
    return space
