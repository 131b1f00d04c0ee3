"""CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities, DeleteEndpoint.

The worker does the deploying (`jobs/hosting/`): a service records what is wanted — a new
generation to deploy, desired weights and counts — and enqueues it once the change commits.
"""

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from domains.models import Domain, StudioStatus, UserProfile
from domains.permissions import User, authorize, enforce_quotas
from domains.services.lookup import get_domain
from jobs.models import Endpoint, EndpointInstance, EndpointStatus
from jobs.services.common import MAX_INSTANCE_COUNT, require_profile
from jobs.services.endpoint_configs import get_endpoint_config
from metering import usage
from metering.meters import Meter
from studio.core.errors import ResourceInUse, ValidationException
from studio.core.lifecycle import record_creation, transition
from studio.core.queue import enqueue
from studio.core.runtime import get_runtime, runtime_name
from studio.core.runtime.base import ContainerError
from studio.core.shapes import validate

DEPLOY_TASK = "jobs.tasks.deploy_endpoint"
CONVERGE_TASK = "jobs.tasks.converge_endpoint"
DELETE_TASK = "jobs.tasks.delete_endpoint"
SORT_KEYS = {"Name": "name", "CreationTime": "created_at", "Status": "status"}
# What an endpoint must be for UpdateEndpoint: SageMaker also takes a Failed one, which is how
# a name is redeployed after a bad config.
UPDATABLE = frozenset({EndpointStatus.IN_SERVICE, EndpointStatus.FAILED})


def desired_from(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Weights and instance counts per variant, as a config asks for them at first (a
    serverless variant starts with one instance, so that a model that cannot serve fails at
    once rather than at its first request; it scales to zero when idle)."""
    return {
        v["VariantName"]: {
            "weight": float(v["InitialVariantWeight"]),
            "count": v.get("InitialInstanceCount", 1),
        }
        for v in config["ProductionVariants"]
    }


def _instances_asked(config: dict[str, Any]) -> Counter[str]:
    asked: Counter[str] = Counter()
    for variant in config["ProductionVariants"]:
        if variant.get("InstanceType"):
            asked[variant["InstanceType"]] += variant["InitialInstanceCount"]
    return asked


def _admit(domain: Domain, profile: UserProfile, config: dict[str, Any]) -> None:
    """The domain locked (creations in one domain one after the other), InService, and the
    instances a config asks for within the profile's quotas."""
    Domain.objects.select_for_update().filter(pk=domain.pk).values_list("pk").get()
    if domain.status != StudioStatus.IN_SERVICE:
        raise ResourceInUse(f"Domain {domain.domain_id} is {domain.status}; wait until InService.")
    now = claimed_usage(domain, profile)
    for instance_type, count in _instances_asked(config).items():
        enforce_quotas(profile, now, instance_type=instance_type, instance_count=count)


def claimed_usage(domain: Domain, profile: UserProfile) -> usage.Usage:
    """The profile's usage with its endpoints' instances counted as the endpoints want them,
    not as they run now: an endpoint still Creating, or between instances, holds its claim
    (two CreateEndpoint calls in a row must not both fit a quota of one), and an update
    claims its new instances beside the old ones until they drain."""
    now = usage.profile_usage(domain.domain_id, profile.name)
    instances: Counter[str] = Counter(now.instances_by_type)
    running = Meter.objects.filter(
        domain_id=domain.domain_id,
        user_profile=profile.name,
        kind=Meter.ENDPOINT,
        ended_at__isnull=True,
    )
    for instance_type, count in running.values_list("instance_type", "instance_count"):
        instances[instance_type] -= count
    claims = Endpoint.objects.filter(domain=domain, profile=profile).exclude(
        status__in=(EndpointStatus.FAILED, EndpointStatus.DELETING)
    )
    for endpoint in claims:
        for variant in endpoint.config["ProductionVariants"]:
            if variant.get("InstanceType"):
                desired = endpoint.desired.get(variant["VariantName"], {})
                # An autoscaled variant claims its maximum: the autoscaler may need it.
                wanted = max(desired.get("count", 0), desired.get("autoscaling", {}).get("max", 0))
                instances[variant["InstanceType"]] += wanted
        if endpoint.pending_config:
            instances.update(_instances_asked(endpoint.pending_config))
    return replace(now, instances_by_type={k: v for k, v in instances.items() if v > 0})


def create_endpoint(actor: User, domain_id: str, request: dict[str, Any]) -> Endpoint:
    """CreateEndpoint: Creating, and the worker deploys generation 1."""
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateEndpoint", domain=domain), "Endpoints"
    )
    validate(request, "CreateEndpointInput", "")
    if request.get("DeploymentConfig"):
        raise ValidationException(
            "DeploymentConfig is not supported: updates are always blue/green with automatic "
            "roll back.",
            "DeploymentConfig",
        )
    config = get_endpoint_config(actor, domain_id, request["EndpointConfigName"])
    name = request["EndpointName"]
    with transaction.atomic():
        _admit(domain, profile, config.request)
        if Endpoint.objects.filter(domain=domain, name=name).exists():
            arn = Endpoint(name=name, domain=domain).arn
            raise ResourceInUse(f'Cannot create already existing endpoint "{arn}".')
        endpoint = Endpoint.objects.create(
            name=name,
            domain=domain,
            profile=profile,
            status=EndpointStatus.CREATING,
            config_name=config.name,
            config=config.request,
            desired=desired_from(config.request),
            latest_generation=1,
            tags=request.get("Tags") or [],
            runtime=runtime_name(),
        )
        record_creation(endpoint)
        enqueue(DEPLOY_TASK, endpoint.pk, 1)
    return endpoint


