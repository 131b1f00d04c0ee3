"""The instance-type catalog now belongs to `metering` (its 0001 renamed the table)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0007_job_names_unique_in_domain"),
        ("metering", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("InstanceType")])
    ]
