"""Register the built-in images (images/<name>/) as Image + version 1, so that admins see them
beside their own and training jobs may name them by ARN."""

from django.conf import settings
from django.db import migrations

# ImageName, DisplayName, Description, BaseImage (the reference `studio images build` tags)
BUILTIN_IMAGES = [
    (
        "sklearn",
        "scikit-learn",
        "Built-in: training (script mode and built-in algorithms) and serving with scikit-learn.",
        "studio/sklearn:latest",
    ),
    (
        "jupyter",
        "JupyterLab",
        "Built-in: JupyterLab with ipykernel, pandas, scikit-learn and matplotlib.",
        "studio/jupyter:latest",
    ),
]


def seed(apps, schema_editor):
    Image = apps.get_model("jobs", "Image")
    ImageVersion = apps.get_model("jobs", "ImageVersion")
    StatusTransition = apps.get_model("studio", "StatusTransition")
    for name, display_name, description, reference in BUILTIN_IMAGES:
        if Image.objects.filter(name__iexact=name).exists():
            continue  # an admin registered an image of that name first: theirs stays
        image = Image.objects.create(
            name=name,
            display_name=display_name,
            description=description,
            role_arn=f"arn:aws:iam::{settings.STUDIO_ACCOUNT_ID}:role/studio",
            status="CREATED",
            last_version=1,
        )
        ImageVersion.objects.create(image=image, version=1, base_image=reference, status="CREATED")
        # What studio.core.lifecycle.record_creation records (historical models cannot publish).
        StatusTransition.objects.bulk_create(
            [
                StatusTransition(resource_type="Image", resource_id=name, to_status="CREATED"),
                StatusTransition(
                    resource_type="ImageVersion", resource_id=f"{name}/1", to_status="CREATED"
                ),
            ]
        )


def unseed(apps, schema_editor):
    apps.get_model("jobs", "Image").objects.filter(
        name__in=[row[0] for row in BUILTIN_IMAGES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0005_images"), ("studio", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
