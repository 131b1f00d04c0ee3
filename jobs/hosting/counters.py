"""Invocation counters: what the router saw, per endpoint and variant, for the autoscaler (beat)
and the endpoint page's charts.

The router counts in memory (`tally`, on its event loop: no Redis call per request) and a
background task on that loop adds what it counted to Redis about once a second. Every web
process adds to the same keys, so the readers (plain sync functions) see the sum.

In Redis, under `<STUDIO_REDIS_PREFIX>:inv:<endpoint pk>:`, each variant has one hash per
minute (`<variant>:m<minute>`), whose fields are per second of that minute: `<s>n` invocations,
`<s>m` model errors (the container answered 4xx), `<s>x` failures (5xx, timeouts, broken
answers), and `<s>h<k>` a latency histogram (bucket k holds latencies up to
LATENCY_BASE_MS * LATENCY_FACTOR**k), which adds up across processes where percentiles would
not. Minute hashes expire after COUNTS_TTL_S; `last` (a hash: variant -> the time of its last
invocation) and `dropped` (captures dropped for a full queue) after IDLE_TTL_S.
"""

import asyncio
import logging
import math
import time
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio
from django.conf import settings

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
COUNTS_TTL_S = 3 * 3600  # charts look back an hour; the autoscaler a few minutes
IDLE_TTL_S = 30 * 24 * 3600  # long enough for any idle timeout of a scale-to-zero variant
LATENCY_BASE_MS = 0.05
LATENCY_FACTOR = 1.15  # percentiles read from the histogram are within 15 %
# A flush that fails (Redis away) is logged at most this often; its counts are dropped.
FAILURE_LOG_INTERVAL_S = 60.0

# Outcomes of one invocation.
OK = 0
MODEL_ERROR = 1  # the container answered 4xx
FAILURE = 2  # the container answered 5xx, timed out, or broke its answer off

_LOG_FACTOR = math.log(LATENCY_FACTOR)


def _bucket(ms: float) -> int:
    if ms <= LATENCY_BASE_MS:
        return 0
    return math.ceil(math.log(ms / LATENCY_BASE_MS) / _LOG_FACTOR)


def _bucket_ms(k: int) -> float:
    return LATENCY_BASE_MS * LATENCY_FACTOR**k


def _prefix(endpoint_pk: int) -> str:
    return f"{settings.STUDIO_REDIS_PREFIX}:inv:{endpoint_pk}:"


def _minute_key(endpoint_pk: int, variant: str, minute: int) -> str:
    return f"{_prefix(endpoint_pk)}{variant}:m{minute}"


