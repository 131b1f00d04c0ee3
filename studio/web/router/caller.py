"""Who is invoking, and whether they may: a SigV4 signature (boto3, the SDK, a notebook's
kernel) or a Studio session (the dashboard's "try it"), then `sagemaker:InvokeEndpoint` in the
domain whose endpoints the caller may reach.

Looking a key or a session up and authorizing it costs a few queries, so each answer is kept
for STUDIO_INVOKE_AUTH_TTL_S per process (a disabled key, a logout or a changed policy takes
effect within that); the signature itself is checked on every request, with the cached secret.
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.middleware.csrf import (
    CSRF_SECRET_LENGTH,
    InvalidTokenFormat,
    _check_token_format,
    _does_token_match,
)
from django.utils import timezone

from domains.models import AccessKey, AccessKeyStatus, Domain, OneTimePassword
from domains.permissions import authorize
from studio.core.crypto import decrypt
from studio.core.errors import (
    AccessDenied,
    InvalidSignature,
    MissingAuthenticationToken,
    StudioError,
    UnrecognizedClient,
)
from studio.web.api.auth import LAST_USED_RESOLUTION, SERVICE, Caller
from studio.web.api.sigv4 import SignedRequest, parse_authorization, verify
from studio.web.proxy.access import _SessionRequest, session_key
from studio.web.proxy.headers import same_origin
from studio.web.proxy.origins import host_header, studio_host
from studio.web.router.errors import AccessDeniedError, ValidationError

ACTION = "sagemaker:InvokeEndpoint"
CACHE_MAX = 10_000
SIGN_IN = (
    "Missing Authentication Token: sign the request with an access key (SigV4), as boto3 does."
)
CROSS_SITE = (
    "Cross-site invocation refused: a request made with a Studio session must come from "
    "Studio's own pages (same Origin) or carry Django's CSRF token in X-CSRFToken."
)


@dataclass(frozen=True)
class Grant:
    """The endpoints a caller may invoke: those of one domain."""

    domain_pk: int
    account_id: str


@dataclass(frozen=True)
class Entry:
    """What is remembered of a key or a session: its secret (keys only), and the grant or the
    refusal. `grant` and `refusal` both None: not a caller at all (unknown key, no session)."""

    secret: str | None
    grant: Grant | None
    refusal: StudioError | None


class TTLCache:
    """Answers kept for `ttl` seconds; bounded, emptied of the expired when full."""

    def __init__(self, ttl: float, max_entries: int = CACHE_MAX):
        self.ttl = ttl
        self.max_entries = max_entries
        self.entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if time.monotonic() >= entry[0]:
            del self.entries[key]
            return None
        return entry[1]

    def put(self, key: Any, value: Any) -> None:
        now = time.monotonic()
        if len(self.entries) >= self.max_entries:
            self.entries = {k: e for k, e in self.entries.items() if e[0] > now}
            if len(self.entries) >= self.max_entries:
                self.entries.clear()
        self.entries[key] = (now + self.ttl, value)

    def clear(self) -> None:
        self.entries.clear()


keys = TTLCache(settings.STUDIO_INVOKE_AUTH_TTL_S)
sessions = TTLCache(settings.STUDIO_INVOKE_AUTH_TTL_S)
# When each key's last use was last written (keys.last_used_at is for people, per minute).
_noted: dict[str, float] = {}
_pending: set[asyncio.Task] = set()


async def grant_for(scope: dict, headers: dict[bytes, bytes], body: bytes) -> Grant:
    """The caller's grant; raises the error to answer (403 unauthenticated or refused, 400 for
    a malformed signature)."""
    if b"authorization" in headers:
        return await _signed(scope, body)
    return await _session(scope, headers)


# -- SigV4 -------------------------------------------------------------------------------------


async def _signed(scope: dict, body: bytes) -> Grant:
    raw_path = scope.get("raw_path") or scope["path"].encode()
    signed = SignedRequest(
        method=scope["method"],
        path=raw_path.decode("latin-1"),
        query=scope.get("query_string", b"").decode("latin-1"),
        headers={n.decode("latin-1"): v.decode("latin-1") for n, v in scope["headers"]},
        body=body,
    )
    credential = parse_authorization(signed)
    key_id = credential.access_key_id
    entry = keys.get(key_id)
    if entry is None:
        entry = await _key_entry(key_id)
        keys.put(key_id, entry)
    if entry.secret is None:
        raise UnrecognizedClient("The security token included in the request is invalid.")
    if credential.service != SERVICE:
        raise InvalidSignature(
            f"Credential should be scoped to service {SERVICE}, not {credential.service}."
        )
    if credential.region != settings.STUDIO_REGION:
        raise InvalidSignature(
            f"Credential should be scoped to region {settings.STUDIO_REGION}, not "
            f"{credential.region}; set AWS_DEFAULT_REGION={settings.STUDIO_REGION}."
        )
    verify(signed, credential, entry.secret, now=datetime.now(UTC))
    _note_use(key_id)
    if entry.refusal is not None:
        raise entry.refusal
    return entry.grant


@database_sync_to_async
def _key_entry(key_id: str) -> Entry:
    key = (
        AccessKey.objects.select_related("profile__domain", "profile__user", "app__space__domain")
        .filter(access_key_id=key_id)
        .first()
    )
    if key is None or key.status != AccessKeyStatus.ACTIVE:
        return Entry(None, None, None)
    domain = key.profile.domain
    return Entry(
        decrypt(key.secret_ciphertext),
        Grant(domain.pk, domain.account_id),
        _refusal(Caller(key).user, domain),
    )


def _refusal(user: Any, domain: Domain) -> StudioError | None:
    try:
        authorize(user, ACTION, domain=domain)
    except AccessDenied as denied:
        return AccessDeniedError(denied.message)
    return None


def _note_use(key_id: str) -> None:
    """Record the key's use, at most once a minute per process, off the request path."""
    now = time.monotonic()
    if now - _noted.get(key_id, -1e9) < LAST_USED_RESOLUTION.total_seconds():
        return
    _noted[key_id] = now
    if len(_noted) > CACHE_MAX:
        _noted.clear()
    task = asyncio.get_running_loop().create_task(_write_last_used(key_id))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


