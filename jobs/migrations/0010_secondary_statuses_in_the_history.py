"""Training jobs' secondary statuses move from a JSON list on the job to the lifecycle's one
history (StatusTransition rows marked `secondary`), which the job pages and Describe read."""

from datetime import datetime

from django.db import migrations


def into_history(apps, schema_editor):
    TrainingJob = apps.get_model("jobs", "TrainingJob")
    StatusTransition = apps.get_model("studio", "StatusTransition")
    for job in TrainingJob.objects.select_related("domain").exclude(
        secondary_status_transitions=[]
    ):
        previous = ""
        for step in job.secondary_status_transitions:
            row = StatusTransition.objects.create(
                resource_type="TrainingJob",
                resource_id=f"{job.domain.domain_id}/{job.name}",
                from_status=previous,
                to_status=step["Status"],
                reason=step.get("StatusMessage", ""),
                secondary=True,
            )
            # `at` is set on creation; the step's own start is its time.
            StatusTransition.objects.filter(pk=row.pk).update(
                at=datetime.fromisoformat(step["StartTime"])
            )
            previous = step["Status"]


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0009_meter_running_jobs"),
        ("studio", "0002_secondary_statuses"),
    ]

    operations = [
        migrations.RunPython(into_history, migrations.RunPython.noop),
        migrations.RemoveField(model_name="trainingjob", name="secondary_status_transitions"),
    ]
