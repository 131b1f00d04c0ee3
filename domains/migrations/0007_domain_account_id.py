"""Each domain gets its own 12-digit account id for its ARNs: existing domains draw one at
random (unique among them), new ones at creation."""

import secrets
import string

from django.db import migrations, models

import domains.models


def assign_account_ids(apps, schema_editor):
    Domain = apps.get_model("domains", "Domain")
    taken: set[str] = set()
    for domain in Domain.objects.all():
        account_id = ""
        while not account_id or account_id in taken:
            account_id = "".join(secrets.choice(string.digits) for _ in range(12))
        taken.add(account_id)
        domain.account_id = account_id
        domain.save(update_fields=["account_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0006_policy_app_and_runtime_quotas"),
    ]

    operations = [
        migrations.AddField(
            model_name="domain",
            name="account_id",
            field=models.CharField(editable=False, max_length=12, null=True),
        ),
        migrations.RunPython(assign_account_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="domain",
            name="account_id",
            field=models.CharField(
                default=domains.models.new_account_id,
                editable=False,
                max_length=12,
                unique=True,
            ),
        ),
    ]
