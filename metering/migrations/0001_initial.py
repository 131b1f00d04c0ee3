"""The instance-type catalog moves here from `jobs` (its rows and ids kept; the table renamed),
and meters begin."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("jobs", "0007_job_names_unique_in_domain")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="InstanceType",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=32, unique=True)),
                        ("vcpus", models.PositiveSmallIntegerField()),
                        ("memory_gib", models.DecimalField(decimal_places=2, max_digits=7)),
                        ("gpus", models.PositiveSmallIntegerField(default=0)),
                        ("price_per_hour", models.DecimalField(decimal_places=4, max_digits=10)),
                        ("enabled", models.BooleanField(default=True)),
                    ],
                    options={"ordering": ["price_per_hour", "name"], "db_table": "jobs_instancetype"},
                ),
            ],
        ),
        migrations.AlterModelTable(name="instancetype", table=None),
        migrations.CreateModel(
            name="Meter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(choices=[("job", "Job"), ("app", "App")], max_length=8)),
                ("resource_type", models.CharField(max_length=64)),
                ("resource_id", models.CharField(max_length=256)),
                ("domain_id", models.CharField(max_length=64)),
                ("user_profile", models.CharField(max_length=64)),
                ("instance_type", models.CharField(max_length=32)),
                ("instance_count", models.PositiveIntegerField(default=1)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["domain_id", "user_profile", "ended_at"],
                        name="metering_me_domain__4ec21e_idx",
                    ),
                    models.Index(
                        fields=["resource_type", "resource_id"], name="metering_me_resourc_53be14_idx"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("ended_at__isnull", True)),
                        fields=("resource_type", "resource_id"),
                        name="one_open_meter_per_resource",
                    )
                ],
            },
        ),
    ]
