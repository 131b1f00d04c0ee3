"""Keeping an endpoint's current generation at the size wanted: replacing instances whose
container died, starting or draining instances as desired counts change (UpdateEndpointWeights
AndCapacities, the autoscaler, scale to zero and the cold start that wakes a variant), and
the beat task that looks for all of it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.hosting import instances
from jobs.hosting.autoscaling import autoscale
from jobs.hosting.counters import last_invoked_at
from jobs.hosting.deploy import StartFailed, endpoint_lock, retire, start_instances
from jobs.models import Endpoint, EndpointInstance, EndpointStatus, InstanceStatus
from studio.core.lifecycle import transition
from studio.core.queue import enqueue
from studio.core.runtime import get_runtime, runtime_name
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME

log = logging.getLogger(__name__)

E = EndpointStatus
# The statuses in which an endpoint's current generation is kept at its desired size.
TENDED = (E.IN_SERVICE, E.UPDATING, E.SYSTEM_UPDATING)
# A deploy or deletion whose endpoint has not changed in this long lost its worker.
LOST_AFTER = timedelta(minutes=5)


def may_scale_to_zero(variant: dict, desired: dict | None = None) -> bool:
    """Serverless variants, and those whose ManagedInstanceScaling or scaling policy
    (`desired`: the variant's entry in the endpoint's) has a minimum of 0."""
    if variant.get("ServerlessConfig"):
        return True
    if ((desired or {}).get("autoscaling") or {}).get("min") == 0:
        return True
    scaling = variant.get("ManagedInstanceScaling") or {}
    return scaling.get("Status", "ENABLED") == "ENABLED" and scaling.get("MinInstanceCount") == 0


def _live(endpoint: Endpoint) -> list[EndpointInstance]:
    return list(
        endpoint.instances.filter(
            generation=endpoint.generation,
            status__in=(InstanceStatus.PENDING, InstanceStatus.IN_SERVICE),
        ).select_related("endpoint__domain", "endpoint__profile")
    )


def _replace_dead(endpoint: Endpoint, live: list[EndpointInstance]) -> list[EndpointInstance]:
    """Forget the instances whose container is gone; the rest."""
    alive = []
    for instance in live:
        if instance.status == InstanceStatus.IN_SERVICE and not instances.running(instance):
            log.warning(
                "endpoint %s: instance %s stopped (exit code %s); replacing it.\n%s",
                endpoint.resource_id,
                instance.label,
                instances.exit_code(instance),
                instances.log_tail(instance),
            )
            transition(instance, InstanceStatus.FAILED)
            instances.remove(instance, grace=1)
        else:
            alive.append(instance)
    return alive


def converge(endpoint_pk: int, *, wake: str | None = None) -> None:
    """Bring each variant of the endpoint's current generation to its desired count; `wake`
    names a scale-to-zero variant a request is waiting for, which gets one instance now."""
    with endpoint_lock(endpoint_pk):
        endpoint = Endpoint.objects.select_related("domain", "profile").filter(pk=endpoint_pk)
        endpoint = endpoint.first()
        if endpoint is None or endpoint.status not in TENDED or endpoint.pending_config:
            return  # gone, or a deploy owns its instances now
        if wake is not None:
            _wake(endpoint, wake)
        # No deploy is under way: other generations' instances are what a worker that died
        # while draining them left.
        retire(list(endpoint.instances.exclude(generation=endpoint.generation)))
        alive = _replace_dead(endpoint, _live(endpoint))
        for index, variant in enumerate(endpoint.config["ProductionVariants"]):
            name = variant["VariantName"]
            mine = [i for i in alive if i.variant_name == name]
            wanted = endpoint.desired[name]["count"]
            if len(mine) < wanted:
                try:
                    start_instances(
                        endpoint, endpoint.generation, [(index, variant, wanted - len(mine))]
                    )
                except StartFailed as failed:
                    log.warning("endpoint %s: %s", endpoint.resource_id, failed)
            elif len(mine) > wanted:
                retire(sorted(mine, key=lambda i: i.pk)[wanted:])
        if endpoint.status != E.IN_SERVICE:
            transition(endpoint, E.IN_SERVICE)


def _wake(endpoint: Endpoint, variant_name: str) -> None:
    variant = next(
        (v for v in endpoint.config["ProductionVariants"] if v["VariantName"] == variant_name),
        None,
    )
    if variant is None or not may_scale_to_zero(variant, endpoint.desired[variant_name]):
        return
    with transaction.atomic():
        endpoint.desired[variant_name]["count"] = max(endpoint.desired[variant_name]["count"], 1)
        endpoint.save(update_fields=["desired"])


def scale_to_zero(endpoint: Endpoint, variant_name: str) -> None:
    """Want no instance of an idle scale-to-zero variant (its configuration stays)."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.desired[variant_name]["count"] = 0
        endpoint.save(update_fields=["desired"])


