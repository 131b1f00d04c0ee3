"""The links CreatePresignedDomainUrl hands out: following one signs its profile's user in to
Studio and opens the dashboard, or a space's JupyterLab (studio/web/api/presigned_domain_urls.py
issues them).

A link is good once and for `ExpiresInSeconds` (5 to 300). Its token is random (256 bits) and
only its SHA-256 is kept, in Redis, for the link's life: GETDEL claims it, so two requests
racing with one link cannot both sign in. A claimed token leaves a mark for a day, so a second
use is told "already used" rather than "expired". Whatever the refusal, the answer is a page
that signs nobody in.

What the link opens is checked again when it is followed, not only when it was made: a profile
suspended, deleted or moved out of service in between gets no session.
"""

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from domains.models import App, AppStatus, StudioStatus, UserProfile
from studio.core.health import redis_client
from studio.web.dashboard.current import SESSION_KEY
from studio.web.errors import ErrorPage, error_response

USED_MARK_S = 86_400
BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(frozen=True)
class Grant:
    """What a link signs in as and opens, as the API decided when it made the link."""

    profile_id: int
    session_seconds: int
    landing: str  # a path on Studio's own host
    # For a space's JupyterLab: the space, and the dashboard's page of it to open instead
    # when its app is not running when the link is followed.
    space_id: int | None = None
    fallback: str = ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(kind: str, token: str) -> str:
    return f"{settings.STUDIO_REDIS_PREFIX}:presigned:{kind}:{_digest(token)}"


def issue(grant: Grant, expires_in: int) -> str:
    """Keep `grant` for `expires_in` seconds under a new token; the token."""
    token = secrets.token_urlsafe(32)
    redis_client().set(_key("grant", token), json.dumps(asdict(grant)), ex=expires_in)
    return token


def claim(token: str) -> tuple[Grant | None, bool]:
    """The grant `token` names, taken so it can never be taken again; (None, used) when there
    is none, `used` saying whether it had been claimed before (else expired or never issued)."""
    client = redis_client()
    raw = client.getdel(_key("grant", token))
    if raw is None:
        return None, client.exists(_key("used", token)) > 0
    client.set(_key("used", token), "1", ex=USED_MARK_S)
    return Grant(**json.loads(raw)), False


USED = ErrorPage(
    403,
    "This sign-in link was already used",
    "A presigned link signs in once; this one has been followed before, so it signs nobody in.",
    "Ask for a new link, or sign in with your account.",
    action=("Sign in", "login"),
)
EXPIRED = ErrorPage(
    403,
    "This sign-in link has expired",
    "The link is past its expiry (a few minutes after it was made) or is not a link Studio "
    "made, so it signs nobody in.",
    "Ask for a new link, or sign in with your account.",
    action=("Sign in", "login"),
)
UNUSABLE = ErrorPage(
    403,
    "This sign-in link cannot be used",
    "The user profile it signs in as is suspended, deleted or not in service, or its user "
    "can no longer be signed in by a link.",
    "Ask your Studio administrator.",
    action=("Sign in", "login"),
)


def _signable(grant: Grant) -> UserProfile | None:
    """The grant's profile if it may still be signed in as: in service, not suspended, in a
    domain in service, its user active and holding no more than this profile."""
    profile = (
        UserProfile.objects.select_related("domain", "user")
        .filter(
            pk=grant.profile_id,
            status=StudioStatus.IN_SERVICE,
            suspended_at__isnull=True,
            domain__status=StudioStatus.IN_SERVICE,
        )
        .first()
    )
    if profile is None:
        return None
    user = profile.user
    if not user.is_active or user.is_superuser or user.is_staff:
        return None
    if UserProfile.objects.filter(user=user).exclude(pk=profile.pk).exists():
        return None
    return profile


def _landing(grant: Grant) -> str:
    if grant.space_id is None:
        return grant.landing
    running = App.objects.filter(
        space_id=grant.space_id, app_type="JupyterLab", status=AppStatus.IN_SERVICE
    ).exists()
    return grant.landing if running else grant.fallback


@never_cache
@require_GET
def enter(request: HttpRequest, token: str) -> HttpResponse:
    grant, used = claim(token)
    if grant is None:
        return error_response(request, USED if used else EXPIRED)
    profile = _signable(grant)
    if profile is None:
        return error_response(request, UNUSABLE)
    target = _landing(grant)
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=set()):
        target = "/"
    # login() starts a new session (a different user's is flushed, not reused).
    login(request, get_user_model().objects.get(pk=profile.user_id), backend=BACKEND)
    request.session.set_expiry(grant.session_seconds)
    request.session[SESSION_KEY] = profile.pk
    return HttpResponseRedirect(target)


# Included by studio/web/urls.py under "presigned/".
urlpatterns = [path("<str:token>/", enter, name="presigned_login")]
