"""CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs, DeleteEndpointConfig."""

import copy
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from jobs.models import EndpointConfig, Model
from jobs.services.common import MAX_INSTANCE_COUNT, check_instances, require_profile
from studio.core import storage
from studio.core.errors import ResourceInUse, ValidationException
from studio.core.shapes import validate

DEFAULT_WEIGHT = 1.0
# SageMaker's serverless memory sizes: 1 to 6 GB in 1 GB steps.
SERVERLESS_MEMORY_MB = range(1024, 6145, 1024)
# What a variant's options Studio does not run would mean on AWS; refused, not ignored.
UNSUPPORTED_VARIANT_FIELDS = (
    "InstancePools",
    "AcceleratorType",
    "CoreDumpConfig",
    "EnableSSMAccess",
    "InferenceAmiVersion",
    "CapacityReservationConfig",
    "AcceleratorPartitionLayouts",
)
UNSUPPORTED_CONFIG_FIELDS = (
    "AsyncInferenceConfig",
    "ExplainerConfig",
    "ShadowProductionVariants",
    "VpcConfig",
    "CrossRegionTrafficConfig",
)


def _fail(message: str, field: str) -> None:
    raise ValidationException(message, field)


def _check_scaling(variant: dict[str, Any], field: str) -> None:
    scaling = variant.get("ManagedInstanceScaling")
    if not scaling or scaling.get("Status", "ENABLED") != "ENABLED":
        return
    low, high = scaling.get("MinInstanceCount"), scaling.get("MaxInstanceCount")
    field = f"{field}.ManagedInstanceScaling"
    if low is None or high is None:
        _fail(f"{field} needs MinInstanceCount and MaxInstanceCount.", field)
    if not 0 <= low <= high <= MAX_INSTANCE_COUNT:
        _fail(
            f"{field}: need 0 ≤ MinInstanceCount ≤ MaxInstanceCount ≤ {MAX_INSTANCE_COUNT}, "
            f"not {low} and {high}.",
            field,
        )
    count = variant["InitialInstanceCount"]
    if not low <= count <= high:
        _fail(
            f"{field}: InitialInstanceCount {count} must lie between MinInstanceCount {low} and "
            f"MaxInstanceCount {high}.",
            f"{field}.InitialInstanceCount",
        )


def _check_variant(variant: dict[str, Any], field: str, models: set[str]) -> None:
    for name in UNSUPPORTED_VARIANT_FIELDS:
        if variant.get(name):
            _fail(f"{field}.{name} is not supported here.", f"{field}.{name}")
    model = variant.get("ModelName")
    if not model:
        _fail(f"{field}.ModelName is required.", f"{field}.ModelName")
    if model not in models:
        _fail(
            f"{field}.ModelName: could not find model {model!r} in this domain.",
            f"{field}.ModelName",
        )
    serverless = variant.get("ServerlessConfig")
    if serverless:
        if variant.get("InstanceType") or variant.get("InitialInstanceCount") is not None:
            _fail(
                f"{field}: give either ServerlessConfig or InstanceType and "
                "InitialInstanceCount, not both.",
                f"{field}.ServerlessConfig",
            )
        if serverless["MemorySizeInMB"] not in SERVERLESS_MEMORY_MB:
            _fail(
                f"{field}.ServerlessConfig.MemorySizeInMB must be 1024, 2048, 3072, 4096, 5120 "
                f"or 6144, not {serverless['MemorySizeInMB']}.",
                f"{field}.ServerlessConfig.MemorySizeInMB",
            )
        if serverless.get("ProvisionedConcurrency"):
            _fail(
                f"{field}.ServerlessConfig.ProvisionedConcurrency is not supported here.",
                f"{field}.ServerlessConfig.ProvisionedConcurrency",
            )
        return
    for needed in ("InstanceType", "InitialInstanceCount"):
        if variant.get(needed) is None:
            _fail(
                f"{field} needs InstanceType and InitialInstanceCount (or a ServerlessConfig).",
                f"{field}.{needed}",
            )
    check_instances(variant["InstanceType"], variant["InitialInstanceCount"], field)
    _check_scaling(variant, field)


