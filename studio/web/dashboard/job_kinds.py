"""The two kinds of job the dashboard shows, each described once: the list, the shared page
views (`job_pages`) and the page templates reach a kind through its `JobKind` instead of asking
which kind it is."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from domains.permissions import User
from jobs.services import (
    describe_processing_job,
    describe_training_job,
    list_processing_jobs,
    list_training_jobs,
    stop_processing_job,
    stop_training_job,
)


@dataclass(frozen=True)
class JobKind:
    """One kind of job, as the dashboard reaches it."""

    # "training": the list's type filter, and the prefix of the kind's URL names.
    slug: str
    # "TrainingJob": how badges, events and the websocket name the kind.
    resource_type: str
    # "Training job": how messages and pages name one.
    label: str
    # The jobs.services calls, each deciding who may do what: (actor, domain id[, job name]).
    list_jobs: Callable[[User, str], QuerySet]
    describe: Callable[[User, str, str], Any]
    stop: Callable[[User, str, str], Any]
    # The model's fields for when the job started and ended its work.
    start_field: str
    end_field: str

    @property
    def plural(self) -> str:
        return f"{self.label}s"

    @property
    def page_view(self) -> str:
        return f"dashboard:{self.slug}_job"

    @property
    def stop_view(self) -> str:
        return f"dashboard:{self.slug}_job_stop"

    @property
    def log_view(self) -> str:
        return f"dashboard:{self.slug}_job_log"


TRAINING = JobKind(
    slug="training",
    resource_type="TrainingJob",
    label="Training job",
    list_jobs=list_training_jobs,
    describe=describe_training_job,
    stop=stop_training_job,
    start_field="training_start_time",
    end_field="training_end_time",
)
PROCESSING = JobKind(
    slug="processing",
    resource_type="ProcessingJob",
    label="Processing job",
    list_jobs=list_processing_jobs,
    describe=describe_processing_job,
    stop=stop_processing_job,
    start_field="processing_start_time",
    end_field="processing_end_time",
)
# By slug, in the order the list asks for them.
KINDS = {kind.slug: kind for kind in (TRAINING, PROCESSING)}
