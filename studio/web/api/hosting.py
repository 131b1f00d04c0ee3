"""Hosting: SageMaker's Create, Describe, List and Delete of models, endpoint configs and
endpoints, and UpdateEndpoint and UpdateEndpointWeightsAndCapacities, so that boto3 code and
the SageMaker SDK's `deploy()` run here. What is deployed is the worker's (jobs/hosting/); a
Describe reads what the services recorded and the instances the worker runs."""

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from jobs.models import Endpoint, EndpointConfig, EndpointInstance, Model
from jobs.models.hosting import EndpointStatus, InstanceStatus
from jobs.services import endpoint_configs, endpoints, hosted_models
from jobs.services.images import resolve_image
from studio.core.errors import ResourceInUse, ValidationException
from studio.core.shapes import shape
from studio.web.api.auth import Caller
from studio.web.api.registry import (
    Columns,
    create_tagged,
    listing,
    narrowed,
    operation,
    timestamp,
    without_none,
)

# What ListModels and ListEndpointConfigs filter and sort on (no status, no modification time);
# ListEndpoints has all of `Columns`. SageMaker's default for all three: CreationTime,
# Descending.
UNCHANGING = Columns(modified=None, status=None)
ENDPOINTS = Columns()
Created = TypeVar("Created")
ALREADY_EXISTING = "Cannot create already existing"


def _echo(request: dict[str, Any], response_shape: str) -> dict[str, Any]:
    """The members of the stored request that SageMaker's Describe answer repeats."""
    members = shape(response_shape)["members"]
    return {key: value for key, value in request.items() if key in members}


def _created(field: str, create: Callable[[], Created]) -> Created:
    """`create()`, a Create{Model,EndpointConfig,Endpoint} service call. AWS answers a name
    already taken with ValidationException "Cannot create already existing ..." (the SDK's
    `Session.create_model` matches on exactly that to reuse a model); the services raise
    ResourceInUse with the same words for the dashboard."""
    try:
        return create()
    except ResourceInUse as error:
        if not error.message.startswith(ALREADY_EXISTING):
            raise
        raise ValidationException(error.message, field) from None


# Models


