"""The model artifacts of the domain's completed training jobs, which the Models page and the
home page offer to deploy. Every read goes through `jobs.services`, which decides who may list
what."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from domains.models import UserProfile
from jobs.models import TrainingJob, TrainingJobStatus
from jobs.services import list_training_jobs

PAGE_SIZE = 25


def trained_models(request: HttpRequest, profile: UserProfile) -> QuerySet[TrainingJob]:
    """The profile's domain's completed training jobs that wrote a model, newest first: the
    runner sets `model_artifacts` when the job leaves model.tar.gz, which a model is made of.
    Raises AccessDenied when the profile may not list training jobs."""
    jobs = list_training_jobs(
        request.user, profile.domain.domain_id, status=TrainingJobStatus.COMPLETED
    )
    return jobs.exclude(model_artifacts="")


def model_row(job: TrainingJob) -> dict[str, Any]:
    """What a row of Models shows of one job's model."""
    algorithm = job.request["AlgorithmSpecification"]
    return {
        "job": job,
        "algorithm": algorithm.get("AlgorithmName", ""),
        "image": algorithm.get("TrainingImage", ""),
        "finished": job.training_end_time or job.last_modified_at,
    }
