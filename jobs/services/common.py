"""What CreateTrainingJob and CreateProcessingJob check and do alike, and the filters their
List actions share."""

from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from domains.models import Domain, StudioStatus, UserProfile
from domains.permissions import User, authorize, enforce_quotas, profile_quotas
from domains.services.lookup import get_domain
from domains.services.roles import execution_role
from jobs.models import TrainingJobStatus as JobStatus
from metering import catalog, usage
from metering.catalog import InstanceType
from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from studio.core.lifecycle import record_creation, transition
from studio.core.queue import enqueue
from studio.core.shapes import validate
from studio.core.storage import artifact_store, domain_bucket

# All of one job's hosts run on this machine's runtime; more than this is a mistake.
MAX_INSTANCE_COUNT = 16
# The largest script a job takes from the dashboard's form, or is copied from by Start similar.
MAX_SCRIPT_BYTES = 1 * 2**20
# What SageMaker fills in when StoppingCondition.MaxRuntimeInSeconds is left out: one day.
SAGEMAKER_DEFAULT_MAX_RUNTIME = 86_400


def code_uri(domain_id: str, job_name: str, file_name: str) -> str:
    """Where code uploaded with a job's request is stored: under the job's name in its domain's
    bucket, as the SageMaker SDK uploads a job's code to its session's bucket."""
    return f"s3://{domain_bucket(domain_id)}/code/{job_name}/{file_name}"


@dataclass(frozen=True)
class Code:
    """Code uploaded with a job's request, to store at `uri` when the job is created."""

    uri: str
    content: BinaryIO
    # False: something already stored at `uri` belongs to someone else, and the job is refused.
    replace: bool


def role_arn() -> str:
    """A RoleArn for requests that leave it out (Studio's policies replace IAM roles)."""
    return f"arn:aws:iam::{settings.STUDIO_ACCOUNT_ID}:role/studio"


def with_role(request: Any, member: str, profile: UserProfile) -> Any:
    """`request` with `member` (RoleArn, ExecutionRoleArn) defaulting to `profile`'s execution
    role, in its domain's account, where the caller left it out."""
    if isinstance(request, dict) and member not in request:
        return {**request, member: execution_role(profile)}
    return request


def check_instances(instance_type: str, count: int, field: str) -> InstanceType:
    """The enabled catalog entry for `instance_type`, and a count within bounds."""
    found = catalog.offered(instance_type)
    if found is None:
        known = ", ".join(catalog.offered_names())
        raise ValidationException(
            f"InstanceType {instance_type!r} is not offered here; choose one of {known}.",
            f"{field}.InstanceType",
        )
    if not 1 <= count <= MAX_INSTANCE_COUNT:
        raise ValidationException(
            f"{field}.InstanceCount must be between 1 and {MAX_INSTANCE_COUNT}.",
            f"{field}.InstanceCount",
        )
    return found


def require_profile(profile: UserProfile | None, what: str) -> UserProfile:
    if profile is None:
        raise ValidationException(
            f"{what} run as a user profile; create one for yourself in this domain first.",
            "UserProfile",
        )
    return profile


def admit(
    domain: Domain, profile: UserProfile, model, name: str, instance_type: str, count: int
) -> None:
    """Checks made inside the creating transaction: the domain, the name, the quotas. A name
    is taken only by a job of the same domain (as SageMaker's by one of the same account): a
    name another domain uses is as free as one nobody uses, so a refusal tells a member
    nothing about other domains.

    The domain's row is locked first, so two creations in one domain are admitted one after
    the other: of two racing for one name, the second sees the first's job (ResourceInUse, not
    a constraint error), and quotas count both."""
    Domain.objects.select_for_update().filter(pk=domain.pk).values_list("pk").get()
    if domain.status != StudioStatus.IN_SERVICE:
        raise ResourceInUse(f"Domain {domain.domain_id} is {domain.status}; wait until InService.")
    if model.objects.filter(domain=domain, name=name).exists():
        label = model.RESOURCE_TYPE.removesuffix("Job")
        raise ResourceInUse(f"{label} job {name} already exists.")
    enforce_quotas(
        profile,
        usage.profile_usage(domain.domain_id, profile.name),
        domain_usage=usage.domain_usage(domain.domain_id),
        instance_type=instance_type,
        instance_count=count,
        starts_job=True,
    )


