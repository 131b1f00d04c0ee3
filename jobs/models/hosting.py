"""Hosting in SageMaker's shape: a Model (containers and their artifacts), an EndpointConfig
(production variants), an Endpoint (a config deployed), and the instances serving it.

An endpoint's requests are kept as accepted (for Describe), and what is deployed now is a
*generation*: each CreateEndpoint or UpdateEndpoint starts a new one, whose instances must all
answer `/ping` before the endpoint's `generation` moves to it (blue/green); the router sends
traffic only to the InService instances of the endpoint's current generation.
"""

from django.db import models
from django.utils import timezone

from domains.models import Domain, UserProfile
from jobs.models.base import DomainResource
from metering.meters import Holder, Meter, Metered
from studio.core.events import resource_group
from studio.core.lifecycle import LifecycleModel


class Model(DomainResource, models.Model):
    """CreateModel's request, as accepted. Models have no status in SageMaker."""

    RESOURCE_TYPE = "Model"
    ARN_KIND = "model"

    name = models.CharField(max_length=63)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="hosted_models")
    profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="hosted_models")
    request = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "name"], name="model_name_unique_in_domain")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def containers(self) -> list[dict]:
        """The model's containers: PrimaryContainer, or Containers (an inference pipeline)."""
        primary = self.request.get("PrimaryContainer")
        return [primary] if primary else list(self.request.get("Containers", []))


class EndpointConfig(DomainResource, models.Model):
    """CreateEndpointConfig's request, as accepted; configs never change once created."""

    RESOURCE_TYPE = "EndpointConfig"
    ARN_KIND = "endpoint-config"

    name = models.CharField(max_length=63)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="endpoint_configs")
    profile = models.ForeignKey(
        UserProfile, on_delete=models.CASCADE, related_name="endpoint_configs"
    )
    request = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "name"], name="endpoint_config_name_unique_in_domain"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def variants(self) -> list[dict]:
        return list(self.request["ProductionVariants"])


class EndpointStatus(models.TextChoices):
    OUT_OF_SERVICE = "OutOfService"
    CREATING = "Creating"
    UPDATING = "Updating"
    SYSTEM_UPDATING = "SystemUpdating"
    ROLLING_BACK = "RollingBack"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    FAILED = "Failed"


E = EndpointStatus
ENDPOINT_TRANSITIONS = {
    E.CREATING: {E.IN_SERVICE, E.FAILED, E.DELETING},
    E.IN_SERVICE: {E.UPDATING, E.SYSTEM_UPDATING, E.DELETING},
    # A failed endpoint may be updated to a config that works: the same name is redeployed.
    E.FAILED: {E.UPDATING, E.DELETING},
    E.UPDATING: {E.IN_SERVICE, E.ROLLING_BACK, E.FAILED, E.DELETING},
    E.SYSTEM_UPDATING: {E.IN_SERVICE, E.FAILED, E.DELETING},
    E.ROLLING_BACK: {E.IN_SERVICE, E.FAILED, E.DELETING},
}


class Endpoint(DomainResource, LifecycleModel):
    TRANSITIONS = ENDPOINT_TRANSITIONS
    RESOURCE_TYPE = "Endpoint"
    ARN_KIND = "endpoint"

    name = models.CharField(max_length=63)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="endpoints")
    profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="endpoints")
    # The config in force: its name and its request as it was when deployed (a config may be
    # deleted while an endpoint uses it, as in SageMaker).
    config_name = models.CharField(max_length=63)
    config = models.JSONField()
    # An update under way: the config being deployed, until it is in force or rolled back.
    pending_config_name = models.CharField(max_length=63, blank=True)
    pending_config = models.JSONField(null=True, blank=True)
    # Per variant name: {"weight": float, "count": int} — desired weights and instance counts,
    # from the config and then UpdateEndpointWeightsAndCapacities or the autoscaler.
    desired = models.JSONField(default=dict)
    # The generation traffic goes to, and the last one started (an update's, while it lasts).
    generation = models.PositiveIntegerField(default=0)
    latest_generation = models.PositiveIntegerField(default=0)
    tags = models.JSONField(default=list, blank=True)
    # The runtime its instances run on, chosen at creation: healing after a restart must use
    # the same one even if STUDIO_RUNTIME changed meanwhile.
    runtime = models.CharField(max_length=16)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "name"], name="endpoint_name_unique_in_domain"
            )
        ]


class InstanceStatus(models.TextChoices):
    PENDING = "Pending"  # its container is starting; it has not answered /ping yet
    IN_SERVICE = "InService"
    DRAINING = "Draining"  # no new requests; stopped once those in flight have their answers
    FAILED = "Failed"


S = InstanceStatus
INSTANCE_TRANSITIONS = {
    S.PENDING: {S.IN_SERVICE, S.FAILED, S.DRAINING},
    S.IN_SERVICE: {S.DRAINING, S.FAILED},
    S.DRAINING: {S.FAILED},
}


class EndpointInstance(Metered, LifecycleModel):
    """One serving container of an endpoint's variant: a meter of its instance type while it
    exists (SageMaker bills endpoint instances from start to deletion)."""

    TRANSITIONS = INSTANCE_TRANSITIONS
    RESOURCE_TYPE = "EndpointInstance"
    METER_KIND = Meter.ENDPOINT
    HOLDING_STATUSES = frozenset({S.PENDING, S.IN_SERVICE, S.DRAINING})

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="instances")
    generation = models.PositiveIntegerField()
    variant_name = models.CharField(max_length=63)
    model_name = models.CharField(max_length=63)
    instance_type = models.CharField(max_length=32)
    # The runtime that runs it and its container id: the worker's to read and write.
    runtime = models.CharField(max_length=16)
    container_id = models.CharField(max_length=128, blank=True)
    # The uid the server runs as, which must own its socket (studio/core/unix_socket.py).
    uid = models.PositiveIntegerField()
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["endpoint", "generation", "status"])]

    @property
    def resource_id(self) -> str:
        return f"{self.endpoint.resource_id}/{self.pk}"

    @property
    def label(self) -> str:
        """Its name on pages and in logs: the variant and a number unique in the endpoint."""
        return f"{self.variant_name}-{self.pk}"

    def holder(self) -> Holder:
        return Holder(
            domain_id=self.endpoint.domain.domain_id,
            user_profile=self.endpoint.profile.name,
            instance_type=self.instance_type,
        )

    def event_groups(self) -> list[str]:
        return [resource_group(Endpoint.RESOURCE_TYPE, self.endpoint.resource_id)]

    @property
    def container_name(self) -> str:
        """Also its hostname: cut to Linux's limit as jobs' are (SDK endpoint names are long)."""
        from jobs.execution import container_name  # jobs.execution imports these models

        return container_name("ep", self.endpoint, str(self.pk))
