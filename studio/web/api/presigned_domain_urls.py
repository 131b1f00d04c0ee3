"""CreatePresignedDomainUrl: a short-lived, single-use link that signs a user profile's user in
to Studio and opens the dashboard, or a space's JupyterLab (studio/web/presigned_login.py
follows it).

Who may make one: the profile itself, or an admin of its domain (`authorize` with the profile
as the resource's owner), with `sagemaker:CreatePresignedDomainUrl` allowed. A link signs in
a whole Django user, and an access key acts as one profile only, so a link is refused for a
user who would get more than that profile: a superuser or staff member, or a user with a
profile in another domain. Otherwise a key (a notebook's, say) could turn itself into its
user's full session, or an admin of one domain into a member's session in another.
"""

import re
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from domains.models import Domain, Space, StudioStatus, UserProfile
from domains.notebooks.access import may_use, proxy_prefix
from domains.permissions import User, authorize
from domains.services.lookup import get_domain, get_profile
from studio.core.errors import AccessDenied, ResourceNotFound, ValidationException
from studio.web import presigned_login
from studio.web.api.auth import Caller
from studio.web.api.registry import operation

ACTION = "sagemaker:CreatePresignedDomainUrl"
DEFAULT_EXPIRES_IN = 300
DEFAULT_SESSION_SECONDS = 43_200
# Where the links point when STUDIO_PUBLIC_URL is not set: `studio serve`'s default address.
# SageMaker's app types a LandingUri may name; Studio runs JupyterLab only.
APP_LANDING = re.compile(r"app:(?P<type>[A-Za-z]+):(?P<path>.*)", re.DOTALL)
KNOWN_APP_TYPES = {"JupyterServer", "JupyterLab", "RStudioServerPro", "CodeEditor", "Canvas"}


def _relative(path: str, field: str) -> str:
    """`path` as a path on Studio's own host: no scheme, no other host, no control characters."""
    url = "/" + path.lstrip("/")
    if (
        any(ord(c) < 32 or c == "\\" for c in url)
        or url.startswith("//")
        or not url_has_allowed_host_and_scheme(url, allowed_hosts=set())
    ):
        raise ValidationException(f"{field} must name a relative path within Studio.", field)
    return url


def _space(profile: UserProfile, name: str) -> Space:
    """The space `profile`'s user may open; any other is "not found", as a missing one."""
    space = Space.objects.select_related("domain").filter(domain=profile.domain, name=name).first()
    if space is None or not may_use(profile.user, space):
        raise ResourceNotFound(f"Space {name} does not exist in domain {profile.domain.domain_id}.")
    return space


def _grant(
    profile: UserProfile, space: Space | None, landing_uri: str, session_seconds: int
) -> presigned_login.Grant:
    """Where the link lands, from LandingUri (SageMaker's forms) and SpaceName."""
    app = APP_LANDING.fullmatch(landing_uri)
    if app is not None:
        if app["type"] not in KNOWN_APP_TYPES:
            raise ValidationException(
                f"LandingUri names an unknown app type {app['type']!r}; use "
                "app:JupyterLab:<relative path> or studio::<relative path>.",
                "LandingUri",
            )
        if app["type"] != "JupyterLab":
            raise ValidationException(
                f"LandingUri: Studio runs JupyterLab apps only, not {app['type']}.", "LandingUri"
            )
        if space is None:
            raise ValidationException(
                "SpaceName is required when LandingUri opens a JupyterLab app.", "SpaceName"
            )
    elif landing_uri.startswith("studio::"):
        path = _relative(landing_uri.removeprefix("studio::"), "LandingUri")
        return presigned_login.Grant(profile.pk, session_seconds, path)
    elif landing_uri:
        raise ValidationException(
            "LandingUri must be studio::<relative path> or app:JupyterLab:<relative path>.",
            "LandingUri",
        )
    if space is None:
        return presigned_login.Grant(profile.pk, session_seconds, reverse("dashboard:home"))
    inside = app["path"].lstrip("/") if app is not None else ""
    prefix = proxy_prefix(profile.domain.domain_id, space.name)
    return presigned_login.Grant(
        profile.pk,
        session_seconds,
        _relative(prefix + (inside or "lab"), "LandingUri"),
        space_id=space.pk,
        fallback=reverse("dashboard:space", args=[space.name]),
    )


def _refuse_wider_session(profile: UserProfile) -> None:
    """A link signs in the whole user: refuse one whose session would reach beyond `profile`."""
    user = profile.user
    if user.is_superuser or user.is_staff:
        raise AccessDenied(
            f"User profile {profile.name} belongs to a Studio administrator account, which a "
            "presigned URL may not sign in; sign in with its password instead."
        )
    if UserProfile.objects.filter(user=user).exclude(pk=profile.pk).exists():
        raise AccessDenied(
            f"The user of profile {profile.name} also has a profile in another domain, and a "
            "presigned URL would sign in to all of them; sign in with a password instead."
        )
    if not user.is_active:
        raise AccessDenied(f"The user of profile {profile.name} is deactivated.")


def _check_bounds(value: int, low: int, high: int, field: str) -> None:
    # botocore checks the bounds too, but only when the caller lets it validate.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationException(f"{field} must be an integer from {low} to {high}.", field)


def create_presigned_domain_url(
    actor: User,
    domain_id: str,
    profile_name: str,
    *,
    space_name: str | None = None,
    expires_in: int = DEFAULT_EXPIRES_IN,
    session_seconds: int = DEFAULT_SESSION_SECONDS,
    landing_uri: str = "",
) -> str:
    """Make a link that signs in as `profile_name` once, within `expires_in` seconds, for a
    session of `session_seconds`; the link's path (on Studio's host)."""
    _check_bounds(expires_in, 5, 300, "ExpiresInSeconds")
    _check_bounds(session_seconds, 1800, 43_200, "SessionExpirationDurationInSeconds")
    domain: Domain = get_domain(actor, domain_id)
    profile = get_profile(domain, profile_name)
    authorize(actor, ACTION, domain=domain, owner=profile)
    if domain.status != StudioStatus.IN_SERVICE:
        raise ValidationException(f"Domain {domain_id} is {domain.status}, not InService.")
    if profile.is_suspended or profile.status != StudioStatus.IN_SERVICE:
        raise ValidationException(
            f"User profile {profile_name} is "
            f"{'suspended' if profile.is_suspended else profile.status}, not InService.",
            "UserProfileName",
        )
    _refuse_wider_session(profile)
    space = _space(profile, space_name) if space_name else None
    grant = _grant(profile, space, landing_uri, session_seconds)
    token = presigned_login.issue(grant, expires_in)
    return reverse("presigned_login", args=[token])


def public_url() -> str:
    """Studio's address as browsers reach it (STUDIO_PUBLIC_URL): an API call may come from
    inside a notebook, whose own address for Studio (the forwarder's) no browser can reach."""
    return settings.STUDIO_PUBLIC_URL


@operation("CreatePresignedDomainUrl")
def create_presigned_domain_url_api(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    for member, value in params.items():
        if value is None:
            raise ValidationException(f"{member} must not be null.", member)
    path = create_presigned_domain_url(
        caller.user,
        params["DomainId"],
        params["UserProfileName"],
        space_name=params.get("SpaceName"),
        expires_in=params.get("ExpiresInSeconds", DEFAULT_EXPIRES_IN),
        session_seconds=params.get("SessionExpirationDurationInSeconds", DEFAULT_SESSION_SECONDS),
        landing_uri=params.get("LandingUri", ""),
    )
    return {"AuthorizedUrl": public_url() + path}
