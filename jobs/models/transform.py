"""TransformJob, in SageMaker's shape: a hosting Model's serving container run over every
record of the objects under an S3 prefix, the answers written beside them as `<name>.out`."""

from django.db import models

from domains.models import Domain, UserProfile
from jobs.models.base import JobIdentity
from jobs.models.training import JOB_TRANSITIONS
from studio.core.lifecycle import LifecycleModel


class TransformJob(JobIdentity, LifecycleModel):
    TRANSITIONS = JOB_TRANSITIONS
    RESOURCE_TYPE = "TransformJob"
    ARN_KIND = "transform-job"

    name = models.CharField(max_length=63)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="transform_jobs")
    profile = models.ForeignKey(
        UserProfile, on_delete=models.CASCADE, related_name="transform_jobs"
    )
    # The CreateTransformJob request as accepted, for Describe.
    request = models.JSONField()
    instance_type = models.CharField(max_length=32)
    instance_count = models.PositiveSmallIntegerField(default=1)
    # The worker's: the runtime, the model as it was when the job was accepted, the
    # containers per host, the input objects and how far the transform has read them.
    runtime_state = models.JSONField(default=dict, blank=True)
    transform_start_time = models.DateTimeField(null=True, blank=True)
    transform_end_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "name"], name="transform_job_name_unique_in_domain"
            )
        ]
        indexes = [models.Index(fields=["domain", "status"])]

    @property
    def model_name(self) -> str:
        return self.request["ModelName"]
