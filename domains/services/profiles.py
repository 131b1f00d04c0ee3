"""CreateUserProfile, DescribeUserProfile, ListUserProfiles, UpdateUserProfile,
DeleteUserProfile, and Studio's suspend / resume."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from domains.models import Domain, ProfileRole, StudioStatus, UserProfile
from domains.permissions import User, authorize, visible_domains
from domains.services.lifecycle_configs import check_attachable
from domains.services.lookup import get_domain, get_policies, get_profile
from domains.services.roles import check_execution_role
from domains.services.tags import forget_tags, save_tags, validate_tags
from domains.user_settings import validate_user_settings
from studio.core.errors import ResourceInUse, ValidationException
from studio.core.events import publish
from studio.core.lifecycle import record_creation, transition
from studio.core.queue import enqueue
from studio.core.shapes import validate_name

# `user` of create_user_profile for a profile that gets an account of its own (the API's
# CreateUserProfile, which names no person).
NEW_ACCOUNT = object()


def _validate_role(role: str) -> str:
    if role not in ProfileRole.values:
        raise ValidationException(
            f"Role must be one of {', '.join(ProfileRole.values)}, not {role!r}.", "Role"
        )
    return role


def _check_attachable(actor: User, domain: Domain, user: Any) -> None:
    """A domain admin may give a profile only to an account with no other role in the
    installation; otherwise attaching a superuser, a staff member or another domain's member
    would let them issue that account keys and act as it. Superusers may attach anyone."""
    if actor.is_superuser:
        return
    elsewhere = UserProfile.objects.filter(user=user).exclude(domain=domain).exists()
    if user.is_superuser or user.is_staff or elsewhere:
        raise ValidationException(
            f"User {user.get_username()} already has a role elsewhere in this installation "
            "(a profile in another domain, or staff or superuser rights), so only a superuser "
            "can give them a profile here. A domain admin can attach only accounts with no "
            "other role, or create a new one.",
            "User",
        )


def create_user_profile(
    actor: User,
    domain_id: str,
    *,
    name: str,
    user: Any,
    user_settings: dict[str, Any] | None = None,
    role: str = ProfileRole.MEMBER,
    policies: list[str] | None = None,
    tags: list[dict[str, str]] | None = None,
) -> UserProfile:
    """A profile for `user` (an existing account; NEW_ACCOUNT creates one for the profile
    alone, named "<profile>@<domain id>", with no password: its holder signs in through a
    presigned URL or an identity provider, or uses the profile's keys)."""
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:CreateUserProfile", domain=domain)
    validate_name(name, "UserProfileName", "UserProfileName")
    user_settings = validate_user_settings(user_settings, "UserSettings")
    check_execution_role(domain, user_settings, "UserSettings")
    check_attachable(domain, user_settings, "UserSettings")
    _validate_role(role)
    validate_tags(tags)
    new_account = user is NEW_ACCOUNT
    if not new_account and (not isinstance(user, get_user_model()) or user.pk is None):
        raise ValidationException("User must be an existing user account.", "User")

    with transaction.atomic():
        domain = get_domain(actor, domain_id, for_update=True)
        if domain.status != StudioStatus.IN_SERVICE:
            raise ResourceInUse(f"Domain {domain_id} is {domain.status}; wait until InService.")
        if new_account:
            # In the transaction, so that a refused creation leaves no account behind.
            user = _new_account(f"{name}@{domain.domain_id}")
        # Locked, so that two domains' admins cannot both attach the same account at once.
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        _check_attachable(actor, domain, user)
        if domain.profiles.filter(name=name).exists():
            raise ResourceInUse(f"User profile {name} already exists in domain {domain_id}.")
        if domain.profiles.filter(user=user).exists():
            raise ResourceInUse(
                f"User {user.get_username()} already has a profile in domain {domain_id}."
            )
        attached = get_policies(domain, policies or [], "Policies")
        try:
            with transaction.atomic():
                profile = UserProfile.objects.create(
                    domain=domain,
                    name=name,
                    user=user,
                    role=role,
                    user_settings=user_settings,
                    status=StudioStatus.PENDING,
                )
        except IntegrityError as e:  # a concurrent create won the unique constraint
            raise ResourceInUse(f"User profile {name} already exists in domain {domain_id}.") from e
        profile.home_uid = settings.STUDIO_HOME_UID_BASE + profile.pk
        profile.save(update_fields=["home_uid"])
        profile.policies.set(attached)
        record_creation(profile)
        save_tags(actor, profile.arn, tags)
        enqueue("domains.tasks.provision_user_profile", profile.pk)
    return profile


def _new_account(username: str) -> Any:
    model = get_user_model()
    existing = model.objects.filter(username=username).first()
    if existing is not None:
        # Left by a deleted profile of the same name: the same person, it seems, comes back.
        return existing
    account = model(username=username)
    account.set_unusable_password()
    account.save()
    return account


def describe_user_profile(actor: User, domain_id: str, name: str) -> UserProfile:
    domain = get_domain(actor, domain_id)
    profile = get_profile(domain, name)
    authorize(actor, "sagemaker:DescribeUserProfile", domain=domain, owner=profile)
    return profile


def list_user_profiles(actor: User, domain_id: str | None = None) -> QuerySet[UserProfile]:
    """Profiles in the domains the actor can see (one domain when `domain_id` is given)."""
    domains = visible_domains(actor)
    if domain_id is not None:
        domain = get_domain(actor, domain_id)
        authorize(actor, "sagemaker:ListUserProfiles", domain=domain)
        domains = domains.filter(pk=domain.pk)
    return (
        UserProfile.objects.filter(domain__in=domains)
        .select_related("domain", "user")
        .order_by("domain__name", "name")
    )


def update_user_profile(
    actor: User,
    domain_id: str,
    name: str,
    *,
    user_settings: dict[str, Any] | None = None,
    role: str | None = None,
    policies: list[str] | None = None,
) -> UserProfile:
    domain = get_domain(actor, domain_id)
    profile = get_profile(domain, name)
    authorize(actor, "sagemaker:UpdateUserProfile", domain=domain, owner=profile)
    if user_settings is not None:
        validate_user_settings(user_settings, "UserSettings")
        check_execution_role(domain, user_settings, "UserSettings")
        check_attachable(domain, user_settings, "UserSettings")
    if role is not None:
        _validate_role(role)
    with transaction.atomic():
        profile = (
            UserProfile.objects.select_for_update().select_related("domain").get(pk=profile.pk)
        )
        if profile.status != StudioStatus.IN_SERVICE:
            raise ResourceInUse(f"User profile {name} is {profile.status}; wait until InService.")
        changed = []
        if user_settings is not None:
            profile.user_settings = user_settings
            changed.append("user_settings")
        if role is not None:
            profile.role = role
            changed.append("role")
        if changed:
            profile.last_modified_at = timezone.now()
            profile.save(update_fields=[*changed, "last_modified_at"])
        if policies is not None:
            profile.policies.set(get_policies(domain, policies, "Policies"))
        publish(profile.event("updated"))
    return profile


def delete_user_profile(actor: User, domain_id: str, name: str) -> UserProfile:
    """Start deleting a profile. Its home directory stays on the domain volume, as in
    SageMaker; DeleteDomain with RetentionPolicy Delete removes it."""
    domain = get_domain(actor, domain_id)
    profile = get_profile(domain, name)
    authorize(actor, "sagemaker:DeleteUserProfile", domain=domain, owner=profile)

    with transaction.atomic():
        transition(profile, StudioStatus.DELETING)
        forget_tags(profile.arn)
        enqueue("domains.tasks.finish_user_profile_deletion", profile.pk)
    return profile


def _set_suspended(actor: User, domain_id: str, name: str, action: str, suspend: bool):
    domain = get_domain(actor, domain_id)
    profile = get_profile(domain, name)
    acting = authorize(actor, action, domain=domain, owner=profile)
    if suspend and acting is not None and acting.pk == profile.pk:
        raise ValidationException(
            "You cannot suspend your own profile; another admin of the domain can.", "UserProfile"
        )
    with transaction.atomic():
        profile = (
            UserProfile.objects.select_for_update().select_related("domain").get(pk=profile.pk)
        )
        profile.suspended_at = timezone.now() if suspend else None
        profile.save(update_fields=["suspended_at"])
        publish(profile.event("suspended" if suspend else "resumed"))
    return profile


def suspend_user_profile(actor: User, domain_id: str, name: str) -> UserProfile:
    """Stop a user from acting in the domain, keeping everything they made."""
    return _set_suspended(actor, domain_id, name, "studio:SuspendUserProfile", True)


def resume_user_profile(actor: User, domain_id: str, name: str) -> UserProfile:
    return _set_suspended(actor, domain_id, name, "studio:ResumeUserProfile", False)