def get_endpoint(actor: User, domain_id: str, name: str) -> Endpoint:
    """The endpoint `name` of the domain, or SageMaker's ValidationException "Could not find"
    (botocore's endpoint_deleted waiter and the SDK rely on it)."""
    validate(name, "EndpointName", "EndpointName")
    domain = get_domain(actor, domain_id)
    endpoint = Endpoint.objects.select_related("domain", "profile")
    found = endpoint.filter(domain=domain, name=name).first()
    if found is None:
        arn = Endpoint(name=name, domain=domain).arn
        raise ValidationException(f'Could not find endpoint "{arn}".', "EndpointName")
    return found


def describe_endpoint(actor: User, domain_id: str, name: str) -> Endpoint:
    endpoint = get_endpoint(actor, domain_id, name)
    authorize(actor, "sagemaker:DescribeEndpoint", domain=endpoint.domain, owner=endpoint.profile)
    return endpoint


def list_endpoints(
    actor: User,
    domain_id: str,
    *,
    name_contains: str | None = None,
    status: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    sort_by: str = "CreationTime",
    sort_order: str = "Descending",
) -> QuerySet[Endpoint]:
    """ListEndpoints with its filters; newest first by default, as SageMaker lists them."""
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:ListEndpoints", domain=domain)
    if status and status not in EndpointStatus.values:
        raise ValidationException(
            f"StatusEquals must be one of {', '.join(EndpointStatus.values)}.", "StatusEquals"
        )
    endpoints = Endpoint.objects.filter(domain=domain).select_related("domain", "profile")
    if name_contains:
        endpoints = endpoints.filter(name__icontains=name_contains)
    if status:
        endpoints = endpoints.filter(status=status)
    if created_after:  # at or after, as AWS documents CreationTimeAfter
        endpoints = endpoints.filter(created_at__gte=created_after)
    if created_before:
        endpoints = endpoints.filter(created_at__lt=created_before)
    key = SORT_KEYS[sort_by]
    # The primary key breaks ties, so pages do not shift between calls.
    order = [key, "pk"] if sort_order == "Ascending" else [f"-{key}", "-pk"]
    return endpoints.order_by(*order)


def update_endpoint(actor: User, domain_id: str, request: dict[str, Any]) -> Endpoint:
    """UpdateEndpoint: deploy another config under the same name, blue/green. The endpoint
    keeps answering from its current instances until the new ones all answer /ping; if they
    do not, it rolls back and says why."""
    validate(request, "UpdateEndpointInput", "")
    for unsupported in ("DeploymentConfig", "ExcludeRetainedVariantProperties"):
        if request.get(unsupported):
            raise ValidationException(f"{unsupported} is not supported here.", unsupported)
    endpoint = get_endpoint(actor, domain_id, request["EndpointName"])
    authorize(actor, "sagemaker:UpdateEndpoint", domain=endpoint.domain, owner=endpoint.profile)
    config = get_endpoint_config(actor, domain_id, request["EndpointConfigName"])
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.status not in UPDATABLE:
            raise ValidationException(
                f"Endpoint {endpoint.name} is {endpoint.status}; it can be updated when "
                "InService or Failed.",
                "EndpointName",
            )
        _admit(endpoint.domain, endpoint.profile, config.request)
        endpoint.pending_config_name = config.name
        endpoint.pending_config = config.request
        endpoint.latest_generation += 1
        if request.get("RetainAllVariantProperties"):
            _retain_desired(endpoint, config.request)
        endpoint.save(update_fields=["pending_config_name", "pending_config", "latest_generation"])
        transition(endpoint, EndpointStatus.UPDATING)
        enqueue(DEPLOY_TASK, endpoint.pk, endpoint.latest_generation)
    return endpoint


