"""The one question every service function asks: may this user do this action here?

A superuser may do anything. Everyone else acts through their user profile in the resource's
domain: the profile must exist, be InService and not suspended; domain admins may do anything
in their domain; members are held to their policies (`domains.policy`), may manage only their own
resources, and may never perform the domain-management actions below.

An access key is not its user: a request it signs acts as the key's profile alone
(`acting_as`), so a superuser's key in a domain is held to that profile's suspension, status
and policies, and sees no other domain. The key of a shared space's app is narrower still: it
may do only what both its profile and the space's fixed scope allow (`domains.space_scope`).
"""

import copy

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from domains.models import Domain, Policy, StudioStatus, UserProfile
from domains.policy import Limit, Quotas, check_quotas, effective_quotas, evaluate
from domains.space_scope import SpaceScope
from metering.usage import Usage
from studio.core.errors import AccessDenied

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


def acting_as(profile: UserProfile, scope: SpaceScope | None = None) -> AbstractBaseUser:
    """The actor for a request signed with one of `profile`'s keys: its user, stripped of any
    installation-wide role and bound to `profile`, so that every service authorizes the
    profile (never the superuser or staff member behind it), and, for a shared space's key,
    held to that space's `scope` as well. Used for the call only; never saved."""
    actor = copy.copy(profile.user)
    actor.is_superuser = False
    actor.is_staff = False
    actor.acting_profile = profile
    actor.space_scope = scope
    return actor


def bound_profile(user: User) -> UserProfile | None:
    """The profile an actor made by `acting_as` is bound to; None for a signed-in user."""
    return getattr(user, "acting_profile", None)


def key_scope(user: User) -> SpaceScope | None:
    """The shared space an actor made by `acting_as` is confined to; None for any other."""
    return getattr(user, "space_scope", None)


def require_in_scope(user: User, action: str, *, space_id: int | None = None) -> None:
    """Raise AccessDenied if the actor is a shared space's key whose scope refuses `action`.
    `authorize` asks this too; services that must not reveal whether a named resource exists
    ask it first, before looking the resource up."""
    scope = key_scope(user)
    if scope is None:
        return
    why = scope.refusal(action, space_id)
    if why is not None:
        raise AccessDenied(scope.denial_message(action, why))


def visible_domains(user: User) -> QuerySet[Domain]:
    """Domains a user may know exist: all for superusers, else those they have a profile in
    (for a key, its profile's domain only)."""
    if not user.is_authenticated:
        return Domain.objects.none()
    bound = bound_profile(user)
    if bound is not None:
        return Domain.objects.filter(pk=bound.domain_id)
    if user.is_superuser:
        return Domain.objects.all()
    return Domain.objects.filter(profiles__user=user).distinct()


def administered_domains(user: User) -> QuerySet[Domain]:
    if not user.is_authenticated:
        return Domain.objects.none()
    if user.is_superuser:
        return Domain.objects.all()
    bound = bound_profile(user)
    domains = Domain.objects.filter(pk=bound.domain_id) if bound else Domain.objects.all()
    return domains.filter(
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
    space_id: int | None = None,
) -> UserProfile | None:
    """Raise AccessDenied unless `user` may perform `action` on a resource of `domain` owned
    by `owner` (in the space `space_id`, for a space's or an app's actions). Returns the acting
    profile (None for a superuser without one)."""
    if not user.is_authenticated or not user.is_active:
        raise AccessDenied(f"Sign in to perform {action}.")
    if domain is None:
        if user.is_superuser:
            return None
        raise AccessDenied(f"Only a superuser may perform {action}.")
    profile = UserProfile.objects.select_related("domain").filter(domain=domain, user=user).first()
    if user.is_superuser:
        return profile
    bound = bound_profile(user)
    if bound is not None and (profile is None or profile.pk != bound.pk):
        # The user's profile in another domain is not this key's to use.
        profile = None
    if profile is None:
        raise AccessDenied(f"You have no user profile in domain '{domain.name}' for {action}.")
    if profile.is_suspended:
        raise _denied(profile, action, "the profile is suspended; ask a domain admin to resume it")
    if profile.status != StudioStatus.IN_SERVICE:
        raise _denied(profile, action, f"the profile is {profile.status}, not InService")
    # Before the admin's shortcut: an admin's shared space is as narrow as anyone's.
    require_in_scope(user, action, space_id=space_id)
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


def may(
    user: User,
    action: str,
    *,
    domain: Domain | None = None,
    owner: UserProfile | None = None,
    space_id: int | None = None,
) -> bool:
    """Whether `authorize` lets `user` do `action` (same arguments): for a page deciding which
    buttons to offer. The service still decides when one is pressed."""
    try:
        authorize(user, action, domain=domain, owner=owner, space_id=space_id)
    except AccessDenied:
        return False
    return True


def profile_quotas(profile: UserProfile) -> Quotas:
    """The profile's quotas: its policies' tightest, and the installation's defaults for those
    no policy sets."""
    return effective_quotas(effective_policies(profile)).with_defaults(
        {
            "concurrent_jobs": (
                settings.STUDIO_DEFAULT_MAX_CONCURRENT_JOBS,
                "STUDIO_DEFAULT_MAX_CONCURRENT_JOBS",
            ),
            "concurrent_apps": (
                settings.STUDIO_DEFAULT_MAX_CONCURRENT_APPS,
                "STUDIO_DEFAULT_MAX_CONCURRENT_APPS",
            ),
            "max_runtime_in_seconds": (
                settings.STUDIO_DEFAULT_MAX_RUNTIME_SECONDS,
                "STUDIO_DEFAULT_MAX_RUNTIME_SECONDS",
            ),
        }
    )


def domain_quotas() -> Quotas:
    """What one domain may run at once, all its profiles together: the operator's settings,
    which a domain's admins cannot raise."""

    def limit(name: str) -> Limit | None:
        value = getattr(settings, name)
        return None if value is None else Limit(value, "", f"{name}, for the whole domain")

    return Quotas(
        concurrent_jobs=limit("STUDIO_DOMAIN_MAX_CONCURRENT_JOBS"),
        concurrent_apps=limit("STUDIO_DOMAIN_MAX_CONCURRENT_APPS"),
    )


def enforce_quotas(
    profile: UserProfile,
    usage: Usage,
    *,
    domain_usage: Usage | None = None,
    instance_type: str | None = None,
    instance_count: int = 0,
    starts_job: bool = False,
    starts_app: bool = False,
) -> None:
    """Raise ResourceLimitExceeded if this work would pass the profile's quotas (`usage`) or,
    when `domain_usage` is given (every start does), its domain's."""
    check_quotas(
        profile_quotas(profile),
        usage,
        instance_type=instance_type,
        instance_count=instance_count,
        starts_job=starts_job,
        starts_app=starts_app,
    )
    if domain_usage is not None:
        check_quotas(domain_quotas(), domain_usage, starts_job=starts_job, starts_app=starts_app)
