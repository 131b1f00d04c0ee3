"""Deploying an endpoint's generations, keeping its instances alive, and removing it.

One worker at a time changes an endpoint (a Redis lock per endpoint). A generation deploys
blue/green: every instance of the new generation must answer `/ping` before the endpoint's
`generation` moves to it (the router follows within its cache's second); the old instances
then drain — marked Draining, given time for the routers to see the move, then SIGTERMed, which
the server answers by finishing what it has in flight. A generation that does not come up is
removed and the endpoint says why, with its containers' own last log lines: Failed when it was
being created, rolled back to its working generation when it was being updated.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from jobs.hosting import instances
from jobs.models import Endpoint, EndpointInstance, EndpointStatus, InstanceStatus
from jobs.services.endpoints import desired_from
from studio.core.events import publish
from studio.core.health import redis_client
from studio.core.lifecycle import transition
from studio.core.runtime import ContainerError

log = logging.getLogger(__name__)

# SageMaker's default for ContainerStartupHealthCheckTimeoutInSeconds is its minimum, 60 s... but
# Studio's serving containers start in about a second, so a model that needs more says so.
DEFAULT_STARTUP_TIMEOUT_S = 60
POLL_S = 0.02  # one attempt is one connect() on a local socket: cheap
LOCK_TIMEOUT_S = 3600  # a crash releases it eventually; a live holder releases it at once
E = EndpointStatus


@contextmanager
def endpoint_lock(endpoint_pk: int) -> Iterator[None]:
    """One worker changes an endpoint at a time: deploys, healing, scaling and deletion queue."""
    lock = redis_client().lock(
        f"{settings.STUDIO_REDIS_PREFIX}:endpoint:{endpoint_pk}",
        timeout=LOCK_TIMEOUT_S,
        blocking_timeout=LOCK_TIMEOUT_S,
    )
    lock.acquire()
    try:
        yield
    finally:
        try:
            lock.release()
        except Exception:  # it lapsed: nothing to release
            log.warning("endpoint %s outlived its lock", endpoint_pk)


class StartFailed(Exception):
    """Instances did not come up; the message says which and why, with their last log lines."""


@dataclass
class Starting:
    instance: EndpointInstance
    variant: dict
    deadline: float


def _load(endpoint_pk: int) -> Endpoint | None:
    return Endpoint.objects.select_related("domain", "profile").filter(pk=endpoint_pk).first()


def start_instances(endpoint: Endpoint, generation: int, wanted: list[tuple[int, dict, int]]):
    """Start `count` instances for each (variant index, variant, count) in `wanted` and wait
    until all answer /ping. Raises StartFailed after removing every one it started."""
    started: list[Starting] = []
    try:
        for index, variant, count in wanted:
            if count <= 0:
                continue
            model = instances.variant_model(endpoint, variant)
            model_dir = instances.prepare_model(endpoint, generation, index, model)
            timeout = variant.get(
                "ContainerStartupHealthCheckTimeoutInSeconds", DEFAULT_STARTUP_TIMEOUT_S
            )
            for _ in range(count):
                instance = instances.create(endpoint, generation, variant)
                started.append(Starting(instance, variant, time.monotonic() + timeout))
                spec = instances.container_spec(instance, variant, model, model_dir)
                instances.start(instance, spec)
        _wait_ready(started)
    except (StartFailed, instances.ModelUnavailable, ContainerError) as error:
        for starting in started:
            instances.remove(starting.instance, grace=2)
        raise StartFailed(str(error)) from error
    return [s.instance for s in started]


def _wait_ready(started: list[Starting]) -> None:
    waiting = list(started)
    while waiting:
        for starting in list(waiting):
            instance = starting.instance
            if instances.answers_ping(instance):
                instances.mark_ready(instance)
                waiting.remove(starting)
            elif not instances.running(instance):
                code = instances.exit_code(instance)
                raise StartFailed(
                    f"Variant {instance.variant_name}: the serving container exited with code "
                    f"{code} before answering /ping. Its last log lines:\n"
                    f"{instances.log_tail(instance)}"
                )
            elif time.monotonic() > starting.deadline:
                timeout = starting.variant.get(
                    "ContainerStartupHealthCheckTimeoutInSeconds", DEFAULT_STARTUP_TIMEOUT_S
                )
                raise StartFailed(
                    f"Variant {instance.variant_name}: the serving container did not answer "
                    f"/ping within {timeout} s (ContainerStartupHealthCheckTimeoutInSeconds). "
                    f"Its last log lines:\n{instances.log_tail(instance)}"
                )
        if waiting:
            time.sleep(POLL_S)


def _counts(config: dict, desired: dict) -> list[tuple[int, dict, int]]:
    """(index, variant, desired count) for each of a config's variants."""
    return [
        (index, variant, desired[variant["VariantName"]]["count"])
        for index, variant in enumerate(config["ProductionVariants"])
    ]


