"""Leases: at most one worker watches a resource; a lapsed lease means its watcher died.

A lease is redis-py's `Lock` (the one lock implementation in Studio; the notebook launcher's
lock is another `Lock`), held without blocking and with a TTL. A watcher takes it and renews
it while it works; it hands the lock's token on to its next poll, which renews it as its own.
The reconciler re-sends the watch task for any active resource whose lease has lapsed.

A lease is keyed by the resource's id, which tells apart same-named resources of different
domains (a job's is "<domain id>/<name>"): one domain's job never holds another's lease.
"""

from contextlib import suppress

from django.conf import settings
from redis.exceptions import LockError
from redis.lock import Lock

from studio.core.health import redis_client

TTL_SECONDS = 15


def _key(resource_type: str, resource_id: str) -> str:
    return f"{settings.STUDIO_REDIS_PREFIX}:lease:{resource_type}:{resource_id}"


class Lease:
    def __init__(self, resource_type: str, resource_id: str, token: str | None = None):
        # Not thread-local: the token travels between processes, in the next poll's arguments.
        self.lock = Lock(
            redis_client(),
            _key(resource_type, resource_id),
            timeout=TTL_SECONDS,
            thread_local=False,
        )
        if token is not None:
            self.lock.local.token = token.encode()

    @property
    def token(self) -> str:
        return self.lock.local.token.decode()

    def acquire(self) -> bool:
        return self.lock.acquire(blocking=False)

    def renew(self) -> bool:
        """Reset the TTL, if the lease is still held with this token."""
        try:
            return self.lock.reacquire()
        except LockError:
            return False

    def release(self) -> None:
        # Lapsed, or taken over: then there is nothing of ours to release.
        with suppress(LockError):
            self.lock.release()


def held(resource_type: str, resource_id: str) -> bool:
    return bool(redis_client().exists(_key(resource_type, resource_id)))
