"""Dataset: a CSV or Parquet file (or a folder of them) in the artifact store, with what an
upload found in it: size, row count, column types and the first rows."""

from django.db import models
from django.utils import timezone

from domains.models import Domain, UserProfile
from studio.core.events import domain_group, resource_group


class DatasetFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


def dataset_prefix(domain_id: str, name: str) -> str:
    """Where uploads of dataset `name` live: the domain's bucket, one folder per dataset."""
    return f"s3://studio-{domain_id}/datasets/{name}/"


class Dataset(models.Model):
    RESOURCE_TYPE = "Dataset"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="datasets")
    owner = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=63)
    format = models.CharField(max_length=16, choices=DatasetFormat.choices)
    # An object (an upload) or a prefix (a processing job's output folder); either is what a
    # training job's channel takes as S3Uri.
    s3_uri = models.CharField(max_length=1024)
    size_bytes = models.BigIntegerField()
    row_count = models.BigIntegerField()
    # [{"name": ..., "type": "int" | "float" | "bool" | "string"}, ...]
    columns = models.JSONField(default=list)
    # The first rows (jobs.datasets.inspection.PREVIEW_ROWS), a list of cells each, in
    # column order.
    preview = models.JSONField(default=list)
    # Built-in algorithms read CSV without a header row; the page says which kind this is.
    has_header = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "name"], name="dataset_name_unique_in_domain")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def resource_id(self) -> str:
        return f"{self.domain.domain_id}/{self.name}"

    def event_groups(self) -> list[str]:
        return [
            domain_group(self.domain.domain_id),
            resource_group(self.RESOURCE_TYPE, self.resource_id),
        ]

    @property
    def managed_prefix(self) -> str:
        return dataset_prefix(self.domain.domain_id, self.name)

    @property
    def is_managed(self) -> bool:
        """Whether the files are the dataset's own (uploaded), not another resource's output
        that was registered in place: only its own files go when the dataset is deleted."""
        return self.s3_uri.startswith(self.managed_prefix)
