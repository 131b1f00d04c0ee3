"""Meters for the jobs already running when metering began, so that quotas keep counting them."""

from django.db import migrations

HOLDING = ("InProgress", "Stopping")


def open_meters(apps, schema_editor):
    Meter = apps.get_model("metering", "Meter")
    for model_name, resource_type in (("TrainingJob", "TrainingJob"), ("ProcessingJob", "ProcessingJob")):
        model = apps.get_model("jobs", model_name)
        for job in model.objects.filter(status__in=HOLDING).select_related("domain", "profile"):
            Meter.objects.get_or_create(
                resource_type=resource_type,
                resource_id=f"{job.domain.domain_id}/{job.name}",
                ended_at=None,
                defaults={
                    "kind": "job",
                    "domain_id": job.domain.domain_id,
                    "user_profile": job.profile.name,
                    "instance_type": job.instance_type,
                    "instance_count": job.instance_count,
                    "started_at": job.created_at,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0008_instance_types_moved_to_metering"),
        ("metering", "0001_initial"),
    ]

    operations = [migrations.RunPython(open_meters, migrations.RunPython.noop)]
