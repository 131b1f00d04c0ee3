"""What a profile or a domain runs and has spent now, for their policies' quotas."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from metering.catalog import InstanceType
from metering.meters import Meter


@dataclass(frozen=True)
class Usage:
    """What a profile (or a domain) runs and has spent now."""

    instances_by_type: dict[str, int] = field(default_factory=dict)
    concurrent_jobs: int = 0
    concurrent_apps: int = 0
    month_spend_usd: Decimal = Decimal(0)


def profile_usage(domain_id: str, user_profile: str) -> Usage:
    running = Meter.objects.filter(
        domain_id=domain_id, user_profile=user_profile, ended_at__isnull=True
    )
    instances: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for kind, instance_type, count in running.values_list(
        "kind", "instance_type", "instance_count"
    ):
        instances[instance_type] += count
        kinds[kind] += 1
    return Usage(
        instances_by_type=dict(instances),
        concurrent_jobs=kinds[Meter.JOB],
        concurrent_apps=kinds[Meter.APP],
        month_spend_usd=month_spend(domain_id, user_profile),
    )


def domain_usage(domain_id: str) -> Usage:
    """What all of a domain's profiles run now, for the domain's quotas."""
    running = Meter.objects.filter(domain_id=domain_id, ended_at__isnull=True)
    return Usage(
        concurrent_jobs=running.filter(kind=Meter.JOB).count(),
        concurrent_apps=running.filter(kind=Meter.APP).count(),
    )


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_spend(domain_id: str, user_profile: str, now: datetime | None = None) -> Decimal:
    """This month's instance time of everything the profile ran (jobs and apps), each at its
    type's price per hour, up to `now`."""
    return sum(month_spend_by_resource(domain_id, user_profile, now).values(), Decimal(0))


def month_spend_by_resource(
    domain_id: str, user_profile: str | None = None, now: datetime | None = None
) -> dict[str, Decimal]:
    """`month_spend` split by what ran (the meters' resource type: TrainingJob, ProcessingJob,
    App); for all of the domain's profiles when `user_profile` is None."""
    now = now or timezone.now()
    start = month_start(now)
    prices = dict(InstanceType.objects.values_list("name", "price_per_hour"))
    meters = Meter.objects.filter(domain_id=domain_id).exclude(ended_at__lt=start)
    if user_profile is not None:
        meters = meters.filter(user_profile=user_profile)
    spend: dict[str, Decimal] = {}
    for meter in meters:
        seconds = Decimal(str(meter.seconds_between(start, now)))
        cost = prices.get(meter.instance_type, Decimal(0)) * seconds / 3600
        spend[meter.resource_type] = spend.get(meter.resource_type, Decimal(0)) + cost
    return spend
