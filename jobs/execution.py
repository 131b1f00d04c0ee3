"""Running a workload's containers, whatever the workload: watch them under a lease, stop them
when asked or at the deadline, notice when they vanish, clean up after.

Watching is a chain of short polls, each a Celery task that schedules the next one and hands
it the lease's token: a long job holds a worker slot for a fraction of a second at a time, so
four of them never keep a notebook from starting. A lost poll lets the lease lapse, and the
reconciler starts a new chain, which resumes reading the logs where the last poll stopped.

Training and processing jobs both run through here; each supplies what is particular to it
(how to prepare, what to do at the end).
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from jobs.training.logs import LogSink
from studio.core import queue
from studio.core.disk_usage import tree_size
from studio.core.health import redis_client
from studio.core.leases import Lease
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME, ContainerStatus, Runtime, State

POLL_SECONDS = 0.25
SLOW_POLL_SECONDS = 1.0
YOUNG_SECONDS = 30
WAIT_SECONDS = 0.25  # of a poll, waiting for an exit (so that it is noticed at once)
STOP_GRACE_SECONDS = 10

# The label naming a job's domain: with the kind and the name it says whose job a container
# runs, since two domains may each have a job of the same name.
LABEL_DOMAIN = "studio.domain"
# A container's name is also its hostname, which Linux caps at 64 bytes.
MAX_CONTAINER_NAME = 63
DIGEST_CHARS = 12

# Why the watch ended, when it was not the containers exiting by themselves.
STOPPED = "stopped"
MAX_RUNTIME = "max_runtime"
VANISHED = "vanished"
VOLUME = "volume"  # its directories outgrew VolumeSizeInGB
# How often a running job's directories are measured (a walk of its tree, by descriptors).
VOLUME_CHECK_SECONDS = 10


@dataclass
class WatchResult:
    statuses: dict[str, ContainerStatus]
    ended_by: str = ""  # "", STOPPED, MAX_RUNTIME, VANISHED or VOLUME
    reason: str = ""  # why, in words, when the watch ended it

    def failed_hosts(self) -> list[str]:
        return [h for h, s in self.statuses.items() if s.exit_code not in (0, None) or s.oom_killed]

    def missing_hosts(self) -> list[str]:
        return [h for h, s in self.statuses.items() if s.state == State.MISSING]


def stop_all(runtime: Runtime, containers: dict[str, str]) -> None:
    for container_id in containers.values():
        runtime.stop(container_id, timeout=STOP_GRACE_SECONDS)


def remove_all(runtime: Runtime, containers: dict[str, str]) -> None:
    for container_id in containers.values():
        runtime.remove(container_id)


def container_name(kind: str, job, *suffix: str) -> str:
    """`<deployment>-<kind>-<domain id>-<job name>-<suffix...>`: unique across domains, since
    two domains may run jobs of one name at once. Past MAX_CONTAINER_NAME characters the job
    name is cut and a digest of the whole name added, so it stays unique and within the
    hostname limit."""
    full = "-".join([settings.STUDIO_REDIS_PREFIX, kind, job.domain.domain_id, job.name, *suffix])
    if len(full) <= MAX_CONTAINER_NAME:
        return full
    tail = "-".join([hashlib.sha256(full.encode()).hexdigest()[:DIGEST_CHARS], *suffix])
    return f"{full[: MAX_CONTAINER_NAME - len(tail) - 1]}-{tail}"


def job_labels(job, host: str) -> dict[str, str]:
    """What a job's container carries so that the reconciler knows whose it is."""
    return {
        LABEL_KIND: job.RESOURCE_TYPE,
        LABEL_DOMAIN: job.domain.domain_id,
        LABEL_NAME: job.name,
        "studio.host": host,
    }


# A job in one of these has containers to watch (or to start, or to stop).
ACTIVE = ("InProgress", "Stopping")


def _active(model, job_pk: int):
    job = model.objects.select_related("domain", "profile").filter(pk=job_pk).first()
    return job if job is not None and job.status in ACTIVE else None


def begin(model, job_pk: int, step: Callable[[Any, Lease], None]) -> None:
    """Take the job's lease and `step` it (start it, or resume watching it after its watcher
    was lost); a no-op while another worker holds the lease or the job has ended."""
    job = _active(model, job_pk)
    if job is not None and (lease := job_lease(job)).acquire():
        step(job, lease)


