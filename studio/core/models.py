"""What cuts across apps: the record of every lifecycle transition."""

from django.db import models


class StatusTransition(models.Model):
    """One status change of one resource (SageMaker's SecondaryStatusTransitions, for all)."""

    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=256)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["resource_type", "resource_id", "at"])]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id}: {self.from_status} → {self.to_status}"
