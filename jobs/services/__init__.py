"""Service functions for workloads: the only code that changes their state."""

from jobs.services.datasets import (
    delete_dataset,
    describe_dataset,
    list_datasets,
    register_dataset,
    upload_dataset,
)
from jobs.services.training import (
    create_training_job,
    describe_training_job,
    list_training_jobs,
    stop_training_job,
)

__all__ = [
    "create_training_job",
    "delete_dataset",
    "describe_dataset",
    "describe_training_job",
    "list_datasets",
    "list_training_jobs",
    "register_dataset",
    "stop_training_job",
    "upload_dataset",
]
