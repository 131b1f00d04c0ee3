"""Liveness of the parts of the platform, for `GET /healthz` and the dashboard.

Workers announce themselves with a heartbeat key in Redis (set from a thread started when the
worker is ready), so a health check costs one Redis round trip instead of a broadcast ping. Each
also keeps the tasks it is running in a hash beside it, so that a user waiting for a start can be
told what the workers are busy with (studio/core/queue.py) without a broadcast either.
"""

import logging
import socket
import threading
import time

import redis
from celery.signals import task_postrun, task_prerun, worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection

from studio.core.runtime import runtime_name

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
HEARTBEAT_TTL = 3 * HEARTBEAT_SECONDS
_stop = threading.Event()


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _heartbeat_key(hostname: str) -> str:
    return f"{settings.STUDIO_REDIS_PREFIX}:health:worker:{hostname}"


def _running_key(hostname: str) -> str:
    return f"{settings.STUDIO_REDIS_PREFIX}:health:running:{hostname}"


def _beat(hostname: str) -> None:
    client = redis_client()
    while not _stop.is_set():
        try:
            client.set(_heartbeat_key(hostname), str(time.time()), ex=HEARTBEAT_TTL)
            # A killed worker's running tasks vanish with its heartbeat.
            client.expire(_running_key(hostname), HEARTBEAT_TTL)
        except redis.RedisError:
            log.warning("worker heartbeat could not reach Redis")
        _stop.wait(HEARTBEAT_SECONDS)
    # A worker that stops cleanly says so at once: a start waiting for it is told there is no
    # worker now rather than after the heartbeat expires.
    try:
        client.delete(_heartbeat_key(hostname), _running_key(hostname))
    except redis.RedisError:
        log.warning("worker heartbeat could not reach Redis to sign off")


_beating: list[threading.Thread] = []


@worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs) -> None:
    hostname = getattr(sender, "hostname", None) or socket.gethostname()
    _stop.clear()
    thread = threading.Thread(target=_beat, args=(hostname,), name="studio-heartbeat", daemon=True)
    _beating.append(thread)
    thread.start()


@worker_shutdown.connect
def _stop_heartbeat(**_kwargs) -> None:
    _stop.set()
    while _beating:
        _beating.pop().join(timeout=3)


@task_prerun.connect
def _task_started(task_id: str | None = None, task=None, **_kwargs) -> None:
    try:
        with redis_client().pipeline() as pipe:
            key = _running_key(task.request.hostname or socket.gethostname())
            pipe.hset(key, task_id, task.name).expire(key, HEARTBEAT_TTL).execute()
    except redis.RedisError:
        log.warning("could not record task %s as running", task_id)


@task_postrun.connect
def _task_finished(task_id: str | None = None, task=None, **_kwargs) -> None:
    try:
        redis_client().hdel(_running_key(task.request.hostname or socket.gethostname()), task_id)
    except redis.RedisError:
        log.warning("could not record task %s as finished", task_id)


def running_tasks(workers: list[str]) -> list[str]:
    """The names of the tasks the given workers are running now, one entry per task."""
    with redis_client().pipeline() as pipe:
        for hostname in workers:
            pipe.hvals(_running_key(hostname))
        return [name.decode() for names in pipe.execute() for name in names]


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as e:
        return f"error: {e.__class__.__name__}"


def check_redis() -> tuple[str, list[str]]:
    """Redis state, and the hostnames of workers with a live heartbeat."""
    try:
        client = redis_client()
        keys = client.keys(_heartbeat_key("*"))
    except redis.RedisError as e:
        return f"error: {e.__class__.__name__}", []
    prefix = _heartbeat_key("")
    return "ok", sorted(k.decode().removeprefix(prefix) for k in keys)


def health() -> dict:
    database = check_database()
    redis_state, workers = check_redis()
    return {
        "status": "ok" if database == "ok" and redis_state == "ok" else "unavailable",
        "database": database,
        "redis": redis_state,
        "worker": "ok" if workers else "unavailable",
        "workers": workers,
        # Which backend runs containers: `docker` or `sandbox` (STUDIO_RUNTIME=auto decides).
        "runtime": runtime_name(),
    }
