"""Worker side of the workloads."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from jobs import execution
from jobs.execution import LABEL_DOMAIN
from jobs.hosting import deploy, scaling
from jobs.models import ProcessingJob, TrainingJob, TransformJob
from jobs.processing import runner as processing_runner
from jobs.training import runner as training_runner
from jobs.transform import runner as transform_runner
from studio.core import leases
from studio.core.runtime import get_runtime, runtime_name
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME

log = logging.getLogger(__name__)

# A job this long without a watcher has lost it (a queued task starts well within this).
UNWATCHED_AFTER = timedelta(seconds=15)


@shared_task
def run_training_job(job_pk: int) -> None:
    """Start, or resume watching, a training job; a no-op while another worker watches it."""
    training_runner.run(job_pk)


@shared_task
def poll_training_job(job_pk: int, lease_token: str) -> None:
    """One short poll of a running training job (jobs/execution.py); it schedules the next."""
    training_runner.poll(job_pk, lease_token)


@shared_task
def run_processing_job(job_pk: int) -> None:
    processing_runner.run(job_pk)


@shared_task
def poll_processing_job(job_pk: int, lease_token: str) -> None:
    processing_runner.poll(job_pk, lease_token)


@shared_task
def run_transform_job(job_pk: int) -> None:
    """Start, or resume, a batch transform job; a no-op while another worker runs it."""
    transform_runner.run(job_pk)


@shared_task
def poll_transform_job(job_pk: int, lease_token: str) -> None:
    """One poll of a transform job: a look at its containers, then about a second of work."""
    transform_runner.poll(job_pk, lease_token)


WORKLOADS = (
    (TrainingJob, run_training_job),
    (ProcessingJob, run_processing_job),
    (TransformJob, run_transform_job),
)


@shared_task
def reconcile_jobs() -> dict[str, int]:
    """Make containers and the database agree after any crash.

    Active jobs without a live watcher get one again (it re-adopts their containers, or fails
    the job if they vanished); containers of this deployment whose job is no longer active are
    removed."""
    resent = 0
    cutoff = timezone.now() - UNWATCHED_AFTER
    # Keyed by (kind, domain, name): two domains may each run a job of one name.
    active: dict[tuple[str, str, str], dict] = {}
    for model, task in WORKLOADS:
        for job in model.objects.filter(status__in=execution.ACTIVE).select_related("domain"):
            active[model.RESOURCE_TYPE, job.domain.domain_id, job.name] = job.runtime_state
            stale = job.last_modified_at < cutoff
            if stale and not leases.held(model.RESOURCE_TYPE, job.resource_id):
                task.delay(job.pk)
                resent += 1
    removed = 0
    kinds = {model.RESOURCE_TYPE for model, _ in WORKLOADS}
    # What active jobs recorded they run: a container started before jobs carried their
    # domain's label is still its job's.
    recorded = {cid for state in active.values() for cid in state.get("containers", {}).values()}
    runtimes = {runtime_name()} | {state.get("runtime") for state in active.values()} - {None}
    for name in sorted(runtimes):
        runtime = get_runtime(name)
        for container in runtime.list_managed():
            kind = container.labels.get(LABEL_KIND)
            owner = (kind, container.labels.get(LABEL_DOMAIN), container.labels.get(LABEL_NAME))
            if kind not in kinds or owner in active or container.id in recorded:
                continue
            log.info("removing orphan container %s", container.name)
            runtime.stop(container.id, timeout=2)
            runtime.remove(container.id)
            removed += 1
    return {"resent": resent, "removed": removed}


@shared_task
def deploy_endpoint(endpoint_pk: int, generation: int) -> None:
    """Deploy an endpoint's generation (CreateEndpoint, UpdateEndpoint), blue/green."""
    deploy.deploy(endpoint_pk, generation)


@shared_task
def converge_endpoint(endpoint_pk: int) -> None:
    """Bring an endpoint's instances to their desired counts, replacing dead ones."""
    scaling.converge(endpoint_pk)


@shared_task
def wake_endpoint(endpoint_pk: int, variant_name: str) -> None:
    """A request waits for a variant scaled to zero: start an instance of it now."""
    scaling.converge(endpoint_pk, wake=variant_name)


@shared_task
def delete_endpoint(endpoint_pk: int) -> None:
    deploy.delete(endpoint_pk)


@shared_task
def tend_endpoints() -> dict[str, int]:
    """Beat: heal, scale and clean up endpoints (jobs/hosting/scaling.py)."""
    return scaling.tend()
