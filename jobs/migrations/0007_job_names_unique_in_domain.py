"""Job names become unique per domain (as SageMaker's per account). Names were unique across
the installation until now, so each old name maps to one job: its recorded transitions are
re-keyed to the job's new resource id ("<domain id>/<name>"), and its directory on the host
moves to where the worker now looks (jobs/<kind>/<domain id>/<name>)."""

import os
from pathlib import Path

from django.conf import settings
from django.db import migrations, models

KINDS = (("TrainingJob", "trainingjob", "training"), ("ProcessingJob", "processingjob", "processing"))


def rekey(apps, schema_editor):
    StatusTransition = apps.get_model("studio", "StatusTransition")
    for resource_type, model_name, _ in KINDS:
        model = apps.get_model("jobs", model_name)
        for name, domain_id in model.objects.values_list("name", "domain__domain_id"):
            StatusTransition.objects.filter(resource_type=resource_type, resource_id=name).update(
                resource_id=f"{domain_id}/{name}"
            )


def move_directories(apps, schema_editor):
    """In two steps: a job may be named like a domain id, so its old directory can stand
    where a domain's new one goes."""
    root = Path(settings.DATA_DIR) / "jobs"
    moves = []
    for _, model_name, directory in KINDS:
        model = apps.get_model("jobs", model_name)
        for name, domain_id in model.objects.values_list("name", "domain__domain_id"):
            old = root / directory / name
            if old.is_dir() and not old.is_symlink():
                parked = root / directory / f".moving-{name}"
                os.rename(old, parked)
                moves.append((parked, root / directory / domain_id / name))
    for parked, new in moves:
        new.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.rename(parked, new)


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0007_domain_account_id"),
        ("jobs", "0006_seed_images"),
        ("studio", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="processingjob",
            name="name",
            field=models.CharField(max_length=63),
        ),
        migrations.AlterField(
            model_name="trainingjob",
            name="name",
            field=models.CharField(max_length=63),
        ),
        migrations.AddConstraint(
            model_name="processingjob",
            constraint=models.UniqueConstraint(
                fields=("domain", "name"), name="processing_job_name_unique_in_domain"
            ),
        ),
        migrations.AddConstraint(
            model_name="trainingjob",
            constraint=models.UniqueConstraint(
                fields=("domain", "name"), name="training_job_name_unique_in_domain"
            ),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
        migrations.RunPython(move_directories, migrations.RunPython.noop),
    ]
