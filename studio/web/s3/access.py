"""What every S3 action asks first: which bucket and key, whose bucket it is, whether the
caller's policy allows the action there, and where on the host it lives."""

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from domains.models import Domain
from domains.permissions import authorize
from studio.core.errors import AccessDenied, ValidationException
from studio.core.storage import parse_uri
from studio.core.storage.buckets import Owner, owner_of
from studio.core.storage.paths import relative_parts
from studio.core.storage.uris import MAX_KEY_BYTES
from studio.web.s3.auth import Signed
from studio.web.s3.xml import S3Error, access_denied, no_such_bucket


def artifacts_root() -> Path:
    """The local artifact store's root, the only backend the endpoint serves."""
    if settings.STUDIO_ARTIFACT_STORE != "local":
        raise S3Error(
            "NotImplemented",
            "Studio's S3 endpoint serves the local artifact store only "
            f"(STUDIO_ARTIFACT_STORE is {settings.STUDIO_ARTIFACT_STORE}).",
            501,
        )
    root = Path(settings.DATA_DIR) / "artifacts"
    root.mkdir(mode=0o755, exist_ok=True)
    return root


@dataclass(frozen=True)
class BucketAccess:
    """A bucket the caller may act on: its name, its owner (None: shared), and its directory."""

    name: str
    owner: Owner

    @property
    def root(self) -> Path:
        return artifacts_root() / self.name

    @property
    def domain(self) -> Domain | None:
        return self.owner.domain


def on_disk(bucket: str) -> bool:
    """Whether the bucket's directory is there (a real one: a link is no bucket)."""
    try:
        return os.path.isdir(artifacts_root() / bucket) and not os.path.islink(
            artifacts_root() / bucket
        )
    except OSError:
        return False


def check_policy(signed: Signed, action: str, domain: Domain | None) -> None:
    """AccessDenied unless the caller's policy allows `s3:<action>` in `domain` (its own,
    for a shared bucket)."""
    try:
        authorize(signed.caller.user, f"s3:{action}", domain=domain or signed.caller.profile.domain)
    except AccessDenied as refused:
        raise access_denied(refused.message) from None


def bucket(signed: Signed, name: str, action: str, *, exists: bool = True) -> BucketAccess:
    """The bucket `name` if the caller may do `action` on it: another domain's or the
    platform's is AccessDenied, as a bucket of another AWS account is; with `exists`, one that
    is not there is NoSuchBucket."""
    owner = owner_of(name)
    if owner.platform or (
        owner.domain is not None and owner.domain.pk != signed.caller.profile.domain.pk
    ):
        raise access_denied()
    if exists and not (owner.created or on_disk(name)):
        raise no_such_bucket(name)
    check_policy(signed, action, owner.domain)
    return BucketAccess(name, owner)


def key_parts(bucket_name: str, key: str) -> tuple[str, ...]:
    """The path components of `key`, checked by the store's own URI and name rules: the same
    key a job could name. S3's error for a key the store cannot hold."""
    if len(key.encode()) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long", MaxSizeAllowed=str(MAX_KEY_BYTES))
    if not key or key.endswith("/"):
        raise S3Error(
            "InvalidArgument",
            "Studio's store holds objects only at keys that do not end with '/'.",
            ArgumentName="key",
        )
    try:
        parse_uri(f"s3://{bucket_name}/{key}", "Key")
        return relative_parts(key, "Key")
    except ValidationException as refused:
        raise S3Error("InvalidArgument", refused.message, ArgumentName="key") from None


def check_expected_owner(signed: Signed, name: str, expected: str) -> None:
    """AccessDenied unless `expected` (x-amz-expected-bucket-owner) is the account id of the
    bucket's domain (the caller's own, for a shared bucket), as S3 checks it on every action."""
    owner = owner_of(name)
    account = (owner.domain or signed.caller.profile.domain).account_id
    if owner.platform or expected != account:
        raise access_denied()


def check_bucket_name(name: str) -> None:
    """InvalidBucketName for a name the store cannot hold (its URI rules: 3-63 lowercase
    letters, digits, dots and hyphens), before it reaches a query or a path."""
    try:
        parse_uri(f"s3://{name}/", "Bucket")
    except ValidationException:
        raise S3Error(
            "InvalidBucketName", "The specified bucket is not valid.", BucketName=name
        ) from None