def _retain_desired(endpoint: Endpoint, config: dict[str, Any]) -> None:
    """RetainAllVariantProperties: variants of the same name keep their current weights and
    counts instead of the new config's initial ones."""
    for variant in config["ProductionVariants"]:
        kept = endpoint.desired.get(variant["VariantName"])
        if kept and variant.get("InstanceType"):
            variant["InitialVariantWeight"] = kept["weight"]
            variant["InitialInstanceCount"] = kept["count"]


def update_endpoint_weights_and_capacities(
    actor: User, domain_id: str, name: str, changes: list[dict[str, Any]]
) -> Endpoint:
    """UpdateEndpointWeightsAndCapacities: new weights at once, new counts as the worker
    starts or drains instances in place (Updating until it has)."""
    validate(changes, "DesiredWeightAndCapacityList", "DesiredWeightsAndCapacities")
    endpoint = get_endpoint(actor, domain_id, name)
    authorize(
        actor,
        "sagemaker:UpdateEndpointWeightsAndCapacities",
        domain=endpoint.domain,
        owner=endpoint.profile,
    )
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.status != EndpointStatus.IN_SERVICE:
            raise ValidationException(
                f"Endpoint {endpoint.name} is {endpoint.status}; weights and capacities change "
                "when it is InService.",
                "EndpointName",
            )
        desired = {k: dict(v) for k, v in endpoint.desired.items()}
        variants = {v["VariantName"]: v for v in endpoint.config["ProductionVariants"]}
        added: Counter[str] = Counter()
        for i, change in enumerate(changes):
            field = f"DesiredWeightsAndCapacities[{i}]"
            variant = variants.get(change["VariantName"])
            if variant is None:
                raise ValidationException(
                    f"{field}.VariantName: endpoint {endpoint.name} has no variant "
                    f"{change['VariantName']!r}; it has {', '.join(variants)}.",
                    f"{field}.VariantName",
                )
            # JSON null is a member left out, as SageMaker reads it.
            if change.get("DesiredWeight") is not None:
                desired[variant["VariantName"]]["weight"] = float(change["DesiredWeight"])
            if change.get("DesiredInstanceCount") is not None:
                _check_count(variant, change["DesiredInstanceCount"], field)
                before = desired[variant["VariantName"]]["count"]
                desired[variant["VariantName"]]["count"] = change["DesiredInstanceCount"]
                added[variant["InstanceType"]] += max(change["DesiredInstanceCount"] - before, 0)
        if not any(v["weight"] > 0 for v in desired.values()):
            raise ValidationException(
                "DesiredWeightsAndCapacities: at least one variant must keep a weight above 0.",
                "DesiredWeightsAndCapacities",
            )
        now = claimed_usage(endpoint.domain, endpoint.profile)
        for instance_type, count in added.items():
            enforce_quotas(endpoint.profile, now, instance_type=instance_type, instance_count=count)
        endpoint.desired = desired
        endpoint.save(update_fields=["desired"])
        transition(endpoint, EndpointStatus.UPDATING)
        enqueue(CONVERGE_TASK, endpoint.pk)
    return endpoint


def _check_count(variant: dict[str, Any], count: int, field: str) -> None:
    if not variant.get("InstanceType"):
        raise ValidationException(
            f"{field}.DesiredInstanceCount: variant {variant['VariantName']} is serverless; "
            "it has no instance count.",
            f"{field}.DesiredInstanceCount",
        )
    low, high = instance_bounds(variant)
    if not low <= count <= high:
        raise ValidationException(
            f"{field}.DesiredInstanceCount must lie between {low} and {high}, not {count}.",
            f"{field}.DesiredInstanceCount",
        )


def instance_bounds(variant: dict[str, Any]) -> tuple[int, int]:
    """The fewest and most instances a variant with instances may have: its
    ManagedInstanceScaling's when enabled (MinInstanceCount 0: it may scale to zero)."""
    scaling = variant.get("ManagedInstanceScaling") or {}
    if scaling and scaling.get("Status", "ENABLED") == "ENABLED":
        return scaling["MinInstanceCount"], scaling["MaxInstanceCount"]
    return 1, MAX_INSTANCE_COUNT