def _check_capture(config: dict[str, Any], domain_id: str) -> None:
    capture = config.get("DataCaptureConfig")
    if not capture:
        return
    field = "DataCaptureConfig.DestinationS3Uri"
    storage.check_access(capture["DestinationS3Uri"], domain_id, field)
    if capture.get("KmsKeyId"):
        _fail("DataCaptureConfig.KmsKeyId is not supported here.", "DataCaptureConfig.KmsKeyId")


def validate_endpoint_config(request: Any, domain) -> dict[str, Any]:
    """The request with defaults filled, or ValidationException naming the field and rule."""
    if not isinstance(request, dict):
        _fail("The request must be an object.", "CreateEndpointConfigRequest")
    request = copy.deepcopy(request)
    validate(request, "CreateEndpointConfigInput", "")
    for name in UNSUPPORTED_CONFIG_FIELDS:
        if request.get(name):
            _fail(f"{name} is not supported here.", name)
    variants = request["ProductionVariants"]
    models = set(
        Model.objects.filter(
            domain=domain, name__in=[v.get("ModelName") for v in variants]
        ).values_list("name", flat=True)
    )
    seen = set()
    for i, variant in enumerate(variants):
        field = f"ProductionVariants[{i}]"
        if variant["VariantName"] in seen:
            _fail(
                f"{field}.VariantName {variant['VariantName']!r} appears twice.",
                f"{field}.VariantName",
            )
        seen.add(variant["VariantName"])
        if variant.get("InitialVariantWeight") is None:  # left out, or JSON null: the default
            variant["InitialVariantWeight"] = DEFAULT_WEIGHT
        _check_variant(variant, field, models)
    if not any(v["InitialVariantWeight"] > 0 for v in variants):
        _fail(
            "ProductionVariants: at least one InitialVariantWeight must be above 0.",
            "ProductionVariants",
        )
    _check_capture(request, domain.domain_id)
    return request


def create_endpoint_config(actor: User, domain_id: str, request: dict[str, Any]) -> EndpointConfig:
    """CreateEndpointConfig."""
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateEndpointConfig", domain=domain), "Endpoint configs"
    )
    request = validate_endpoint_config(request, domain)
    name = request["EndpointConfigName"]
    try:
        with transaction.atomic():
            return EndpointConfig.objects.create(
                name=name, domain=domain, profile=profile, request=request
            )
    except IntegrityError:
        arn = EndpointConfig(name=name, domain=domain).arn
        raise ResourceInUse(
            f'Cannot create already existing endpoint configuration "{arn}".'
        ) from None


def get_endpoint_config(actor: User, domain_id: str, name: str) -> EndpointConfig:
    """The config `name` of the domain, or SageMaker's ValidationException "Could not find"."""
    validate(name, "EndpointConfigName", "EndpointConfigName")
    domain = get_domain(actor, domain_id)
    config = EndpointConfig.objects.select_related("domain", "profile")
    found = config.filter(domain=domain, name=name).first()
    if found is None:
        arn = EndpointConfig(name=name, domain=domain).arn
        raise ValidationException(
            f'Could not find endpoint configuration "{arn}".', "EndpointConfigName"
        )
    return found


def describe_endpoint_config(actor: User, domain_id: str, name: str) -> EndpointConfig:
    config = get_endpoint_config(actor, domain_id, name)
    authorize(actor, "sagemaker:DescribeEndpointConfig", domain=config.domain, owner=config.profile)
    return config


def list_endpoint_configs(
    actor: User, domain_id: str, *, name_contains: str | None = None
) -> QuerySet[EndpointConfig]:
    """ListEndpointConfigs, newest first (SageMaker's default order)."""
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:ListEndpointConfigs", domain=domain)
    configs = EndpointConfig.objects.filter(domain=domain).select_related("domain", "profile")
    if name_contains:
        configs = configs.filter(name__icontains=name_contains)
    return configs.order_by("-created_at")


def delete_endpoint_config(actor: User, domain_id: str, name: str) -> None:
    """DeleteEndpointConfig. Endpoints deployed from it keep running (as in SageMaker: each
    holds a copy of the config it was deployed with)."""
    config = get_endpoint_config(actor, domain_id, name)
    authorize(actor, "sagemaker:DeleteEndpointConfig", domain=config.domain, owner=config.profile)
    config.delete()
