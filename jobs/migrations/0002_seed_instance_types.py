"""Seed the instance-type catalog (DESIGN.md §7); admins edit prices and types afterwards."""

from decimal import Decimal

from django.db import migrations

# name, vCPUs, memory GiB, GPUs, USD per hour (us-east-1 list prices, rounded)
CATALOG = [
    ("ml.t3.medium", 2, "4", 0, "0.05"),
    ("ml.t3.large", 2, "8", 0, "0.10"),
    ("ml.t3.xlarge", 4, "16", 0, "0.20"),
    ("ml.m5.large", 2, "8", 0, "0.115"),
    ("ml.m5.xlarge", 4, "16", 0, "0.23"),
    ("ml.m5.2xlarge", 8, "32", 0, "0.461"),
    ("ml.m5.4xlarge", 16, "64", 0, "0.922"),
    ("ml.c5.large", 2, "4", 0, "0.102"),
    ("ml.c5.xlarge", 4, "8", 0, "0.204"),
    ("ml.c5.2xlarge", 8, "16", 0, "0.408"),
    ("ml.r5.large", 2, "16", 0, "0.151"),
    ("ml.r5.xlarge", 4, "32", 0, "0.302"),
    ("ml.g4dn.xlarge", 4, "16", 1, "0.736"),
    ("ml.g5.xlarge", 4, "16", 1, "1.41"),
    ("ml.p3.2xlarge", 8, "61", 1, "3.825"),
]


def seed(apps, schema_editor):
    InstanceType = apps.get_model("jobs", "InstanceType")
    for name, vcpus, memory, gpus, price in CATALOG:
        InstanceType.objects.update_or_create(
            name=name,
            defaults={
                "vcpus": vcpus,
                "memory_gib": Decimal(memory),
                "gpus": gpus,
                "price_per_hour": Decimal(price),
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("jobs", "InstanceType").objects.filter(
        name__in=[row[0] for row in CATALOG]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