def tend() -> dict[str, int]:
    """Beat: send `converge` for every endpoint whose current generation is not what is
    wanted (a container died, a count changed, a variant idle long enough to scale to
    zero), resend lost deploys and deletions, and remove serving containers nobody owns."""
    sent = 0
    idle_before = timezone.now() - timedelta(seconds=settings.STUDIO_SCALE_TO_ZERO_IDLE_S)
    for endpoint in Endpoint.objects.filter(status__in=TENDED, pending_config__isnull=True):
        if autoscale(endpoint):
            endpoint.refresh_from_db()
        if _needs_converging(endpoint, idle_before):
            enqueue("jobs.tasks.converge_endpoint", endpoint.pk)
            sent += 1
    lost = timezone.now() - LOST_AFTER
    for endpoint in Endpoint.objects.filter(last_modified_at__lt=lost):
        if endpoint.status in (E.CREATING, E.UPDATING) and endpoint.latest_generation:
            enqueue("jobs.tasks.deploy_endpoint", endpoint.pk, endpoint.latest_generation)
        elif endpoint.status == E.DELETING:
            enqueue("jobs.tasks.delete_endpoint", endpoint.pk)
    return {"converging": sent, "orphans": remove_orphans()}


def _needs_converging(endpoint: Endpoint, idle_before) -> bool:
    if endpoint.instances.exclude(generation=endpoint.generation).exists():
        return True
    live = _live(endpoint)
    for variant in endpoint.config["ProductionVariants"]:
        name = variant["VariantName"]
        mine = [i for i in live if i.variant_name == name]
        if len(mine) != endpoint.desired[name]["count"]:
            return True
        scales_to_zero = may_scale_to_zero(variant, endpoint.desired[name])
        if mine and scales_to_zero and _idle(endpoint, name, mine, idle_before):
            scale_to_zero(endpoint, name)
            return True
    return any(i.status == InstanceStatus.IN_SERVICE and not instances.running(i) for i in live)


def _idle(endpoint: Endpoint, variant: str, mine: list[EndpointInstance], idle_before) -> bool:
    """No invocation of the variant since `idle_before`, and none of its instances younger."""
    last = last_invoked_at(endpoint.pk, variant)
    newest = max((i.ready_at or i.created_at) for i in mine)
    return newest < idle_before and (last is None or last < idle_before)


def remove_orphans() -> int:
    """Serving containers of this deployment whose instance row is gone (a worker died
    between starting one and recording it, or while deleting)."""
    known = {str(pk) for pk in EndpointInstance.objects.values_list("pk", flat=True)}
    removed = 0
    runtimes = {runtime_name(), *Endpoint.objects.values_list("runtime", flat=True)}
    for runtime in map(get_runtime, sorted(runtimes)):
        for container in runtime.list_managed():
            if container.labels.get(LABEL_KIND) != EndpointInstance.RESOURCE_TYPE:
                continue
            # By the instance's key in its label, not by container id: a container just
            # started has its row before its id is recorded.
            if container.labels.get(LABEL_NAME, "").rsplit("/", 1)[-1] in known:
                continue
            runtime.stop(container.id, timeout=2)
            runtime.remove(container.id)
            removed += 1
    return removed
