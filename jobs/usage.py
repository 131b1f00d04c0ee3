"""What a profile runs and has spent now, for its policy quotas."""

from collections import Counter
from decimal import Decimal

from django.utils import timezone

from domains.models import App, AppStatus, Domain, UserProfile
from domains.policy import Usage
from jobs.models import InstanceType, ProcessingJob, TrainingJob, TrainingJobStatus

ACTIVE = [TrainingJobStatus.IN_PROGRESS, TrainingJobStatus.STOPPING]
METERED = (TrainingJob, ProcessingJob)
RUNNING_APPS = [AppStatus.PENDING, AppStatus.IN_SERVICE]


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
    apps = list(
        App.objects.filter(space__owner=profile, status__in=RUNNING_APPS).values_list(
            "resource_spec", flat=True
        )
    )
    for spec in apps:
        instances[spec.get("InstanceType", "")] += 1
    return Usage(
        instances_by_type=dict(instances),
        concurrent_jobs=len(running),
        concurrent_apps=len(apps),
        month_spend_usd=month_spend(profile),
    )


def domain_usage(domain: Domain) -> Usage:
    """What all of a domain's profiles run now, for the domain's quotas."""
    return Usage(
        concurrent_jobs=sum(
            model.objects.filter(domain=domain, status__in=ACTIVE).count() for model in METERED
        ),
        concurrent_apps=App.objects.filter(space__domain=domain, status__in=RUNNING_APPS).count(),
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
