"""Service functions for workloads: the only code that changes their state."""

from jobs.services.datasets import (
    delete_dataset,
    describe_dataset,
    list_datasets,
    register_dataset,
    upload_dataset,
)
from jobs.services.listing import list_jobs
from jobs.services.logs import job_log_tails, open_job_log
from jobs.services.processing import (
    create_processing_job,
    describe_processing_job,
    list_processing_jobs,
    stop_processing_job,
)
from jobs.services.training import (
    create_training_job,
    describe_training_job,
    list_training_jobs,
    open_training_job_artifact,
    stop_training_job,
    training_job_artifacts,
)

__all__ = [
    "create_processing_job",
    "create_training_job",
    "delete_dataset",
    "describe_dataset",
    "describe_processing_job",
    "describe_training_job",
    "job_log_tails",
    "list_datasets",
    "list_jobs",
    "list_processing_jobs",
    "list_training_jobs",
    "open_job_log",
    "open_training_job_artifact",
    "register_dataset",
    "stop_processing_job",
    "stop_training_job",
    "training_job_artifacts",
    "upload_dataset",
]
