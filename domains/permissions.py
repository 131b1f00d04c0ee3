"""The one question every service function asks: may this user do this action here?

A superuser may do anything. Everyone else acts through their user profile in the resource's
domain: the profile must exist, be InService and not suspended; domain admins may do anything
in their domain; members are held to their policies (`domains.policy`), may manage only their own
resources, and may never perform the domain-management actions below.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from domains.models import Domain, Policy, StudioStatus, UserProfile
from domains.policy import Usage, check_quotas, effective_quotas, evaluate
from studio.errors import AccessDenied

User = AbstractBaseUser | AnonymousUser

ADMIN_ACTIONS = frozenset(
    {
        "sagemaker:UpdateDomain",
        "sagemaker:DeleteDomain",
        "sagemaker:CreateUserProfile",
        "sagemaker:UpdateUserProfile",
        "sagemaker:DeleteUserProfile",
        "studio:SuspendUserProfile",
        "studio:ResumeUserProfile",
        "studio:CreatePolicy",
        "studio:UpdatePolicy",
        "studio:DeletePolicy",
    }
)
# Actions on one's own credentials: allowed unless a policy explicitly denies them.
SELF_SERVICE_ACTIONS = frozenset(
    {
        "studio:CreateAccessKey",
        "studio:ListAccessKeys",
        "studio:UpdateAccessKey",
        "studio:DeleteAccessKey",
    }
)
READ_PREFIXES = ("describe", "list", "get", "search")


def _is_read(action: str) -> bool:
    return action.split(":", 1)[-1].lower().startswith(READ_PREFIXES)


def visible_domains(user: User) -> QuerySet[Domain]:
    """Domains a user may know exist: all for superusers, else those they have a profile in."""
    if not user.is_authenticated:
        return Domain.objects.none()
    if user.is_superuser:
        return Domain.objects.all()
    return Domain.objects.filter(profiles__user=user).distinct()


def administered_domains(user: User) -> QuerySet[Domain]:
    if not user.is_authenticated:
        return Domain.objects.none()
    if user.is_superuser:
        return Domain.objects.all()
    return Domain.objects.filter(
        profiles__user=user,
        profiles__role="Admin",
        profiles__suspended_at__isnull=True,
        profiles__status=StudioStatus.IN_SERVICE,
    ).distinct()


def effective_policies(profile: UserProfile) -> list[Policy]:
    """The profile's own policies when it has any; otherwise the domain's defaults."""
    own = list(profile.policies.all())
    return own or list(profile.domain.default_policies.all())


def _denied(profile: UserProfile, action: str, why: str) -> AccessDenied:
    return AccessDenied(
        f"User profile '{profile.name}' in domain '{profile.domain.name}' is not authorized "
        f"to perform {action}: {why}."
    )


def authorize(
    user: User,
    action: str,
    *,
    domain: Domain | None = None,
    owner: UserProfile | None = None,
) -> UserProfile | None:
    """Raise AccessDenied unless `user` may perform `action` on a resource of `domain` owned
    by `owner`. Returns the acting profile (None for a superuser without one)."""
    if not user.is_authenticated or not user.is_active:
        raise AccessDenied(f"Sign in to perform {action}.")
    if domain is None:
        if user.is_superuser:
            return None
        raise AccessDenied(f"Only a superuser may perform {action}.")
    profile = UserProfile.objects.select_related("domain").filter(domain=domain, user=user).first()
    if user.is_superuser:
        return profile
    if profile is None:
        raise AccessDenied(f"You have no user profile in domain '{domain.name}' for {action}.")
    if profile.is_suspended:
        raise _denied(profile, action, "the profile is suspended; ask a domain admin to resume it")
    if profile.status != StudioStatus.IN_SERVICE:
        raise _denied(profile, action, f"the profile is {profile.status}, not InService")
    if profile.is_admin:
        return profile
    if action in ADMIN_ACTIONS:
        raise _denied(profile, action, "it is reserved to the domain's admins")
    own = owner is None or owner.pk == profile.pk
    if not own and not _is_read(action):
        raise _denied(profile, action, "the resource belongs to another user profile")
    decision = evaluate(effective_policies(profile), action)
    if decision.allowed:
        return profile
    if action in SELF_SERVICE_ACTIONS and own and not decision.explicit_deny:
        return profile
    raise _denied(profile, action, decision.reason)


def enforce_quotas(
    profile: UserProfile,
    usage: Usage,
    *,
    instance_type: str | None = None,
    instance_count: int = 0,
    starts_job: bool = False,
) -> None:
    """Raise ResourceLimitExceeded if this work would pass the profile's quotas."""
    check_quotas(
        effective_quotas(effective_policies(profile)),
        usage,
        instance_type=instance_type,
        instance_count=instance_count,
        starts_job=starts_job,
    )
