"""Work lost to a crash (a message never delivered, a worker killed mid-task) is re-sent by the
beat reconciler, so nothing stays Pending or Deleting for good."""

from datetime import timedelta

import pytest
from django.utils import timezone

from domains.models import Domain, UserProfile
from domains.tasks import reconcile_tenancy
from tests.conftest import gone, settled

pytestmark = pytest.mark.usefixtures("live")


def _stale(**fields):
    return {"last_modified_at": timezone.now() - timedelta(minutes=5), **fields}


def test_stale_pending_domain_and_profile_are_provisioned(bob):
    # Rows as a crash leaves them: committed, but their provisioning task lost.
    domain = Domain.objects.create(name="orphan", **_stale(status="Pending"))
    profile = UserProfile.objects.create(
        domain=domain, name="bob", user=bob, home_uid=299_999, **_stale(status="Pending")
    )
    # Provisioning a profile needs its domain volume; the retried profile task creates it.
    reconcile_tenancy.delay()
    settled(domain)
    settled(profile)
    assert profile.home_directory.is_dir()


def test_stale_deleting_domain_is_finished(root):
    domain = Domain.objects.create(
        name="half-deleted", home_retention="Delete", **_stale(status="Deleting")
    )
    domain.home_volume.mkdir(parents=True)
    assert reconcile_tenancy() == 1  # run inline: it only re-sends, the worker does the work
    gone(Domain, domain.pk)
    assert not domain.home_volume.exists()


def test_fresh_transient_rows_are_left_to_their_own_tasks():
    Domain.objects.create(name="just-made", status="Pending")
    assert reconcile_tenancy() == 0
