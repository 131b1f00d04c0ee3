"""Service functions for workloads: the only code that changes their state."""

from jobs.services.training import (
    create_training_job,
    describe_training_job,
    list_training_jobs,
    stop_training_job,
)

__all__ = [
    "create_training_job",
    "describe_training_job",
    "list_training_jobs",
    "stop_training_job",
]
