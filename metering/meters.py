"""Meters: one row for each stretch of time a resource holds instances.

A resource that holds instances (a training or processing job while it runs, a JupyterLab app
while it starts or serves) says so by mixing in `Metered`. Its meter opens on the status change
that makes it hold them and closes on the one that releases them, or when its row is deleted,
inside the transaction that changes the status (the lifecycle helper sends `status_changed`
from there). So meters never disagree with statuses, and both quotas (what runs now: open
meters) and spend (elapsed time, count and price) read one table.

Meters name their domain and profile by SageMaker id and name, not by foreign key: metering sits
below `domains` and `jobs`, and a bill outlives the resources it counts.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.apps import apps
from django.db import models
from django.db.models.signals import post_delete
from django.utils import timezone

from studio.core.lifecycle import status_changed


@dataclass(frozen=True)
class Holder:
    """Who holds the instances a meter counts, and which."""

    domain_id: str
    user_profile: str
    instance_type: str
    instance_count: int = 1


class Metered:
    """Mixed into a lifecycle model whose resource holds instances in some statuses."""

    METER_KIND: ClassVar[str] = ""  # Meter.JOB, APP or ENDPOINT: which quota it counts toward
    HOLDING_STATUSES: ClassVar[frozenset[str]] = frozenset()
    RESOURCE_TYPE: ClassVar[str]

    @property
    def resource_id(self) -> str:
        raise NotImplementedError

    def holder(self) -> Holder:
        raise NotImplementedError


class Meter(models.Model):
    JOB = "job"
    APP = "app"
    ENDPOINT = "endpoint"

    kind = models.CharField(
        max_length=8, choices=[(JOB, "Job"), (APP, "App"), (ENDPOINT, "Endpoint instance")]
    )
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=256)
    domain_id = models.CharField(max_length=64)
    user_profile = models.CharField(max_length=64)
    instance_type = models.CharField(max_length=32)
    instance_count = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "metering"
        indexes = [
            models.Index(fields=["domain_id", "user_profile", "ended_at"]),
            models.Index(fields=["resource_type", "resource_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "resource_id"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_meter_per_resource",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id} on {self.instance_type}"

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Instance-seconds of this meter that fall between `start` and `end`."""
        begun = max(self.started_at, start)
        ended = min(self.ended_at or end, end)
        return max((ended - begun).total_seconds(), 0.0) * self.instance_count


def open_meters(resource: Metered) -> models.QuerySet[Meter]:
    return Meter.objects.filter(
        resource_type=resource.RESOURCE_TYPE,
        resource_id=resource.resource_id,
        ended_at__isnull=True,
    )


def follow(sender: type, instance: Any, to_status: str, **kwargs: Any) -> None:
    """Open or close `instance`'s meter as its new status holds or releases instances."""
    if not isinstance(instance, Metered):
        return
    meters = open_meters(instance)
    if to_status not in instance.HOLDING_STATUSES:
        meters.update(ended_at=timezone.now())
    elif not meters.exists():
        holder = instance.holder()
        Meter.objects.create(
            kind=instance.METER_KIND,
            resource_type=instance.RESOURCE_TYPE,
            resource_id=instance.resource_id,
            domain_id=holder.domain_id,
            user_profile=holder.user_profile,
            instance_type=holder.instance_type,
            instance_count=holder.instance_count,
        )


def close_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    """A resource deleted while it held instances (with its domain, say) holds none now."""
    open_meters(instance).update(ended_at=timezone.now())


def connect() -> None:
    status_changed.connect(follow, dispatch_uid="metering.follow")
    # Per model, not for all senders: a receiver for every model would turn every cascade
    # delete in the project into a row-by-row one.
    for model in apps.get_models():
        if issubclass(model, Metered):
            post_delete.connect(
                close_deleted, sender=model, dispatch_uid=f"metering.{model._meta.label}"
            )
