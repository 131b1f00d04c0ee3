"""ProcessingJob, in SageMaker's shape: data preparation in a container, inputs and outputs
under /opt/ml/processing/."""

from django.db import models

from domains.models import Domain, UserProfile
from jobs.models.base import JobIdentity
from jobs.models.training import JOB_TRANSITIONS
from studio.core.lifecycle import LifecycleModel


class ProcessingJob(JobIdentity, LifecycleModel):
    TRANSITIONS = JOB_TRANSITIONS
    RESOURCE_TYPE = "ProcessingJob"
    ARN_KIND = "processing-job"

    name = models.CharField(max_length=63)
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
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "name"], name="processing_job_name_unique_in_domain"
            )
        ]
        indexes = [models.Index(fields=["domain", "status"])]
