"""Running a workload's containers, whatever the workload: watch them under a lease, stop them
when asked or at the deadline, notice when they vanish, clean up after.

Training and processing jobs both run through here; each supplies what is particular to it
(how to prepare, what to do at the end).
"""

import time
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from studio.leases import Lease
from studio.runtime.base import ContainerStatus, Runtime, State

POLL_SECONDS = 0.25
STOP_GRACE_SECONDS = 10

# Why the watch ended, when it was not the containers exiting by themselves.
STOPPED = "stopped"
MAX_RUNTIME = "max_runtime"
VANISHED = "vanished"


@dataclass
class WatchResult:
    statuses: dict[str, ContainerStatus]
    ended_by: str = ""  # "", STOPPED, MAX_RUNTIME or VANISHED

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


def watch(
    job,
    runtime: Runtime,
    lease: Lease,
    containers: dict[str, str],
    deadline: datetime,
    on_stop_request=None,
) -> WatchResult:
    """Poll until every container exited, a stop was requested (the job's row says Stopping),
    the deadline passed, or a container vanished. Renews `lease` as it goes."""
    model = type(job)
    while True:
        lease.renew()
        statuses = {host: runtime.status(cid) for host, cid in containers.items()}
        if any(s.state == State.MISSING for s in statuses.values()):
            return WatchResult(statuses, VANISHED)
        if all(s.state == State.EXITED for s in statuses.values()):
            return WatchResult(statuses)
        ended_by = ""
        if model.objects.values_list("status", flat=True).get(pk=job.pk) == "Stopping":
            if on_stop_request is not None:
                on_stop_request()
            ended_by = STOPPED
        elif timezone.now() >= deadline:
            ended_by = MAX_RUNTIME
        if ended_by:
            stop_all(runtime, containers)
            statuses = {host: runtime.wait(cid, timeout=5) for host, cid in containers.items()}
            return WatchResult(statuses, ended_by)
        time.sleep(POLL_SECONDS)