def check_max_runtime(profile: UserProfile, request: dict[str, Any]) -> None:
    """Refuse a StoppingCondition.MaxRuntimeInSeconds above the profile's ceiling (its policies'
    max_runtime_in_seconds, else STUDIO_DEFAULT_MAX_RUNTIME_SECONDS): no job holds an instance
    longer than its domain's admins allow. A request that leaves it out asks for SageMaker's
    default, one day."""
    ceiling = profile_quotas(profile).max_runtime_in_seconds
    condition = request.get("StoppingCondition", {})
    # A malformed condition is the request shape's to refuse, with its own message.
    seconds = (
        condition.get("MaxRuntimeInSeconds", SAGEMAKER_DEFAULT_MAX_RUNTIME)
        if isinstance(condition, dict)
        else None
    )
    if ceiling is None or not isinstance(seconds, int) or seconds <= ceiling.value:
        return
    raise ValidationException(
        f"StoppingCondition.MaxRuntimeInSeconds must be at most {ceiling.value} seconds here "
        f"({ceiling.source} sets this ceiling), not {seconds}.",
        "StoppingCondition.MaxRuntimeInSeconds",
    )


def insert_job(
    model,
    domain: Domain,
    profile: UserProfile,
    request: dict[str, Any],
    *,
    instance_type: str,
    count: int,
    runtime_state: dict[str, Any],
    task: str,
    code: Code | None = None,
):
    """Create an accepted job in one transaction: `admit` it, insert its row and record its
    creation, store its uploaded `code`, and send the worker `task` once all of it commits.
    Whatever refuses or fails on the way, neither the row nor the code is left."""
    name = request[f"{model.RESOURCE_TYPE}Name"]
    store = artifact_store()
    stored = False
    try:
        with transaction.atomic():
            admit(domain, profile, model, name, instance_type, count)
            job = model.objects.create(
                name=name,
                domain=domain,
                profile=profile,
                request=request,
                status=JobStatus.IN_PROGRESS,
                instance_type=instance_type,
                instance_count=count,
                runtime_state=runtime_state,
            )
            record_creation(job)
            if code is not None:
                try:
                    store.put(code.uri, code.content, replace=code.replace)
                except ResourceInUse:
                    raise ResourceInUse(
                        f"A job named {name} has code stored already; pick another."
                    ) from None
                stored = True
            enqueue(task, job.pk)
    except BaseException:
        if stored:  # stored, but the transaction did not commit
            store.delete(code.uri)
        raise
    return job


def check_status(status: str | None) -> None:
    """Refuse a StatusEquals that no job has (both kinds share SageMaker's job statuses)."""
    if status and status not in JobStatus.values:
        raise ValidationException(
            f"StatusEquals must be one of {', '.join(JobStatus.values)}.", "StatusEquals"
        )


def list_jobs_of(
    model,
    actor: User,
    domain_id: str,
    *,
    status: str | None = None,
    name_contains: str | None = None,
    owner: UserProfile | None = None,
) -> QuerySet:
    """List{Training,Processing}Jobs: the domain's jobs of `model`, newest first, with the
    List actions' filters (`owner`: the dashboard's "mine")."""
    domain = get_domain(actor, domain_id)
    authorize(actor, f"sagemaker:List{model.RESOURCE_TYPE}s", domain=domain)
    check_status(status)
    jobs = model.objects.filter(domain=domain).select_related("profile")
    if status:
        jobs = jobs.filter(status=status)
    if name_contains:
        jobs = jobs.filter(name__icontains=name_contains)
    if owner is not None:
        jobs = jobs.filter(profile=owner)
    return jobs.order_by("-created_at")


def get_job(model, actor: User, domain_id: str, name: str):
    """The job named `name` in domain `domain_id`, if the actor can see that domain, else
    ResourceNotFound. Names are unique per domain only, so a job is always looked up in one
    domain: another domain's job of the same name is never it."""
    label = model.RESOURCE_TYPE.removesuffix("Job")
    validate(name, f"{model.RESOURCE_TYPE}Name", f"{model.RESOURCE_TYPE}Name")
    domain = get_domain(actor, domain_id)
    job = model.objects.select_related("domain", "profile").filter(domain=domain, name=name).first()
    if job is None:
        raise ResourceNotFound(f"{label} job {name} does not exist.")
    return job


def request_stop(model, actor: User, domain_id: str, name: str, task: str) -> Any:
    """Stop{Training,Processing}Job: mark the job Stopping; its watcher stops the containers
    (SIGTERM, then SIGKILL) on its next poll. `task` is sent too, so that a stop works even
    while the watcher is lost (the lease makes a second watcher a no-op); it is the task's name."""
    job = get_job(model, actor, domain_id, name)
    authorize(actor, f"sagemaker:Stop{model.RESOURCE_TYPE}", domain=job.domain, owner=job.profile)
    with transaction.atomic():
        if job.status != JobStatus.IN_PROGRESS:
            label = model.RESOURCE_TYPE.removesuffix("Job")
            raise ValidationException(
                f"{label} job {name} is {job.status}; only InProgress jobs can be stopped.",
                f"{model.RESOURCE_TYPE}Name",
            )
        transition(job, JobStatus.STOPPING)
        enqueue(task, job.pk)
    return job
