"""The two kinds of job the dashboard shows, each described once: the list, the shared page
views (`job_pages`) and the page templates reach a kind through its `JobKind` instead of asking
which kind it is."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domains.permissions import User
from jobs.services import (
    create_processing_job,
    create_training_job,
    describe_processing_job,
    describe_training_job,
    listing,
    stop_processing_job,
    stop_training_job,
)


@dataclass(frozen=True)
class JobKind:
    """One kind of job, as the dashboard reaches it."""

    # "training": the list's type filter, and the prefix of the kind's URL names.
    slug: str
    # "Training job": how messages and pages name one.
    label: str
    # The jobs.services calls, each deciding who may do what: (actor, domain id, job name),
    # and for `create` (actor, domain id, request, code=the uploaded script).
    describe: Callable[[User, str, str], Any]
    stop: Callable[[User, str, str], Any]
    create: Callable[..., Any]

    @property
    def resource_type(self) -> str:
        """ "TrainingJob": how badges, events and the websocket name the kind."""
        return listing.KINDS[self.slug].resource_type

    @property
    def start_field(self) -> str:
        """The model's field for when a job started its work (`end_field`: ended it)."""
        return listing.KINDS[self.slug].start_field

    @property
    def end_field(self) -> str:
        return listing.KINDS[self.slug].end_field

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
    label="Training job",
    describe=describe_training_job,
    stop=stop_training_job,
    create=create_training_job,
)
PROCESSING = JobKind(
    slug="processing",
    label="Processing job",
    describe=describe_processing_job,
    stop=stop_processing_job,
    create=create_processing_job,
)
# By slug, in the order the list asks for them.
KINDS = {kind.slug: kind for kind in (TRAINING, PROCESSING)}