def delete_endpoint(actor: User, domain_id: str, name: str) -> Endpoint:
    """DeleteEndpoint: Deleting at once (traffic stops), then the worker stops its instances
    and removes it."""
    endpoint = get_endpoint(actor, domain_id, name)
    authorize(actor, "sagemaker:DeleteEndpoint", domain=endpoint.domain, owner=endpoint.profile)
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.status == EndpointStatus.DELETING:
            return endpoint
        transition(endpoint, EndpointStatus.DELETING)
        enqueue(DELETE_TASK, endpoint.pk)
    return endpoint


def put_scaling_policy(
    actor: User,
    domain_id: str,
    name: str,
    variant_name: str,
    *,
    min_count: int,
    max_count: int,
    target_per_instance_per_minute: float,
    scale_out_cooldown_s: int = 60,
    scale_in_cooldown_s: int = 300,
) -> Endpoint:
    """Autoscale a variant between `min_count` and `max_count` instances, keeping about
    `target_per_instance_per_minute` invocations per instance per minute (SageMaker's
    SageMakerVariantInvocationsPerInstance target tracking), from the router's own counters.
    `min_count` 0 lets the variant scale to zero when idle."""
    endpoint = get_endpoint(actor, domain_id, name)
    authorize(actor, "sagemaker:UpdateEndpoint", domain=endpoint.domain, owner=endpoint.profile)
    variant = next(
        (v for v in endpoint.config["ProductionVariants"] if v["VariantName"] == variant_name),
        None,
    )
    if variant is None or not variant.get("InstanceType"):
        raise ValidationException(
            f"Endpoint {endpoint.name} has no variant {variant_name!r} with instances to scale.",
            "VariantName",
        )
    if not 0 <= min_count <= max_count <= MAX_INSTANCE_COUNT:
        raise ValidationException(
            f"Need 0 ≤ MinCapacity ≤ MaxCapacity ≤ {MAX_INSTANCE_COUNT}, not {min_count} and "
            f"{max_count}.",
            "MinCapacity",
        )
    if target_per_instance_per_minute <= 0:
        raise ValidationException(
            "TargetValue (invocations per instance per minute) must be above 0.", "TargetValue"
        )
    if scale_out_cooldown_s < 0 or scale_in_cooldown_s < 0:
        raise ValidationException("Cooldowns must be 0 seconds or more.", "ScaleInCooldown")
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        extra = max_count - endpoint.desired[variant_name]["count"]
        if extra > 0:
            enforce_quotas(
                endpoint.profile,
                claimed_usage(endpoint.domain, endpoint.profile),
                instance_type=variant["InstanceType"],
                instance_count=extra,
            )
        endpoint.desired[variant_name]["autoscaling"] = {
            "min": min_count,
            "max": max_count,
            "target": float(target_per_instance_per_minute),
            "scale_out_cooldown_s": scale_out_cooldown_s,
            "scale_in_cooldown_s": scale_in_cooldown_s,
        }
        endpoint.save(update_fields=["desired"])
    return endpoint


# The most lines the endpoint page asks of an instance's log (the runtimes' tail reads at most
# TAIL_BYTES back from its end, whatever the container printed).
MAX_LOG_LINES = 1000


def endpoint_logs(
    actor: User, domain_id: str, name: str, limit_lines: int = 200
) -> list[tuple[str, list[str]]]:
    """The end of each of the endpoint's instances' container log, as (label, lines), the
    newest deployment first: at most `limit_lines` lines an instance, read from the log's end.
    The lines are the container's output, as hostile as it may be: shown escaped."""
    if isinstance(limit_lines, bool) or not isinstance(limit_lines, int):
        raise ValidationException("limit_lines must be a whole number.", "limit_lines")
    if not 1 <= limit_lines <= MAX_LOG_LINES:
        raise ValidationException(
            f"limit_lines must be between 1 and {MAX_LOG_LINES}.", "limit_lines"
        )
    endpoint = describe_endpoint(actor, domain_id, name)
    instances = endpoint.instances.select_related("endpoint").order_by("-generation", "pk")
    return [(instance.label, _log_tail(instance, limit_lines)) for instance in instances]


def _log_tail(instance: EndpointInstance, limit_lines: int) -> list[str]:
    """The last lines of the instance's container log; none for a container that is not
    there (not started yet, or removed), or a runtime that does not answer."""
    if not instance.container_id:
        return []
    try:
        return get_runtime(instance.runtime).tail(instance.container_id, limit_lines)
    except (ContainerError, OSError):  # docker's API errors are OSErrors (requests')
        return []