@database_sync_to_async
def _write_last_used(key_id: str) -> None:
    AccessKey.objects.filter(access_key_id=key_id).update(last_used_at=timezone.now())


# -- a Studio session --------------------------------------------------------------------------


async def _session(scope: dict, headers: dict[bytes, bytes]) -> Grant:
    cookies = [v for n, v in scope["headers"] if n == b"cookie"]
    key = session_key(cookies)
    if key is None:
        raise MissingAuthenticationToken(SIGN_IN)
    if not _same_site(scope, headers, cookies):
        raise AccessDeniedError(CROSS_SITE)
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    domain_id = query.get("domain", [""])[-1]
    entry = sessions.get((key, domain_id))
    if entry is None:
        entry = await _session_entry(key, domain_id)
        sessions.put((key, domain_id), entry)
    if entry.refusal is not None:
        raise entry.refusal
    if entry.grant is None:
        raise MissingAuthenticationToken(SIGN_IN)
    return entry.grant


def _same_site(scope: dict, headers: dict[bytes, bytes], cookies: list[bytes]) -> bool:
    """Whether a session's request comes from Studio's pages: an Origin of Studio's own (as
    Django's CSRF check accepts it), or Django's CSRF token matching the CSRF cookie; and to
    a host Studio answers on (ALLOWED_HOSTS, which Django would check), never a rebound one."""
    if not studio_host(host_header(scope["headers"])):
        return False
    if b"origin" in headers:
        return same_origin(scope["headers"], settings.CSRF_TRUSTED_ORIGINS)
    token = headers.get(b"x-csrftoken", b"").decode("latin-1")
    secret = _cookie(cookies, settings.CSRF_COOKIE_NAME)
    if not token or secret is None or len(secret) != CSRF_SECRET_LENGTH:
        return False
    try:
        _check_token_format(token)
        _check_token_format(secret)
    except InvalidTokenFormat:
        return False
    return _does_token_match(token, secret)


def _cookie(cookie_headers: list[bytes], name: str) -> str | None:
    value = None
    for header in cookie_headers:
        for part in header.decode("latin-1").split(";"):
            key, _, val = part.strip().partition("=")
            if key == name and val:
                value = val
    return value


@database_sync_to_async
def _session_entry(key: str, domain_id: str) -> Entry:
    user = get_user(_SessionRequest(key))
    # As the notebook proxy: a password someone else chose opens nothing until replaced.
    if not user.is_authenticated or OneTimePassword.objects.filter(user=user).exists():
        return Entry(None, None, None)
    if domain_id:
        domain = Domain.objects.filter(domain_id=domain_id).first()
        if domain is None:
            refused = f"You have no user profile in domain '{domain_id}' for {ACTION}."
            return Entry(None, None, AccessDeniedError(refused))
    else:
        domains = list(Domain.objects.filter(profiles__user=user).distinct()[:11])
        if len(domains) != 1:
            listed = ", ".join(d.domain_id for d in domains[:10])
            why = (
                f"You have user profiles in several domains ({listed})"
                if domains
                else "You have no user profile in any domain"
            )
            return Entry(
                None,
                None,
                ValidationError(f"{why}: name the endpoint's domain with ?domain=<domain id>."),
            )
        domain = domains[0]
    return Entry(None, Grant(domain.pk, domain.account_id), _refusal(user, domain))