@operation("CreateModel")
def create_model(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    model = _created(
        "ModelName",
        lambda: create_tagged(
            caller,
            params,
            lambda: hosted_models.create_model(caller.user, caller.domain_id, params),
        ),
    )
    return {"ModelArn": model.arn}


@operation("DescribeModel")
def describe_model(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    model = hosted_models.describe_model(caller.user, caller.domain_id, params["ModelName"])
    return without_none(
        {
            **_echo(model.request, "DescribeModelOutput"),
            "ModelName": model.name,
            "ModelArn": model.arn,
            "CreationTime": timestamp(model.created_at),
        }
    )


def _model_summary(model: Model) -> dict[str, Any]:
    return {
        "ModelName": model.name,
        "ModelArn": model.arn,
        "CreationTime": timestamp(model.created_at),
    }


@operation("ListModels")
def list_models(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = hosted_models.list_models(caller.user, caller.domain_id)
    return listing("Models", narrowed(found, params, UNCHANGING), _model_summary, params)


@operation("DeleteModel")
def delete_model(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    hosted_models.delete_model(caller.user, caller.domain_id, params["ModelName"])
    return {}


# Endpoint configs


@operation("CreateEndpointConfig")
def create_endpoint_config(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    config = _created(
        "EndpointConfigName",
        lambda: create_tagged(
            caller,
            params,
            lambda: endpoint_configs.create_endpoint_config(caller.user, caller.domain_id, params),
        ),
    )
    return {"EndpointConfigArn": config.arn}


@operation("DescribeEndpointConfig")
def describe_endpoint_config(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    config = endpoint_configs.describe_endpoint_config(
        caller.user, caller.domain_id, params["EndpointConfigName"]
    )
    return without_none(
        {
            **_echo(config.request, "DescribeEndpointConfigOutput"),
            "EndpointConfigName": config.name,
            "EndpointConfigArn": config.arn,
            "CreationTime": timestamp(config.created_at),
        }
    )


def _config_summary(config: EndpointConfig) -> dict[str, Any]:
    return {
        "EndpointConfigName": config.name,
        "EndpointConfigArn": config.arn,
        "CreationTime": timestamp(config.created_at),
    }


@operation("ListEndpointConfigs")
def list_endpoint_configs(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = endpoint_configs.list_endpoint_configs(caller.user, caller.domain_id)
    return listing("EndpointConfigs", narrowed(found, params, UNCHANGING), _config_summary, params)


@operation("DeleteEndpointConfig")
def delete_endpoint_config(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    endpoint_configs.delete_endpoint_config(
        caller.user, caller.domain_id, params["EndpointConfigName"]
    )
    return {}


# Endpoints


@operation("CreateEndpoint")
def create_endpoint(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = _created(
        "EndpointName",
        lambda: create_tagged(
            caller,
            params,
            lambda: endpoints.create_endpoint(caller.user, caller.domain_id, params),
        ),
    )
    return {"EndpointArn": endpoint.arn}


def _deployed_images(endpoint: Endpoint, model_name: str | None) -> list[dict] | None:
    """The images a variant's model names, and what each resolves to now; None once the model
    is deleted (its endpoints keep serving it, as in SageMaker)."""
    model = Model.objects.filter(domain=endpoint.domain, name=model_name).first()
    if model is None:
        return None
    images = []
    for container in model.containers:
        try:
            resolved = resolve_image(container["Image"], "Image")
        except ValidationException:  # deregistered since: what was asked is all there is
            resolved = None
        images.append(
            without_none({"SpecifiedImage": container["Image"], "ResolvedImage": resolved})
        )
    return images


def _variant_summary(
    endpoint: Endpoint,
    variant: dict[str, Any],
    in_service: int,
    desired: dict[str, Any] | None,
    pending: bool,
) -> dict[str, Any]:
    """One ProductionVariantSummary (or, `pending`, a PendingProductionVariantSummary): the
    weights and counts asked for (`desired`, else the config's initial ones) and the instances
    serving. A serverless variant has a memory size and concurrency instead of counts."""
    desired = desired or {
        "weight": float(variant["InitialVariantWeight"]),
        "count": variant.get("InitialInstanceCount", 0),
    }
    serverless = variant.get("ServerlessConfig")
    summary = {
        "VariantName": variant["VariantName"],
        "DeployedImages": _deployed_images(endpoint, variant.get("ModelName")),
        "CurrentWeight": desired["weight"],
        "DesiredWeight": desired["weight"],
        "CurrentServerlessConfig": serverless,
        "DesiredServerlessConfig": serverless,
        "ManagedInstanceScaling": variant.get("ManagedInstanceScaling"),
    }
    if not serverless:
        summary["CurrentInstanceCount"] = in_service
        summary["DesiredInstanceCount"] = desired["count"]
        if pending:
            summary["InstanceType"] = variant["InstanceType"]
    return without_none(summary)


def _in_service(endpoint: Endpoint) -> Counter[tuple[int, str]]:
    """InService instances by (generation, variant name)."""
    rows = EndpointInstance.objects.filter(endpoint=endpoint, status=InstanceStatus.IN_SERVICE)
    return Counter(rows.values_list("generation", "variant_name"))


def _pending_summary(endpoint: Endpoint, serving: Counter) -> dict[str, Any] | None:
    """The update under way: its config and its instances so far, since it started."""
    if not endpoint.pending_config:
        return None
    started = (
        endpoint.transitions()
        .filter(to_status=EndpointStatus.UPDATING, at__gte=endpoint.created_at)
        .last()
    )
    return without_none(
        {
            "EndpointConfigName": endpoint.pending_config_name,
            "ProductionVariants": [
                _variant_summary(
                    endpoint,
                    variant,
                    serving[(endpoint.latest_generation, variant["VariantName"])],
                    None,
                    pending=True,
                )
                for variant in endpoint.pending_config["ProductionVariants"]
            ],
            "StartTime": timestamp(started.at) if started else None,
        }
    )


def _capture_summary(config: dict[str, Any]) -> dict[str, Any] | None:
    capture = config.get("DataCaptureConfig")
    if not capture:
        return None
    enabled = capture.get("EnableCapture", True)
    # No KmsKeyId: Studio refuses one (endpoint_configs.py), so there is none to show.
    return {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": capture["InitialSamplingPercentage"],
        "DestinationS3Uri": capture["DestinationS3Uri"],
    }


@operation("DescribeEndpoint")
def describe_endpoint(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = endpoints.describe_endpoint(caller.user, caller.domain_id, params["EndpointName"])
    serving = _in_service(endpoint)
    return without_none(
        {
            "EndpointName": endpoint.name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.config_name,
            "ProductionVariants": [
                _variant_summary(
                    endpoint,
                    variant,
                    serving[(endpoint.generation, variant["VariantName"])],
                    endpoint.desired.get(variant["VariantName"]),
                    pending=False,
                )
                for variant in endpoint.config["ProductionVariants"]
            ],
            "DataCaptureConfig": _capture_summary(endpoint.config),
            "EndpointStatus": endpoint.status,
            "FailureReason": endpoint.failure_reason,
            "CreationTime": timestamp(endpoint.created_at),
            "LastModifiedTime": timestamp(endpoint.last_modified_at),
            "PendingDeploymentSummary": _pending_summary(endpoint, serving),
        }
    )


def _endpoint_summary(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "EndpointName": endpoint.name,
        "EndpointArn": endpoint.arn,
        "CreationTime": timestamp(endpoint.created_at),
        "LastModifiedTime": timestamp(endpoint.last_modified_at),
        "EndpointStatus": endpoint.status,
    }


@operation("ListEndpoints")
def list_endpoints(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = endpoints.list_endpoints(caller.user, caller.domain_id)
    return listing("Endpoints", narrowed(found, params, ENDPOINTS), _endpoint_summary, params)


@operation("UpdateEndpoint")
def update_endpoint(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = endpoints.update_endpoint(caller.user, caller.domain_id, params)
    return {"EndpointArn": endpoint.arn}


@operation("UpdateEndpointWeightsAndCapacities")
def update_endpoint_weights_and_capacities(
    caller: Caller, params: dict[str, Any]
) -> dict[str, Any]:
    endpoint = endpoints.update_endpoint_weights_and_capacities(
        caller.user,
        caller.domain_id,
        params["EndpointName"],
        params["DesiredWeightsAndCapacities"],
    )
    return {"EndpointArn": endpoint.arn}


@operation("DeleteEndpoint")
def delete_endpoint(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    endpoints.delete_endpoint(caller.user, caller.domain_id, params["EndpointName"])
    return {}
