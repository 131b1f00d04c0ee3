"""Every dashboard page prints a moment the one way (studio/web/templatetags/when.py; issue 10,
item 8): "4 Mar 2026, 09:07" in a <time> carrying the ISO moment, and "… ago" only for a key's
last use, marked for live.js to keep current. No page keeps a format of its own."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from domains.models import AccessKey, Domain
from domains.services import create_access_key
from jobs.models import TrainingJob
from tests.integration.job_pages import dataset, html_of
from tests.integration.test_job_pages import make_job

MOMENT = datetime(2026, 3, 4, 9, 7, 5, tzinfo=UTC)
ISO = "2026-03-04T09:07:05+00:00"
PRINTED = f'<time datetime="{ISO}" title="{ISO}">4 Mar 2026, 09:07</time>'
# What the formats the pages had before printed: "Mar 4, 2026", "Mar 4, 09:07", "2026-03-04 09:07".
OTHER_FORMATS = re.compile(r"Mar 4\b|2026-03-04 09:07")

pytestmark = pytest.mark.usefixtures("instance_types")


def test_home_prints_the_domains_creation_and_a_models_end_the_one_way(
    client, alice, alice_profile
):
    Domain.objects.filter(pk=alice_profile.domain.pk).update(created_at=MOMENT)
    job = make_job(alice_profile, "trained", status="Completed", training_end_time=MOMENT)
    TrainingJob.objects.filter(pk=job.pk).update(model_artifacts="s3://out/model.tar.gz")
    client.force_login(alice)
    html = html_of(client, reverse("dashboard:home"))
    assert html.count(PRINTED) >= 2, "the domain's creation and the model's end"
    assert not OTHER_FORMATS.search(html)


def test_the_datasets_pages_print_when_a_dataset_was_made_the_one_way(client, alice, alice_profile):
    made = dataset(alice_profile, "iris", "s3://research-data/iris/")
    type(made).objects.filter(pk=made.pk).update(created_at=MOMENT)
    client.force_login(alice)
    for url in (
        reverse("dashboard:datasets"),
        reverse("dashboard:dataset", args=[alice_profile.domain.domain_id, "iris"]),
    ):
        html = html_of(client, url)
        assert PRINTED in html, url
        assert not OTHER_FORMATS.search(html), url


def test_a_keys_creation_is_absolute_and_its_last_use_relative_and_kept_current(
    client, alice, alice_profile
):
    key, _ = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    used = timezone.now() - timedelta(minutes=3)
    AccessKey.objects.filter(pk=key.pk).update(created_at=MOMENT, last_used_at=used)
    client.force_login(alice)
    html = html_of(client, reverse("dashboard:keys"))
    assert PRINTED in html
    used_iso = used.isoformat(timespec="seconds")
    assert f'<time datetime="{used_iso}" title="{used_iso}" data-relative>3 min ago</time>' in html
    assert not OTHER_FORMATS.search(html)
