"""What the invocation router needs to know of an endpoint, in one read of the database.

The router (studio/web/router/) keeps each answer for about a second per process, so this runs
about once a second per endpoint in use, never once per request. Traffic goes only to the
InService instances of the endpoint's current generation: during a blue/green update that is
the old generation until the new one has passed its health checks.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.hosting.paths import instance_socket
from jobs.hosting.scaling import may_scale_to_zero
from jobs.models import Endpoint, EndpointInstance, InstanceStatus


@dataclass(frozen=True)
class Target:
    """One serving instance: its server socket, to be connected to only if `uid` owns it."""

    pk: int
    socket: Path
    uid: int


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float
    targets: tuple[Target, ...]
    # ServerlessConfig's MaxConcurrency: requests in flight allowed at once (None: no bound).
    max_concurrency: int | None
    # Whether the variant may have no instance and start one on demand (ServerlessConfig, or
    # ManagedInstanceScaling with MinInstanceCount 0).
    scales_to_zero: bool


@dataclass(frozen=True)
class Capture:
    """DataCaptureConfig, for an endpoint that captures."""

    percent: float
    destination: str
    inputs: bool
    outputs: bool
    csv_types: frozenset[str]
    json_types: frozenset[str]


@dataclass(frozen=True)
class Route:
    endpoint_pk: int
    name: str
    account_id: str
    domain_id: str
    status: str
    variants: tuple[Variant, ...]
    capture: Capture | None

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)


def route(domain_pk: int, name: str) -> Route | None:
    """The endpoint `name` of the domain `domain_pk` as the router sees it; None if there is
    none."""
    endpoint = (
        Endpoint.objects.select_related("domain")
        .filter(domain_id=domain_pk, name=name)
        .only("pk", "name", "status", "config", "desired", "generation", "domain")
        .first()
    )
    if endpoint is None:
        return None
    instances = EndpointInstance.objects.filter(
        endpoint=endpoint, generation=endpoint.generation, status=InstanceStatus.IN_SERVICE
    ).only("pk", "variant_name", "uid", "endpoint_id")
    targets: dict[str, list[Target]] = {}
    for instance in instances:
        instance.endpoint = endpoint  # its socket path needs the endpoint: no query per row
        targets.setdefault(instance.variant_name, []).append(
            Target(instance.pk, instance_socket(instance), instance.uid)
        )
    config = endpoint.config or {}
    variants = tuple(
        _variant(spec, endpoint.desired or {}, targets.get(spec["VariantName"], []))
        for spec in config.get("ProductionVariants", [])
    )
    return Route(
        endpoint_pk=endpoint.pk,
        name=endpoint.name,
        account_id=endpoint.domain.account_id,
        domain_id=endpoint.domain.domain_id,
        status=endpoint.status,
        variants=variants,
        capture=_capture(config.get("DataCaptureConfig")),
    )


def _variant(spec: dict[str, Any], desired: dict[str, Any], targets: list[Target]) -> Variant:
    name = spec["VariantName"]
    wanted = desired.get(name) or {}
    weight = wanted.get("weight", spec.get("InitialVariantWeight", 1.0))
    serverless = spec.get("ServerlessConfig")
    return Variant(
        name=name,
        weight=max(float(weight), 0.0),
        targets=tuple(targets),
        max_concurrency=serverless.get("MaxConcurrency") if serverless else None,
        scales_to_zero=may_scale_to_zero(spec, wanted),
    )


def _capture(config: dict[str, Any] | None) -> Capture | None:
    if not config or not config.get("EnableCapture", True):
        return None
    modes = {o.get("CaptureMode") for o in config.get("CaptureOptions") or []}
    headers = config.get("CaptureContentTypeHeader") or {}
    return Capture(
        percent=float(config.get("InitialSamplingPercentage", 0)),
        destination=config["DestinationS3Uri"],
        inputs=not modes or bool(modes & {"Input", "InputAndOutput"}),
        outputs=not modes or bool(modes & {"Output", "InputAndOutput"}),
        csv_types=frozenset(t.lower() for t in headers.get("CsvContentTypes") or []),
        json_types=frozenset(t.lower() for t in headers.get("JsonContentTypes") or []),
    )
