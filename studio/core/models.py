"""What cuts across apps: the record of every lifecycle transition."""

from django.db import models


class StatusTransition(models.Model):
    """One status change of one resource: its status (`secondary` false) or its secondary
    status (a training job's Downloading, Training, Uploading...: SageMaker's
    SecondaryStatusTransitions). The one history every page and Describe reads."""

    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=256)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    reason = models.TextField(blank=True)  # the failure reason, or a secondary's message
    secondary = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["resource_type", "resource_id", "at"])]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id}: {self.from_status} → {self.to_status}"


class Bucket(models.Model):
    """An S3 bucket a domain created through Studio's S3 endpoint (docs/s3.md, "Buckets").

    Names are unique across the installation, as S3's are across all accounts. A domain's own
    `studio-<domain id>` bucket and `sagemaker-<region>-<account id>` (the SageMaker SDK's
    default bucket) belong to that domain by name, with or without a row here."""

    name = models.CharField(max_length=63, unique=True)
    domain = models.ForeignKey("domains.Domain", on_delete=models.CASCADE, related_name="buckets")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ObjectMetadata(models.Model):
    """What S3 keeps about an object beside its bytes (its ETag, Content-Type, x-amz-meta-*
    and checksums). The bytes stay a plain file in the artifact store; this row is valid only
    while that file is the one it describes (same inode, size and mtime): an object a job
    rewrote has lost the metadata of the object it replaced, as on S3."""

    bucket = models.CharField(max_length=63)
    key = models.TextField()
    etag = models.CharField(max_length=64)
    content_type = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    checksums = models.JSONField(default=dict, blank=True)
    size = models.BigIntegerField()
    mtime_ns = models.BigIntegerField()
    inode = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "key"], name="unique_object_metadata")
        ]

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class MultipartUpload(models.Model):
    """An S3 multipart upload under way: its parts are files in
    `$STUDIO_DATA_DIR/s3-multipart/<upload id>/`, outside every bucket."""

    upload_id = models.CharField(max_length=64, unique=True)
    bucket = models.CharField(max_length=63)
    key = models.TextField()
    initiator = models.ForeignKey(
        "domains.UserProfile", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_type = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    checksum_algorithm = models.CharField(max_length=16, blank=True)
    initiated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["bucket", "key"])]

    def __str__(self) -> str:
        return f"{self.upload_id} (s3://{self.bucket}/{self.key})"


class UploadPart(models.Model):
    upload = models.ForeignKey(MultipartUpload, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    etag = models.CharField(max_length=64)
    size = models.BigIntegerField()
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "number"], name="unique_upload_part")
        ]

    def __str__(self) -> str:
        return f"part {self.number} of {self.upload_id}"
