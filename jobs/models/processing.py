"""ProcessingJob, in SageMaker's shape: data preparation in a container, inputs and outputs
under /opt/ml/processing/."""

from django.db import models

from domains.models import Domain, UserProfile, arn
from jobs.models.training import JOB_TRANSITIONS
from studio.events import domain_group, profile_group, resource_group
from studio.lifecycle import LifecycleModel


class ProcessingJob(LifecycleModel):
    TRANSITIONS = JOB_TRANSITIONS
    RESOURCE_TYPE = "ProcessingJob"

    name = models.CharField(max_length=63, unique=True)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="processing_jobs")
    profile = models.ForeignKey(
        UserProfile, on_delete=models.CASCADE, related_name="processing_jobs"
    )
    request = models.JSONField()
    instance_type = models.CharField(max_length=32)
    instance_count = models.PositiveSmallIntegerField(default=1)
    runtime_state = models.JSONField(default=dict, blank=True)
    exit_message = models.TextField(blank=True)
    # OutputName → the dataset each output became (when its files were a table).
    output_datasets = models.JSONField(default=dict, blank=True)
    processing_start_time = models.DateTimeField(null=True, blank=True)
    processing_end_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["domain", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def resource_id(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arn(f"processing-job/{self.name.lower()}")

    def event_groups(self) -> list[str]:
        return [
            profile_group(self.profile_id),
            domain_group(self.domain.domain_id),
            resource_group(self.RESOURCE_TYPE, self.name),
        ]
