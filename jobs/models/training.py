"""TrainingJob, in SageMaker's shape: the request as given, status, secondary status with
timestamps, and what the run produced."""

from django.db import models
from django.utils import timezone

from domains.models import Domain, UserProfile
from jobs.models.base import JobIdentity
from studio.core.lifecycle import LifecycleModel


class TrainingJobStatus(models.TextChoices):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


T = TrainingJobStatus
JOB_TRANSITIONS = {
    T.IN_PROGRESS: {T.COMPLETED, T.FAILED, T.STOPPING, T.STOPPED},
    T.STOPPING: {T.STOPPED, T.FAILED, T.COMPLETED},
}


class TrainingJob(JobIdentity, LifecycleModel):
    TRANSITIONS = JOB_TRANSITIONS
    RESOURCE_TYPE = "TrainingJob"
    ARN_KIND = "training-job"

    name = models.CharField(max_length=63)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="training_jobs")
    profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="training_jobs")
    # The CreateTrainingJob request as accepted (with defaults filled in), for Describe.
    request = models.JSONField()
    # Its history is the lifecycle's (`transitions(secondary=True)`), recorded by
    # `lifecycle.record_secondary`.
    secondary_status = models.CharField(max_length=32, default="Starting")
    instance_type = models.CharField(max_length=32)
    instance_count = models.PositiveSmallIntegerField(default=1)
    # The runtime that runs it and that runtime's container ids per host: an opaque blob the
    # worker owns, as a JupyterHub spawner's state.
    runtime_state = models.JSONField(default=dict, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    model_artifacts = models.CharField(max_length=1024, blank=True)
    final_metrics = models.JSONField(default=list, blank=True)
    training_start_time = models.DateTimeField(null=True, blank=True)
    training_end_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "name"], name="training_job_name_unique_in_domain"
            )
        ]
        indexes = [models.Index(fields=["domain", "status"]), models.Index(fields=["profile"])]

    @property
    def training_seconds(self) -> int | None:
        if self.training_start_time is None:
            return None
        end = self.training_end_time or timezone.now()
        return max(0, int((end - self.training_start_time).total_seconds()))

    @property
    def billable_seconds(self) -> int | None:
        seconds = self.training_seconds
        return None if seconds is None else seconds * self.instance_count

    @property
    def secondary_status_transitions(self) -> list[dict[str, str]]:
        """SageMaker's SecondaryStatusTransitions, from the job's history: each step ends when
        the next begins, the last when the job has ended."""
        steps = list(self.transitions(secondary=True))
        ended = self.status not in (TrainingJobStatus.IN_PROGRESS, TrainingJobStatus.STOPPING)
        transitions = []
        for i, step in enumerate(steps):
            end = steps[i + 1].at if i + 1 < len(steps) else (step.at if ended else None)
            transitions.append(
                {
                    "Status": step.to_status,
                    "StartTime": step.at.isoformat(),
                    **({"EndTime": end.isoformat()} if end else {}),
                    "StatusMessage": step.reason,
                }
            )
        return transitions


class MetricPoint(models.Model):
    """One value of one metric, as a MetricDefinitions regex found it in the log."""

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=255)
    value = models.FloatField()
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [models.Index(fields=["job", "name", "timestamp"])]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
