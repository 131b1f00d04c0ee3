"""The dashboard's jobs list: the training and processing jobs of a domain together, as rows
of one query, whatever the page holds."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Concat

from domains.models import UserProfile
from domains.permissions import User
from jobs.services.common import check_status
from jobs.services.processing import list_processing_jobs
from jobs.services.training import list_training_jobs
from studio.core.errors import AccessDenied, ValidationException


@dataclass(frozen=True)
class ListedKind:
    """One kind of job as the list holds it."""

    # "TrainingJob": how badges, events and the websocket name the kind.
    resource_type: str
    # Its List service, which decides who may list it and applies the filters.
    list_jobs: Callable[..., QuerySet]
    # The model's fields for when a job started and ended its work.
    start_field: str
    end_field: str


# By the name the list's Type filter uses, in the order the list asks for them.
KINDS = {
    "training": ListedKind(
        "TrainingJob", list_training_jobs, "training_start_time", "training_end_time"
    ),
    "processing": ListedKind(
        "ProcessingJob", list_processing_jobs, "processing_start_time", "processing_end_time"
    ),
}
# The columns, the same for both kinds so that one UNION query pages them together.
ROW_FIELDS = ("name", "status", "instance_type", "instance_count", "created_at", "profile_id")


def _rows(jobs: QuerySet, kind: ListedKind, domain_id: str) -> QuerySet:
    return jobs.order_by().values(
        *ROW_FIELDS,
        owner=F("profile__name"),
        # What the job's events say it is ("<domain id>/<name>"), for the live badge.
        resource_id=Concat(Value(f"{domain_id}/"), "name", output_field=CharField()),
        resource_type=Value(kind.resource_type, output_field=CharField()),
        started=F(kind.start_field),
        ended=F(kind.end_field),
    )


def list_jobs(
    actor: User,
    domain_id: str,
    *,
    kind: str = "",
    status: str = "",
    name_contains: str = "",
    owner: UserProfile | None = None,
) -> tuple[QuerySet, list[str]]:
    """Training and processing jobs of the domain (or of one `kind`) as one queryset of row
    dicts, newest first, and why a kind is missing (the actor may not list it). AccessDenied
    when no asked-for kind may be listed; ValidationException for a bad filter."""
    if kind and kind not in KINDS:
        raise ValidationException(f"Type must be one of {', '.join(KINDS)}.", "Type")
    check_status(status)
    parts, hidden = [], []
    for listed in KINDS.values() if not kind else [KINDS[kind]]:
        try:
            jobs = listed.list_jobs(
                actor, domain_id, status=status, name_contains=name_contains, owner=owner
            )
        except AccessDenied as denied:
            hidden.append(denied.message)
            continue
        parts.append(_rows(jobs, listed, domain_id))
    if not parts:
        raise AccessDenied(" ".join(hidden))
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return rows.order_by("-created_at", "name"), hidden
