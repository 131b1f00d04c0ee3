"""Metering (metering/): a resource's meter opens and closes with the statuses that hold
instances, and a month's spend counts every kind of resource that ran: training jobs,
processing jobs and apps."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domains.models import App, AppStatus, Space
from jobs.models import ProcessingJob, TrainingJob, TrainingJobStatus
from metering.meters import Meter
from metering.usage import domain_usage, month_spend, month_start, profile_usage
from studio.core.lifecycle import record_creation, transition

pytestmark = pytest.mark.usefixtures("instance_types")


def job(model, profile, name: str, instance_type: str = "ml.m5.large", count: int = 1):
    created = model.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request={},
        instance_type=instance_type,
        instance_count=count,
        status=TrainingJobStatus.IN_PROGRESS,
    )
    record_creation(created)
    return created


def app(profile, instance_type: str = "ml.t3.medium") -> App:
    space = Space.objects.create(
        domain=profile.domain, name=f"{profile.name}-space", owner=profile, status="InService"
    )
    created = App.objects.create(
        space=space, status=AppStatus.PENDING, resource_spec={"InstanceType": instance_type}
    )
    record_creation(created)
    return created


def meters_of(resource) -> list[Meter]:
    return list(
        Meter.objects.filter(
            resource_type=resource.RESOURCE_TYPE, resource_id=resource.resource_id
        ).order_by("id")
    )


# A clock for spend: the middle of a month.
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def ran(resource, hours_ago: float, lasting: float) -> None:
    """Make the resource's (only) meter start `hours_ago` before NOW and last `lasting` hours."""
    started = NOW - timedelta(hours=hours_ago)
    Meter.objects.filter(resource_id=resource.resource_id).update(
        started_at=started, ended_at=started + timedelta(hours=lasting)
    )


def test_a_jobs_meter_opens_when_it_is_created_and_closes_when_it_ends(alice_profile):
    training = job(TrainingJob, alice_profile, "train-1", count=2)

    (meter,) = meters_of(training)
    assert meter.ended_at is None and meter.kind == Meter.JOB
    assert (meter.domain_id, meter.user_profile) == (alice_profile.domain.domain_id, "alice")
    assert (meter.instance_type, meter.instance_count) == ("ml.m5.large", 2)
    usage = profile_usage(alice_profile.domain.domain_id, "alice")
    assert usage.concurrent_jobs == 1 and usage.instances_by_type == {"ml.m5.large": 2}

    transition(training, TrainingJobStatus.STOPPING)
    assert meters_of(training)[0].ended_at is None  # still holding its instances
    transition(training, TrainingJobStatus.STOPPED)

    assert meters_of(training)[0].ended_at is not None
    assert profile_usage(alice_profile.domain.domain_id, "alice").concurrent_jobs == 0


def test_an_app_started_again_opens_a_second_meter(alice_profile):
    lab = app(alice_profile)
    transition(lab, AppStatus.IN_SERVICE)
    assert domain_usage(alice_profile.domain.domain_id).concurrent_apps == 1
    transition(lab, AppStatus.DELETING)
    transition(lab, AppStatus.DELETED)
    assert domain_usage(alice_profile.domain.domain_id).concurrent_apps == 0

    lab.resource_spec = {"InstanceType": "ml.m5.xlarge"}
    lab.save(update_fields=["resource_spec"])
    transition(lab, AppStatus.PENDING)

    first, second = meters_of(lab)
    assert first.ended_at is not None and second.ended_at is None
    assert (first.instance_type, second.instance_type) == ("ml.t3.medium", "ml.m5.xlarge")
    assert profile_usage(alice_profile.domain.domain_id, "alice").concurrent_apps == 1


def test_month_spend_counts_processing_jobs_and_apps_as_well_as_training(alice_profile):
    training = job(TrainingJob, alice_profile, "train-1", "ml.m5.large", count=2)
    processing = job(ProcessingJob, alice_profile, "process-1", "ml.m5.xlarge")
    lab = app(alice_profile, "ml.t3.medium")
    ran(training, hours_ago=2, lasting=1)  # 2 instances x 1 h x $0.115
    ran(processing, hours_ago=2, lasting=0.5)  # 1 x 0.5 h x $0.23
    ran(lab, hours_ago=1, lasting=1)  # 1 x 1 h x $0.05

    spent = month_spend(alice_profile.domain.domain_id, "alice", now=NOW)

    assert spent.quantize(Decimal("0.0001")) == Decimal("0.3950")


def test_a_meter_begun_last_month_charges_only_this_months_part(alice_profile):
    training = job(TrainingJob, alice_profile, "train-1", "ml.m5.large")
    start = month_start(NOW)
    Meter.objects.filter(resource_id=training.resource_id).update(
        started_at=start - timedelta(hours=5), ended_at=start + timedelta(hours=1)
    )

    assert month_spend(alice_profile.domain.domain_id, "alice", now=NOW) == Decimal("0.115")


def test_a_running_jobs_meter_is_closed_when_its_profile_is_deleted(alice_profile):
    training = job(TrainingJob, alice_profile, "train-1")
    domain_id = alice_profile.domain.domain_id

    alice_profile.delete()

    assert meters_of(training)[0].ended_at is not None
    assert domain_usage(domain_id).concurrent_jobs == 0