def resume(model, job_pk: int, token: str, step: Callable[[Any, Lease], None]) -> None:
    """`step` the job again, for the poll that holds the lease `token` names."""
    job = _active(model, job_pk)
    if job is not None and (lease := resume_lease(job, token)) is not None:
        step(job, lease)


def job_lease(job) -> Lease:
    """The lease of one job: keyed by its domain and name, so that same-named jobs of two
    domains are watched each by its own watcher."""
    return Lease(job.RESOURCE_TYPE, job.resource_id)


def resume_lease(job, token: str) -> Lease | None:
    """The lease a previous poll held (its token handed on to the next), if still ours."""
    lease = Lease(job.RESOURCE_TYPE, job.resource_id, token)
    return lease if lease.renew() else None


def next_poll_in(started_at: datetime | None) -> float:
    """Seconds until the next poll: often while a job is young (most are short, and their end
    is then noticed at once), seldom once it has run a while."""
    if started_at is None or timezone.now() - started_at < timedelta(seconds=YOUNG_SECONDS):
        return POLL_SECONDS
    return SLOW_POLL_SECONDS


def poll_later(task: str, job, lease: Lease, started_at: datetime | None) -> None:
    """Schedule the next poll of `job` (the Celery task named `task`, taking its pk and the
    lease token)."""
    queue.send(task, job.pk, lease.token, countdown=next_poll_in(started_at))


def volume_problem(job, roots: list[Path], volume_gb: int) -> str:
    """Why the job must end now, or "": a host's directory holds more than the job's
    VolumeSizeInGB. No runtime bounds a directory bound into a container, so it is measured
    (without following links: `disk_usage.tree_size`), at most every VOLUME_CHECK_SECONDS."""
    key = f"{settings.STUDIO_REDIS_PREFIX}:volume:{job.RESOURCE_TYPE}:{job.resource_id}"
    if not redis_client().set(key, "1", nx=True, ex=VOLUME_CHECK_SECONDS):
        return ""
    limit = volume_gb * 2**30
    for root in roots:
        if tree_size(root, stop_after=limit) > limit:
            return (
                f"ClientError: {root.name} wrote more than its VolumeSizeInGB ({volume_gb} GB) "
                "and was stopped. Ask for a larger VolumeSizeInGB, or write less."
            )
    return ""


def poll(
    job,
    runtime: Runtime,
    containers: dict[str, str],
    sinks: dict[str, LogSink],
    deadline: datetime,
    on_stop_request=None,
    over_volume: Callable[[], str] = lambda: "",
) -> WatchResult | None:
    """One short look at a workload: wait at most WAIT_SECONDS for its containers to exit,
    record their new output, and end it if a stop was requested (the job's row says
    Stopping), the deadline passed or `over_volume()` says why it must end. None while it
    runs on: the caller polls again later, so that no job holds a worker slot for its whole
    run."""
    model = type(job)
    running = [cid for cid in containers.values() if runtime.status(cid).running]
    if running:
        runtime.wait(running[0], timeout=WAIT_SECONDS)
    for sink in sinks.values():
        sink.pump(runtime)
    statuses = {host: runtime.status(cid) for host, cid in containers.items()}
    if any(s.state == State.MISSING for s in statuses.values()):
        return _ended(runtime, sinks, WatchResult(statuses, VANISHED))
    if all(s.state == State.EXITED for s in statuses.values()):
        return _ended(runtime, sinks, WatchResult(statuses))
    ended_by, reason = "", ""
    if model.objects.values_list("status", flat=True).get(pk=job.pk) == "Stopping":
        if on_stop_request is not None:
            on_stop_request()
        ended_by = STOPPED
    elif timezone.now() >= deadline:
        ended_by = MAX_RUNTIME
    elif reason := over_volume():
        ended_by = VOLUME
    if not ended_by:
        return None
    stop_all(runtime, containers)
    statuses = {host: runtime.wait(cid, timeout=5) for host, cid in containers.items()}
    return _ended(runtime, sinks, WatchResult(statuses, ended_by, reason))


def _ended(runtime: Runtime, sinks: dict[str, LogSink], result: WatchResult) -> WatchResult:
    for sink in sinks.values():
        sink.drain(runtime)
    return result
