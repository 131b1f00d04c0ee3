"""Signing in with an OpenID Connect provider: mozilla-django-oidc's authorization-code flow,
made to fit Studio (settings OIDC_* and STUDIO_OIDC_*, docs/configuration.md).

The library checks state, nonce (OIDC_USE_NONCE) and PKCE, and verifies the ID token's
signature against the provider's JWKS. On top of it: the token must name Studio's client as its
audience and the configured issuer; endpoints not given explicitly are read from the issuer's
discovery document when first needed (never when a backend is merely made, which Django does on
every request of a signed-in user); who the person is and what they may use is
`domains.identity`'s; and every way a sign-in can fail ends on a page that says why, never a
500. The views answer 404 while OIDC sign-in is off.
"""

import functools
import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from domains import identity

log = logging.getLogger(__name__)

# Each endpoint setting, the discovery document's key for it, and the variable that sets it.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": ("authorization_endpoint", "STUDIO_OIDC_AUTHORIZATION_URL"),
    "OIDC_OP_TOKEN_ENDPOINT": ("token_endpoint", "STUDIO_OIDC_TOKEN_URL"),
    "OIDC_OP_USER_ENDPOINT": ("userinfo_endpoint", "STUDIO_OIDC_USERINFO_URL"),
    "OIDC_OP_JWKS_ENDPOINT": ("jwks_uri", "STUDIO_OIDC_JWKS_URL"),
}


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read, or does not fit the settings."""


@functools.lru_cache(maxsize=8)
def _discovery(issuer: str) -> dict[str, Any]:
    """The provider's configuration (OpenID Connect Discovery 1.0), read once per process;
    a failure is not remembered, so the next sign-in tries again."""
    # The issuer exactly as configured is what the document and every ID token must name
    # (some providers' issuers end in "/").
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"could not read {url}: {error}") from error
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} is not a discovery document (a JSON object)")
    if document.get("issuer") != issuer:
        raise ProviderUnavailable(
            f"{url} names the issuer {document.get('issuer')!r}, "
            f"not STUDIO_OIDC_ISSUER ({issuer!r})"
        )
    return document


def endpoint(setting: str) -> str:
    """The provider endpoint `setting` names: as configured, else from discovery."""
    configured = getattr(settings, setting, "")
    if configured:
        return configured
    key, variable = ENDPOINTS[setting]
    value = _discovery(settings.STUDIO_OIDC_ISSUER).get(key)
    if not value:
        raise ProviderUnavailable(f"the provider's discovery document has no {key}; set {variable}")
    return value


class Backend(OIDCAuthenticationBackend):
    """The library's backend, reading its settings when a sign-in uses them, and handing the
    verified claims to `domains.identity.sign_in`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Not the library's __init__, which would read (here: discover) the endpoints.
        self.UserModel = get_user_model()

    # The library's attributes, read from the settings when a sign-in uses them. Keys always
    # come from the provider's JWKS.
    OIDC_RP_IDP_SIGN_KEY = None

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return settings.OIDC_RP_CLIENT_SECRET

    @property
    def OIDC_RP_SIGN_ALGO(self) -> str:
        return settings.OIDC_RP_SIGN_ALGO

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return endpoint("OIDC_OP_TOKEN_ENDPOINT")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return endpoint("OIDC_OP_USER_ENDPOINT")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return endpoint("OIDC_OP_JWKS_ENDPOINT")

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not settings.STUDIO_OIDC_ENABLED:
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id: int) -> Any:
        """Django's check, which the library's own skips: a deactivated account's sessions
        end at their next request."""
        return ModelBackend.get_user(self, user_id)

    def retrieve_matching_jwk(self, token: str) -> Any:
        """The library's lookup reads the provider's JWKS and the token's header as it expects
        them: a key or a header without `kid`, or a JWKS without `keys`, is a refusal here."""
        try:
            return super().retrieve_matching_jwk(token)
        except (KeyError, TypeError, AttributeError) as error:
            raise SuspiciousOperation(
                f"The provider's keys or the token's header lack {error}."
            ) from error

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library checks the signature (against the JWKS, in the configured algorithm
        only), the expiry and the nonce; a token must also be issued to Studio, by the
        configured issuer, about someone."""
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The token was issued to another client (aud).")
        issuer = settings.STUDIO_OIDC_ISSUER
        if not payload.get("iss") or (issuer and payload["iss"] != issuer):
            raise SuspiciousOperation(
                f"The token's issuer {payload.get('iss')!r} is not {issuer!r}."
            )
        if not payload.get("sub") or "exp" not in payload:
            raise SuspiciousOperation("The token has no subject (sub) or no expiry (exp).")
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> Any:
        """The person's user, by their provider identity (issuer and subject) and the
        admins' mappings; raises identity.NotAssigned for someone no mapping matches."""
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if str(userinfo.get("sub")) != str(payload["sub"]):
            raise SuspiciousOperation("The userinfo answer is about another subject (sub).")
        # Userinfo is the fresher of the two; both come from the provider.
        return identity.sign_in(payload["iss"], {**payload, **userinfo})


def refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "registration/oidc_refused.html", {"message": message}, status=status)


def _require_enabled() -> None:
    if not settings.STUDIO_OIDC_ENABLED:
        raise Http404("Single sign-on is not configured on this installation.")


def _unreachable(request: HttpRequest, error: Exception) -> HttpResponse:
    log.error("OIDC sign-in: %s", error)
    return refused(
        request,
        f"Studio could not reach {settings.STUDIO_OIDC_PROVIDER_NAME} to sign you in. "
        "Try again in a few minutes; if it goes on, tell your Studio administrator.",
        status=502,
    )


class Authenticate(OIDCAuthenticationRequestView):
    """Starts a sign-in: off to the provider with a fresh state, nonce and PKCE challenge.
    `next` is kept only if it is on this site (the library's `get_next_url`)."""

    def __init__(self, **kwargs: Any) -> None:
        # Not the library's __init__, which reads the endpoint before the view can answer.
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_enabled()
        try:
            self.OIDC_OP_AUTH_ENDPOINT = endpoint("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable as error:
            return _unreachable(request, error)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class Callback(OIDCAuthenticationCallbackView):
    """Where the provider sends the person back. The library checks the state against this
    session's (and forgets it, so a callback URL works once), trades the code for tokens and
    signs the user in; every refusal is a page here."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_enabled()
        try:
            return super().get(request)
        except identity.NotAssigned as refusal:
            log.info("OIDC sign-in refused: %s", refusal.message)
            return refused(request, refusal.message, status=403)
        except (SuspiciousOperation, jwt.InvalidTokenError, jwt.PyJWKError) as error:
            # A state this session never started or already used (a replayed callback URL), or
            # a token that failed a check (PyJWT's own errors: expired, not yet valid...).
            log.warning("OIDC sign-in refused: %s", error)
            return self.login_failure()
        except requests.HTTPError as error:
            # The token or userinfo endpoint said no (a code used twice, an expired code).
            log.warning("OIDC sign-in refused by the provider: %s", error)
            return self.login_failure()
        except (requests.RequestException, ProviderUnavailable) as error:
            return _unreachable(request, error)

    def login_failure(self) -> HttpResponse:
        return refused(
            self.request,
            f"Signing in with {settings.STUDIO_OIDC_PROVIDER_NAME} did not complete: the "
            "sign-in link was already used, has expired, or was not started in this browser. "
            "Start again from the sign-in page; if it keeps failing, ask your Studio "
            "administrator.",
            status=400,
        )


class LoginPage(auth_views.LoginView):
    """Django's sign-in page, with a button for the provider when OIDC sign-in is on."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        provider = settings.STUDIO_OIDC_PROVIDER_NAME if settings.STUDIO_OIDC_ENABLED else None
        return super().get_context_data(**kwargs, oidc_provider=provider)


urlpatterns = [
    path("authenticate/", Authenticate.as_view(), name="oidc_authentication_init"),
    path("callback/", Callback.as_view(), name="oidc_authentication_callback"),
]
