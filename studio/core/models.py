"""What cuts across apps: the record of every lifecycle transition."""

from django.db import models


class StatusTransition(models.Model):
    """One status change of one resource: its status (`secondary` false) or its secondary
    status (a training job's Downloading, Training, Uploading...: SageMaker's
    SecondaryStatusTransitions). The one history every page and Describe reads."""

    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=256)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    reason = models.TextField(blank=True)  # the failure reason, or a secondary's message
    secondary = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["resource_type", "resource_id", "at"])]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id}: {self.from_status} → {self.to_status}"
