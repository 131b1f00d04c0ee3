"""The routing table, as this process knows it: each endpoint's route (jobs/hosting/routing.py)
kept for STUDIO_ROUTE_TTL_S, read again by one request while the others wait for that read;
and the choice of a variant (by weight) and of an instance (fewest requests in flight here).
"""

import asyncio
import itertools
import random
import time

from channels.db import database_sync_to_async
from django.conf import settings

from jobs.hosting.routing import Route, Target, Variant, route

RouteKey = tuple[int, str]  # (domain pk, endpoint name)

_load = database_sync_to_async(route)


class RouteCache:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self.entries: dict[RouteKey, tuple[float, Route | None]] = {}
        self.loading: dict[RouteKey, asyncio.Future] = {}

    async def get(self, key: RouteKey, max_age: float | None = None) -> Route | None:
        """The route of `key` read at most `max_age` seconds ago (default: the TTL)."""
        entry = self.entries.get(key)
        if entry is not None and time.monotonic() - entry[0] < (
            self.ttl if max_age is None else max_age
        ):
            return entry[1]
        return await self._read(key)

    async def _read(self, key: RouteKey) -> Route | None:
        pending = self.loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self.loading[key] = future
        try:
            fetched_at = time.monotonic()
            value = await _load(*key)
            if len(self.entries) > 10_000:
                self.entries.clear()
            self.entries[key] = (fetched_at, value)
            future.set_result(value)
            return value
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self.loading[key]


routes = RouteCache(settings.STUDIO_ROUTE_TTL_S)

# Requests in flight from this process, per instance pk and per (endpoint pk, variant name).
in_flight: dict[int, int] = {}
variant_in_flight: dict[tuple[int, str], int] = {}


def enter(counts: dict, key: object) -> None:
    counts[key] = counts.get(key, 0) + 1


def leave(counts: dict, key: object) -> None:
    """One request fewer; keys of nothing in flight are dropped (instances come and go)."""
    left = counts[key] - 1
    if left:
        counts[key] = left
    else:
        del counts[key]


# Breaks ties between instances as evenly busy (all idle, at concurrency 1) in turn.
_turn = itertools.count()


def by_weight(variants: tuple[Variant, ...]) -> Variant | None:
    """A variant drawn with probability weight ÷ sum of weights; None if all weigh 0."""
    total = sum(v.weight for v in variants)
    if total <= 0:
        return None
    point = random.random() * total
    for variant in variants:
        point -= variant.weight
        if point < 0 and variant.weight > 0:
            return variant
    return next(v for v in reversed(variants) if v.weight > 0)


def least_busy(targets: tuple[Target, ...], tried: set[int]) -> Target | None:
    """The instance with the fewest requests in flight, among those not yet `tried`."""
    n = len(targets)
    if n == 1:
        only = targets[0]
        return None if only.pk in tried else only
    start = next(_turn) % n if n else 0
    best = None
    best_load = 0
    for i in range(n):
        target = targets[(start + i) % n]
        if target.pk in tried:
            continue
        load = in_flight.get(target.pk, 0)
        if best is None or load < best_load:
            best, best_load = target, load
    return best
