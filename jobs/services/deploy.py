"""Deploy in one step, as the dashboard's Deploy does: a model (from a Completed training job,
an Approved model package version, or one that exists), an endpoint config of one production
variant, and the endpoint, created in that order through their own services, in one
transaction: a refusal at any step (a taken name, a quota) leaves none of them behind, and the
worker is asked to deploy only once all three are committed."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from domains.permissions import User
from jobs.models import Endpoint
from jobs.services.endpoint_configs import create_endpoint_config
from jobs.services.endpoints import create_endpoint, update_endpoint
from jobs.services.hosted_models import create_model, model_from_training_job

DEFAULT_VARIANT = "AllTraffic"
# A config's name is the endpoint's and the moment it was made: configs outlive endpoints
# (DeleteEndpoint keeps them), so a name deployed again needs a config name of its own. 48
# characters of the name, a hyphen and 14 digits stay within EndpointConfigName's 63.
CONFIG_STAMP = "%Y%m%d%H%M%S"
CONFIG_NAME_PREFIX = 48


@dataclass(frozen=True)
class Variant:
    """What one production variant runs on: instances (`instance_type`, `instance_count`, and
    with `scale_to_zero` a ManagedInstanceScaling from 0 to `max_instance_count`), or, with
    `memory_size_mb` set, serverless (`memory_size_mb`, `max_concurrency`)."""

    instance_type: str = ""
    instance_count: int = 1
    scale_to_zero: bool = False
    max_instance_count: int = 1
    memory_size_mb: int = 0
    max_concurrency: int = 0
    name: str = DEFAULT_VARIANT

    @property
    def serverless(self) -> bool:
        return bool(self.memory_size_mb)

    def request(self, model_name: str) -> dict[str, Any]:
        """The variant as a CreateEndpointConfig's ProductionVariants entry."""
        variant: dict[str, Any] = {
            "VariantName": self.name,
            "ModelName": model_name,
            "InitialVariantWeight": 1.0,
        }
        if self.serverless:
            variant["ServerlessConfig"] = {
                "MemorySizeInMB": self.memory_size_mb,
                "MaxConcurrency": self.max_concurrency,
            }
            return variant
        variant["InstanceType"] = self.instance_type
        variant["InitialInstanceCount"] = self.instance_count
        if self.scale_to_zero:
            variant["ManagedInstanceScaling"] = {
                "Status": "ENABLED",
                "MinInstanceCount": 0,
                "MaxInstanceCount": self.max_instance_count,
            }
        return variant


def config_name_for(endpoint_name: str) -> str:
    """A fresh endpoint config name for a deploy of `endpoint_name`."""
    stamp = timezone.now().strftime(CONFIG_STAMP)
    return f"{endpoint_name[:CONFIG_NAME_PREFIX]}-{stamp}"


def deploy_model(
    actor: User, domain_id: str, model_name: str, endpoint_name: str, variant: Variant
) -> Endpoint:
    """CreateEndpointConfig (one variant serving `model_name`), then CreateEndpoint: the
    endpoint, Creating, which the worker deploys once this commits. When the domain has an
    endpoint of that name already, UpdateEndpoint instead: the name is redeployed blue/green
    (its instances answer until the new ones do), as the SageMaker SDK's
    `deploy(update_endpoint=True)`; the update service checks the caller may."""
    with transaction.atomic():
        config = create_endpoint_config(
            actor,
            domain_id,
            {
                "EndpointConfigName": config_name_for(endpoint_name),
                "ProductionVariants": [variant.request(model_name)],
            },
        )
        request = {"EndpointName": endpoint_name, "EndpointConfigName": config.name}
        if Endpoint.objects.filter(domain__domain_id=domain_id, name=endpoint_name).exists():
            return update_endpoint(actor, domain_id, request)
        return create_endpoint(actor, domain_id, request)


def deploy_training_job(
    actor: User,
    domain_id: str,
    job_name: str,
    *,
    model_name: str,
    endpoint_name: str,
    variant: Variant,
) -> Endpoint:
    """CreateModel from Completed training job `job_name` (its image and model.tar.gz), then
    `deploy_model`; all or nothing."""
    with transaction.atomic():
        model = model_from_training_job(actor, domain_id, job_name, model_name)
        return deploy_model(actor, domain_id, model.name, endpoint_name, variant)


def deploy_model_package(
    actor: User,
    domain_id: str,
    package: str,
    *,
    model_name: str,
    endpoint_name: str,
    variant: Variant,
) -> Endpoint:
    """CreateModel from model package version `package` (its ARN or "<group>/<version>"; only
    an Approved version is deployed), then `deploy_model`; all or nothing."""
    with transaction.atomic():
        model = create_model(
            actor,
            domain_id,
            {"ModelName": model_name, "PrimaryContainer": {"ModelPackageName": package}},
        )
        return deploy_model(actor, domain_id, model.name, endpoint_name, variant)
