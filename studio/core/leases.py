"""Redis leases: at most one worker watches a resource; a lapsed lease means its watcher died.

A watcher takes the lease (SET NX with a TTL) and renews it while it works. The reconciler
re-sends the watch task for any active resource whose lease has lapsed.

A lease is keyed by the resource's id, which tells apart same-named resources of different
domains (a job's is "<domain id>/<name>"): one domain's job never holds another's lease.
"""

import uuid

from django.conf import settings

from studio.core.health import redis_client

TTL_SECONDS = 15

# Renew only if we still hold it (the value is ours), atomically.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def _key(resource_type: str, resource_id: str) -> str:
    return f"{settings.STUDIO_REDIS_PREFIX}:lease:{resource_type}:{resource_id}"


class Lease:
    def __init__(self, resource_type: str, resource_id: str):
        self.key = _key(resource_type, resource_id)
        self.token = uuid.uuid4().hex
        self.client = redis_client()

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, ex=TTL_SECONDS))

    def renew(self) -> bool:
        return bool(self.client.eval(_RENEW, 1, self.key, self.token, TTL_SECONDS))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.token)


def held(resource_type: str, resource_id: str) -> bool:
    return bool(redis_client().exists(_key(resource_type, resource_id)))
