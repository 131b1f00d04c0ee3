"""Service functions for workloads: the only code that changes their state."""

from jobs.services.datasets import (
    delete_dataset,
    describe_dataset,
    list_datasets,
    register_dataset,
    upload_dataset,
)
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
    stop_training_job,
)

__all__ = [
    "create_processing_job",
    "create_training_job",
    "delete_dataset",
    "describe_dataset",
    "describe_processing_job",
    "describe_training_job",
    "list_datasets",
    "list_processing_jobs",
    "list_training_jobs",
    "register_dataset",
    "stop_processing_job",
    "stop_training_job",
    "upload_dataset",
]
