"""Lifecycle: every status change goes through `transition`, which checks the resource's table
of allowed transitions, records the change, tells `status_changed` receivers (inside the same
transaction: metering opens and closes its meters there) and publishes an event."""

from typing import Any, ClassVar

from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone

from studio.core.errors import ConflictException
from studio.core.events import Event, publish
from studio.core.models import StatusTransition

# Sent with `instance`, `from_status` ("" for a new resource) and `to_status`.
status_changed = Signal()


class LifecycleModel(models.Model):
    """A resource with a SageMaker status. Subclasses give `TRANSITIONS` and identity."""

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {}
    RESOURCE_TYPE: ClassVar[str] = ""

    status = models.CharField(max_length=32)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def resource_id(self) -> str:
        raise NotImplementedError

    def event_groups(self) -> list[str]:
        raise NotImplementedError

    def event(self, kind: str, **data: Any) -> Event:
        return Event(
            kind=kind,
            resource_type=self.RESOURCE_TYPE,
            resource_id=self.resource_id,
            groups=self.event_groups(),
            data={"status": self.status, **data},
        )

    def transitions(self, *, secondary: bool = False) -> models.QuerySet[StatusTransition]:
        """The resource's status changes, oldest first (with `secondary`: its secondary
        status's)."""
        return StatusTransition.objects.filter(
            resource_type=self.RESOURCE_TYPE, resource_id=self.resource_id, secondary=secondary
        )


def transition(obj: LifecycleModel, to: str, *, reason: str = "") -> None:
    """Move `obj` to status `to`, if its table allows it from the status stored now.

    The row is locked so that two workers racing to move one resource cannot both succeed
    from the same starting status.
    """
    with transaction.atomic():
        current = type(obj).objects.select_for_update().values_list("status", flat=True)
        current = current.get(pk=obj.pk)
        if to not in obj.TRANSITIONS.get(current, set()):
            raise ConflictException(
                f"{obj.RESOURCE_TYPE} {obj.resource_id} is {current} and cannot become {to}."
            )
        obj.status = to
        obj.last_modified_at = timezone.now()
        fields = ["status", "last_modified_at"]
        if reason or to.endswith("Failed"):
            obj.failure_reason = reason
            fields.append("failure_reason")
        obj.save(update_fields=fields)
        StatusTransition.objects.create(
            resource_type=obj.RESOURCE_TYPE,
            resource_id=obj.resource_id,
            from_status=current,
            to_status=to,
            reason=reason,
        )
        status_changed.send(type(obj), instance=obj, from_status=current, to_status=to)
        publish(obj.event("status", from_status=current, reason=reason))


def record_creation(obj: LifecycleModel) -> None:
    """Record the first status of a new resource, as its first transition."""
    StatusTransition.objects.create(
        resource_type=obj.RESOURCE_TYPE, resource_id=obj.resource_id, to_status=obj.status
    )
    status_changed.send(type(obj), instance=obj, from_status="", to_status=obj.status)
    publish(obj.event("created"))


def record_secondary(obj: LifecycleModel, status: str, message: str = "") -> None:
    """Move `obj`'s secondary status (a field `secondary_status` it has) to `status`, record it
    in the same history as its status, and publish it. Secondary statuses follow one another
    as the work goes, with no table of allowed moves (SageMaker's do not have one)."""
    with transaction.atomic():
        previous = obj.transitions(secondary=True).last()
        obj.secondary_status = status
        obj.last_modified_at = timezone.now()
        obj.save(update_fields=["secondary_status", "last_modified_at"])
        StatusTransition.objects.create(
            resource_type=obj.RESOURCE_TYPE,
            resource_id=obj.resource_id,
            from_status=previous.to_status if previous else "",
            to_status=status,
            reason=message,
            secondary=True,
        )
        publish(obj.event("secondary", secondary_status=status, message=message))
