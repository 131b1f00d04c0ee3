"""Who is asking, and where their request goes: the Django session behind a proxied request.

Every request and every websocket upgrade is checked here, in one trip to a database thread.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from functools import cache
from importlib import import_module

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user

from domains.models import OneTimePassword
from domains.notebooks.access import ProxyTarget, note_activity, proxy_target
from studio.web.proxy.handoff import COOKIE_NAME

log = logging.getLogger(__name__)

# How old an HTTP request's authorization may be. Deciding costs several queries (session,
# user, space, profiles, app: ~5-10 ms of ORM work), and JupyterLab loading fires dozens of
# requests at once; a logout, a removed member or a stopped app takes effect within this.
# Websocket upgrades are always decided afresh.
DECISION_TTL_S = 5.0
DECISION_CACHE_MAX = 10_000

# How often a space's activity is written: often enough for an idle timer counted in minutes,
# rarely enough that proxied traffic does not turn into database writes.
ACTIVITY_INTERVAL_S = 30.0


@dataclass(frozen=True)
class Decision:
    authenticated: bool
    target: ProxyTarget | None  # None: not found, not theirs, or not running (one answer)


@cache
def studio_cookies() -> frozenset[str]:
    """Studio's own cookies (and the space cookie, which carries a Studio session): they
    authenticate to Studio and never go to a space's server, which cannot set them either."""
    return frozenset({settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, COOKIE_NAME})


def session_key(cookie_headers: list[bytes]) -> str | None:
    """The session cookie's value, read as Django reads it (the last one wins)."""
    key = None
    for value in cookie_headers:
        for part in value.decode("latin-1").split(";"):
            name, _, val = part.strip().partition("=")
            if name == settings.SESSION_COOKIE_NAME and val:
                key = val
    return key


class _SessionRequest:
    """The part of an HttpRequest that `django.contrib.auth.get_user` reads."""

    def __init__(self, key: str | None):
        self.session = import_module(settings.SESSION_ENGINE).SessionStore(key)


def _decide(key: str | None, domain_id: str, space_name: str) -> Decision:
    if key is None:
        return Decision(authenticated=False, target=None)
    user = get_user(_SessionRequest(key))
    # A password someone else chose opens nothing until its owner replaces it: sent to Studio
    # as if signed out, they meet the page that asks for a new one.
    if not user.is_authenticated or OneTimePassword.objects.filter(user=user).exists():
        return Decision(authenticated=False, target=None)
    return Decision(authenticated=True, target=proxy_target(user, domain_id, space_name))


decide = database_sync_to_async(_decide)


class DecisionCache:
    """Recent positive decisions: (session key, domain id, space name) -> target. Refusals
    are never cached, so a user who just logged in or was just added is let in at once."""

    def __init__(self, ttl: float = DECISION_TTL_S, max_entries: int = DECISION_CACHE_MAX):
        self.ttl = ttl
        self.max_entries = max_entries
        self.entries: dict[tuple[str, str, str], tuple[float, ProxyTarget]] = {}

    def get(self, key: tuple[str, str, str]) -> ProxyTarget | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if time.monotonic() >= entry[0]:
            del self.entries[key]
            return None
        return entry[1]

    def put(self, key: tuple[str, str, str], target: ProxyTarget) -> None:
        now = time.monotonic()
        if len(self.entries) >= self.max_entries:
            self.entries = {k: e for k, e in self.entries.items() if e[0] > now}
            if len(self.entries) >= self.max_entries:
                self.entries.clear()
        self.entries[key] = (now + self.ttl, target)

    def drop(self, key: tuple[str, str, str]) -> None:
        self.entries.pop(key, None)


class ActivityRecorder:
    """Notes a space's use at most once every ACTIVITY_INTERVAL_S in this process, in the
    background: a request never waits for the write."""

    def __init__(self, interval: float = ACTIVITY_INTERVAL_S):
        self.interval = interval
        self.last: dict[tuple[str, str], float] = {}
        self.pending: set[asyncio.Task] = set()

    def touch(self, domain_id: str, space_name: str) -> None:
        now = time.monotonic()
        key = (domain_id, space_name)
        if now - self.last.get(key, -self.interval) < self.interval:
            return
        self.last[key] = now
        task = asyncio.create_task(self._write(domain_id, space_name))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _write(self, domain_id: str, space_name: str) -> None:
        try:
            await database_sync_to_async(note_activity)(domain_id, space_name)
        except Exception:
            # Losing one activity mark is harmless; failing the user's request is not.
            log.exception("could not record activity for %s/%s", domain_id, space_name)
