"""Worker side of the workloads."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from jobs.models import TrainingJob
from jobs.training import runner
from studio import leases
from studio.runtime import get_runtime, runtime_name
from studio.runtime.base import LABEL_KIND, LABEL_NAME

log = logging.getLogger(__name__)

# A job this long without a watcher has lost it (a queued task starts well within this).
UNWATCHED_AFTER = timedelta(seconds=15)


@shared_task
def run_training_job(job_pk: int) -> None:
    """Start, or resume watching, a training job; a no-op while another worker watches it."""
    runner.run(job_pk)


@shared_task
def reconcile_jobs() -> dict[str, int]:
    """Make containers and the database agree after any crash.

    Active jobs without a live watcher get one again (it re-adopts their containers, or fails
    the job if they vanished); containers of this deployment whose job is no longer active are
    removed."""
    resent = 0
    cutoff = timezone.now() - UNWATCHED_AFTER
    for job in TrainingJob.objects.filter(status__in=runner.ACTIVE, last_modified_at__lt=cutoff):
        if not leases.held(TrainingJob.RESOURCE_TYPE, job.name):
            run_training_job.delay(job.pk)
            resent += 1
    removed = 0
    active = dict(
        TrainingJob.objects.filter(status__in=runner.ACTIVE).values_list("name", "runtime_state")
    )
    runtimes = {runtime_name()} | {state.get("runtime") for state in active.values()} - {None}
    for name in sorted(runtimes):
        runtime = get_runtime(name)
        for container in runtime.list_managed():
            if container.labels.get(LABEL_KIND) != TrainingJob.RESOURCE_TYPE:
                continue
            if container.labels.get(LABEL_NAME) not in active:
                log.info("removing orphan container %s", container.name)
                runtime.stop(container.id, timeout=2)
                runtime.remove(container.id)
                removed += 1
    return {"resent": resent, "removed": removed}
