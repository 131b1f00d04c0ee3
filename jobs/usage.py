"""What a profile runs and has spent now, for its policy quotas."""

from collections import Counter
from decimal import Decimal

from django.utils import timezone

from domains.models import App, AppStatus, UserProfile
from domains.policy import Usage
from jobs.models import InstanceType, ProcessingJob, TrainingJob, TrainingJobStatus

ACTIVE = [TrainingJobStatus.IN_PROGRESS, TrainingJobStatus.STOPPING]
METERED = (TrainingJob, ProcessingJob)


def profile_usage(profile: UserProfile) -> Usage:
    running = [
        row
        for model in METERED
        for row in model.objects.filter(profile=profile, status__in=ACTIVE).values_list(
            "instance_type", "instance_count"
        )
    ]
    instances: Counter[str] = Counter()
    for instance_type, count in running:
        instances[instance_type] += count
    # A running JupyterLab app holds an instance too.
    for spec in App.objects.filter(
        space__owner=profile, status__in=[AppStatus.PENDING, AppStatus.IN_SERVICE]
    ).values_list("resource_spec", flat=True):
        instances[spec.get("InstanceType", "")] += 1
    return Usage(
        instances_by_type=dict(instances),
        concurrent_jobs=len(running),
        month_spend_usd=month_spend(profile),
    )


def month_spend(profile: UserProfile) -> Decimal:
    """Billable instance-seconds of this month's training jobs at their type's price."""
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    prices = dict(InstanceType.objects.values_list("name", "price_per_hour"))
    total = Decimal(0)
    for job in TrainingJob.objects.filter(profile=profile, created_at__gte=start):
        seconds = job.billable_seconds or 0
        total += prices.get(job.instance_type, Decimal(0)) * seconds / 3600
    return total
