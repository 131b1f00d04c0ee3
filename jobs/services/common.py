"""What CreateTrainingJob and CreateProcessingJob check alike."""

from django.conf import settings

from domains.models import Domain, StudioStatus, UserProfile
from domains.permissions import enforce_quotas
from jobs.models import InstanceType
from jobs.usage import profile_usage
from studio.errors import ResourceInUse, ValidationException

# All of one job's hosts run on this machine's runtime; more than this is a mistake.
MAX_INSTANCE_COUNT = 16


def role_arn() -> str:
    """A RoleArn for requests that leave it out (Studio's policies replace IAM roles)."""
    return f"arn:aws:iam::{settings.STUDIO_ACCOUNT_ID}:role/studio"


def check_instances(instance_type: str, count: int, field: str) -> InstanceType:
    """The enabled catalog entry for `instance_type`, and a count within bounds."""
    found = InstanceType.objects.filter(name=instance_type, enabled=True).first()
    if found is None:
        known = ", ".join(InstanceType.objects.filter(enabled=True).values_list("name", flat=True))
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
    """Checks made inside the creating transaction: the domain, the name, the quotas."""
    if domain.status != StudioStatus.IN_SERVICE:
        raise ResourceInUse(f"Domain {domain.domain_id} is {domain.status}; wait until InService.")
    if model.objects.filter(name=name).exists():
        label = "Training" if model.RESOURCE_TYPE == "TrainingJob" else "Processing"
        raise ResourceInUse(f"{label} job {name} already exists.")
    enforce_quotas(
        profile,
        profile_usage(profile),
        instance_type=instance_type,
        instance_count=count,
        starts_job=True,
    )