class Tally:
    """This process's counts since the last flush, and the task that flushes them."""

    def __init__(self) -> None:
        # (endpoint pk, variant, second) -> [invocations, model errors, failures, {bucket: n}]
        self.counts: dict[tuple[int, str, int], list[Any]] = {}
        self.last: dict[tuple[int, str], float] = {}
        self.dropped: dict[int, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._last_failure_log = -FAILURE_LOG_INTERVAL_S

    def record(self, endpoint_pk: int, variant: str, latency_ms: float, outcome: int) -> None:
        """Count one invocation (call on the event loop)."""
        now = time.time()
        key = (endpoint_pk, variant, int(now))
        entry = self.counts.get(key)
        if entry is None:
            entry = self.counts[key] = [0, 0, 0, {}]
        entry[0] += 1
        if outcome:
            entry[outcome] += 1
        hist = entry[3]
        k = _bucket(latency_ms)
        hist[k] = hist.get(k, 0) + 1
        self.last[endpoint_pk, variant] = now
        self._ensure_flusher()

    def drop_capture(self, endpoint_pk: int) -> None:
        """Count a capture dropped because the capture queue was full."""
        self.dropped[endpoint_pk] = self.dropped.get(endpoint_pk, 0) + 1
        self._ensure_flusher()

    def _ensure_flusher(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # One flusher per event loop (a redis.asyncio client cannot cross loops).
            self._loop = loop
            self._task = loop.create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        client = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        try:
            while self._loop is asyncio.get_running_loop():
                await asyncio.sleep(FLUSH_INTERVAL_S)
                await self.flush(client)
        finally:
            await client.aclose()

    async def flush(self, client: redis.asyncio.Redis) -> None:
        """Add what was counted since the last flush to Redis (and forget it here)."""
        counts, self.counts = self.counts, {}
        last, self.last = self.last, {}
        dropped, self.dropped = self.dropped, {}
        if not (counts or last or dropped):
            return
        pipe = client.pipeline(transaction=False)
        for (endpoint_pk, variant, second), (n, model, failed, hist) in counts.items():
            key = _minute_key(endpoint_pk, variant, second // 60)
            s = second % 60
            pipe.hincrby(key, f"{s}n", n)
            if model:
                pipe.hincrby(key, f"{s}m", model)
            if failed:
                pipe.hincrby(key, f"{s}x", failed)
            for k, count in hist.items():
                pipe.hincrby(key, f"{s}h{k}", count)
            pipe.expire(key, COUNTS_TTL_S)
        for (endpoint_pk, variant), when in last.items():
            key = _prefix(endpoint_pk) + "last"
            pipe.hset(key, variant, repr(when))
            pipe.expire(key, IDLE_TTL_S)
        for endpoint_pk, n in dropped.items():
            key = _prefix(endpoint_pk) + "dropped"
            pipe.incrby(key, n)
            pipe.expire(key, IDLE_TTL_S)
        try:
            await pipe.execute()
        except (redis.RedisError, OSError) as error:
            now = time.monotonic()
            if now - self._last_failure_log >= FAILURE_LOG_INTERVAL_S:
                self._last_failure_log = now
                log.warning("invocation counters not written to Redis (dropped): %s", error)


tally = Tally()


# -- readers (sync: the autoscaler in beat, the dashboard's views) ----------------------------


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _seconds(
    client: redis.Redis, endpoint_pk: int, variants: list[str], start: int, end: int
) -> dict[int, dict[str, int]]:
    """Per second in [start, end): the fields of every variant named, added together."""
    keys = [
        _minute_key(endpoint_pk, variant, minute)
        for variant in variants
        for minute in range(start // 60, (end - 1) // 60 + 1)
    ]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    out: dict[int, dict[str, int]] = {}
    for key, fields in zip(keys, pipe.execute(), strict=True):
        base = int(key.rpartition(":m")[2]) * 60
        for raw, value in fields.items():
            field = raw.decode()
            digits = len(field) - len(field.lstrip("0123456789"))
            second = base + int(field[:digits])
            if start <= second < end:
                point = out.setdefault(second, {})
                name = field[digits:]
                point[name] = point.get(name, 0) + int(value)
    return out


def _variants(client: redis.Redis, endpoint_pk: int) -> list[str]:
    return sorted(v.decode() for v in client.hkeys(_prefix(endpoint_pk) + "last"))


def invocations_per_minute(endpoint_pk: int, variant: str, window_s: int = 60) -> float:
    """The variant's invocations per minute over the last `window_s` seconds (all processes),
    this second's so far included."""
    end = int(time.time()) + 1
    seconds = _seconds(_client(), endpoint_pk, [variant], end - window_s, end)
    total = sum(point.get("n", 0) for point in seconds.values())
    return total * 60.0 / window_s


def last_invoked_at(endpoint_pk: int, variant: str) -> datetime | None:
    """When the variant was last invoked, through any web process (None: not for a month,
    or never); counts reach Redis about a second after the invocation."""
    raw = _client().hget(_prefix(endpoint_pk) + "last", variant)
    return datetime.fromtimestamp(float(raw), UTC) if raw else None


def captures_dropped(endpoint_pk: int) -> int:
    """How many captures were dropped because the capture queue was full."""
    return int(_client().get(_prefix(endpoint_pk) + "dropped") or 0)


def _percentile(hist: dict[int, int], total: int, fraction: float) -> float | None:
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for k in sorted(hist):
        seen += hist[k]
        if seen >= rank:
            return round(_bucket_ms(k), 3)
    return round(_bucket_ms(max(hist)), 3)


def series(
    endpoint_pk: int, seconds: int = 300, step: int = 1, variant: str | None = None
) -> list[dict[str, Any]]:
    """The last `seconds` seconds in points of `step` seconds, oldest first, for charts:
    {"t": the point's start (epoch seconds), "rate": invocations per second, "p50_ms",
    "p99_ms" (None without invocations), "model_errors", "failures"}; all variants together
    unless `variant` is named."""
    client = _client()
    end = int(time.time()) + 1  # this second's invocations so far, too
    end += -end % step
    start = end - seconds
    variants = [variant] if variant else _variants(client, endpoint_pk)
    by_second = _seconds(client, endpoint_pk, variants, start, end) if variants else {}
    points = []
    for t in range(start, end, step):
        n = model = failed = 0
        hist: dict[int, int] = {}
        for second in range(t, t + step):
            for name, value in by_second.get(second, {}).items():
                if name == "n":
                    n += value
                elif name == "m":
                    model += value
                elif name == "x":
                    failed += value
                else:
                    k = int(name[1:])
                    hist[k] = hist.get(k, 0) + value
        timed = sum(hist.values())
        points.append(
            {
                "t": t,
                "rate": n / step,
                "p50_ms": _percentile(hist, timed, 0.5),
                "p99_ms": _percentile(hist, timed, 0.99),
                "model_errors": model,
                "failures": failed,
            }
        )
    return points