def deploy(endpoint_pk: int, generation: int) -> None:
    """Deploy `generation` of the endpoint (CreateEndpoint's first, UpdateEndpoint's next)."""
    with endpoint_lock(endpoint_pk):
        endpoint = _load(endpoint_pk)
        if endpoint is None or endpoint.status not in (E.CREATING, E.UPDATING):
            return
        if generation != endpoint.latest_generation or generation <= endpoint.generation:
            return  # a stale or repeated message: its generation is no longer wanted
        creating = endpoint.status == E.CREATING
        config = endpoint.config if creating else endpoint.pending_config
        # What an attempt whose worker died left of this generation: started again from scratch.
        for leftover in endpoint.instances.filter(generation=generation):
            instances.remove(leftover, grace=1)
        desired = desired_from(config)
        for name, kept in endpoint.desired.items():
            # A scaling policy is the variant's, not its config's: an update keeps it.
            if name in desired and "autoscaling" in kept:
                desired[name]["autoscaling"] = kept["autoscaling"]
        try:
            start_instances(endpoint, generation, _counts(config, desired))
        except StartFailed as failed:
            _not_deployed(endpoint, creating, str(failed))
            return
        with transaction.atomic():
            endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_pk)
            if endpoint.status == E.DELETING:
                return  # deleted meanwhile: the deletion removes the new instances too
            endpoint.generation = generation
            endpoint.desired = desired
            endpoint.failure_reason = ""
            if not creating:
                endpoint.config_name = endpoint.pending_config_name
                endpoint.config = endpoint.pending_config
                endpoint.pending_config_name, endpoint.pending_config = "", None
            endpoint.save(
                update_fields=[
                    "generation",
                    "desired",
                    "config_name",
                    "config",
                    "pending_config_name",
                    "pending_config",
                    "failure_reason",
                ]
            )
            transition(endpoint, E.IN_SERVICE)
        drain(endpoint, keep=generation)


def _not_deployed(endpoint: Endpoint, creating: bool, reason: str) -> None:
    if creating:
        transition(endpoint, E.FAILED, reason=reason)
        return
    with transaction.atomic():
        name = endpoint.pending_config_name
        endpoint.pending_config_name, endpoint.pending_config = "", None
        endpoint.save(update_fields=["pending_config_name", "pending_config"])
        if endpoint.generation == 0:
            # It had failed before this update: there is nothing to roll back to.
            transition(endpoint, E.FAILED, reason=f"Update to {name} failed: {reason}")
            return
        transition(endpoint, E.ROLLING_BACK, reason=reason)
        transition(
            endpoint,
            E.IN_SERVICE,
            reason=f"Update to endpoint config {name} was rolled back: {reason}",
        )


def drain(endpoint: Endpoint, *, keep: int) -> None:
    """Retire every instance not of generation `keep`: out of routing first, then stopped."""
    old = list(endpoint.instances.exclude(generation=keep).select_related("endpoint__domain"))
    retire(old)


def retire(old: list[EndpointInstance]) -> None:
    """Drain `old`: marked Draining (the routers stop choosing them within their cache's
    lifetime), then SIGTERMed: each server finishes what it has in flight before it exits."""
    if not old:
        return
    for instance in old:
        if instance.status in (InstanceStatus.PENDING, InstanceStatus.IN_SERVICE):
            transition(instance, InstanceStatus.DRAINING)
    time.sleep(settings.STUDIO_DRAIN_SECONDS)
    for instance in old:
        instances.remove(instance)


def delete(endpoint_pk: int) -> None:
    """DeleteEndpoint's work: every instance stopped and removed, its files, then the row."""
    with endpoint_lock(endpoint_pk):
        endpoint = _load(endpoint_pk)
        if endpoint is None or endpoint.status != E.DELETING:
            return
        for instance in endpoint.instances.all():
            instances.remove(instance, grace=5)
        instances.remove_files(endpoint)
        publish(endpoint.event("deleted"))
        endpoint.delete()
