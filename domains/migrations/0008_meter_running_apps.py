"""Meters for the apps already starting or serving when metering began, so that quotas keep
counting them."""

from django.db import migrations

HOLDING = ("Pending", "InService")


def open_meters(apps, schema_editor):
    App = apps.get_model("domains", "App")
    Meter = apps.get_model("metering", "Meter")
    running = App.objects.filter(status__in=HOLDING).select_related("space__domain", "space__owner")
    for app in running:
        domain_id = app.space.domain.domain_id
        Meter.objects.get_or_create(
            resource_type="App",
            resource_id=f"{domain_id}/{app.space.name}/{app.app_type}/{app.app_name}",
            ended_at=None,
            defaults={
                "kind": "app",
                "domain_id": domain_id,
                "user_profile": app.space.owner.name,
                "instance_type": app.resource_spec.get("InstanceType", ""),
                "started_at": app.last_modified_at,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0007_domain_account_id"),
        ("metering", "0001_initial"),
    ]

    operations = [migrations.RunPython(open_meters, migrations.RunPython.noop)]
