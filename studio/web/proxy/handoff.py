"""How a browser gets from Studio's origin to a space's without Studio's session going along.

Studio's session cookie is host-only: it never reaches a space's host. Studio (its host, under
`/jupyter/<domain id>/<space>/...`) checks the session and mints a **ticket**; the space's host
redeems it once at `/_studio/enter` and sets its own **space cookie**. Both are sealed with
Fernet (authenticated encryption) under a key derived from the encryption key for this purpose
only, because they carry the Studio session's key: every request on the space host is decided
from that session, exactly as on Studio's host, so logging out, a changed password, a
suspension or a removal from the space ends access as it does in Studio.

- ticket: the session, the space, Studio's origin, where to go in the space, a nonce; good
  for TICKET_TTL_S and once (the nonce is claimed in Redis with SET NX).
- space cookie: the session, the space, Studio's origin; host-only, HttpOnly, never sent to the
  space's server; refused on any other space's paths.
"""

import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.conf import settings

from studio.core import crypto
from studio.core.health import redis_client
from studio.web.proxy.origins import host_name

ENTER_PATH = "/_studio/enter"
COOKIE_NAME = "studio_space"
TICKET_TTL_S = 60
PURPOSE = b"studio space handoff"  # the derived key tickets and space cookies are sealed with
# A claimed nonce is kept past the ticket's own life, so it can never be claimed twice.
NONCE_KEEP_S = 2 * TICKET_TTL_S
TICKET = "ticket"
SPACE_COOKIE = "space"


@dataclass(frozen=True)
class Pass:
    """What a ticket or a space cookie says: whose Studio session, for which space."""

    session: str
    domain_id: str
    space_name: str
    studio_origin: str  # where to send the browser back to when the pass no longer holds
    next: str = ""  # tickets only: the path (and query) to open in the space
    nonce: str = ""  # tickets only


def _seal(purpose: str, granted: Pass) -> str:
    body = {"p": purpose, **granted.__dict__}
    return crypto.fernet(PURPOSE).encrypt(json.dumps(body).encode()).decode()


def _open(purpose: str, sealed: str, ttl: int) -> Pass | None:
    """The pass in `sealed` if it was sealed for `purpose` within `ttl` seconds, else None
    (forged, altered, expired, or a ticket offered as a cookie and the reverse)."""
    try:
        body = json.loads(crypto.fernet(PURPOSE).decrypt(sealed.encode(), ttl=ttl))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(body, dict) or body.pop("p", None) != purpose:
        return None
    try:
        return Pass(**body)
    except TypeError:
        return None


def mint_ticket(session: str, domain_id: str, space_name: str, origin: str, next: str) -> str:
    return _seal(
        TICKET, Pass(session, domain_id, space_name, origin, next, secrets.token_urlsafe(16))
    )


def redeem_ticket(sealed: str) -> Pass | None:
    """The ticket's pass the first time it is offered within TICKET_TTL_S; None after that, or
    for anything that is not a ticket Studio minted."""
    granted = _open(TICKET, sealed, TICKET_TTL_S)
    if granted is None or not granted.nonce:
        return None
    key = f"{settings.STUDIO_REDIS_PREFIX}:proxy:ticket:{granted.nonce}"
    if not redis_client().set(key, "1", nx=True, ex=NONCE_KEEP_S):
        return None
    return granted


def space_cookie(granted: Pass) -> str:
    kept = Pass(granted.session, granted.domain_id, granted.space_name, granted.studio_origin)
    return _seal(SPACE_COOKIE, kept)


def read_space_cookie(value: str) -> Pass | None:
    return _open(SPACE_COOKIE, value, settings.SESSION_COOKIE_AGE)


def set_cookie_header(value: str, scheme: str, host: str) -> bytes:
    """The space cookie's Set-Cookie. JupyterLab opens in a tab of its own (top level), where
    any of these is sent. Partitioned (CHIPS, which needs Secure: browsers accept it on https
    and on http://*.localhost) keys it to the top-level site besides: it never rides along
    when another site frames the space. On plain http elsewhere it is SameSite=Lax."""
    name = host_name(host)
    local = name == "localhost" or name.endswith(".localhost")
    partitioned = scheme == "https" or local
    attributes = "SameSite=None; Secure; Partitioned" if partitioned else "SameSite=Lax"
    return f"{COOKIE_NAME}={value}; Path=/; HttpOnly; {attributes}".encode()


def cookie_value(cookie_headers: list[bytes]) -> str | None:
    """The space cookie as the browser sent it (the last one wins, as Django reads cookies)."""
    found = None
    for header in cookie_headers:
        for part in header.decode("latin-1").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE_NAME and value:
                found = value
    return found
