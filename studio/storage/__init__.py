"""The artifact store: where datasets, job inputs and job outputs live (DESIGN.md §3.6).

`s3://bucket/key` URIs resolve through the store; the local backend (the default) keeps
`s3://bucket/key` at `$STUDIO_DATA_DIR/artifacts/bucket/key`. `file://` URIs are accepted where
SageMaker's local mode accepts them, and name a path on the worker's host.
"""

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlparse

from django.conf import settings

from studio.errors import AccessDenied, ValidationException

BUCKET_RULE = "3-63 lowercase letters, digits, dots and hyphens"
# Each domain's own bucket is s3://studio-<domain id>/; every bucket so named is reserved to
# its domain. Buckets named otherwise are shared by all domains, as buckets in one AWS account.
DOMAIN_BUCKET_PREFIX = "studio-"
CHUNK = 1024 * 1024


def root() -> Path:
    return Path(settings.DATA_DIR) / "artifacts"


def local_path(uri: str, field: str = "S3Uri") -> Path:
    """The local path an `s3://` or `file://` URI names, refusing escapes from the store."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(parsed.path)
    if parsed.scheme != "s3":
        raise ValidationException(f"{field} must be an s3:// or file:// URI, not {uri!r}.", field)
    bucket = parsed.netloc
    if not (3 <= len(bucket) <= 63) or not all(
        c.islower() or c.isdigit() or c in ".-" for c in bucket
    ):
        raise ValidationException(f"{field}: the bucket in {uri!r} must be {BUCKET_RULE}.", field)
    key = PurePosixPath(parsed.path.lstrip("/"))
    if any(part in {"..", "."} for part in key.parts):
        raise ValidationException(f"{field}: {uri!r} may not contain . or .. segments.", field)
    return root() / bucket / key


def domain_bucket(domain_id: str) -> str:
    return f"{DOMAIN_BUCKET_PREFIX}{domain_id}"


def check_access(uri: str, domain_id: str, field: str) -> None:
    """Refuse a URI that a job of domain `domain_id` may not read or write: another domain's
    bucket, or (unless an admin allows them) the worker host's own files."""
    parsed = urlparse(uri)
    if parsed.scheme == "file" and not settings.STUDIO_ALLOW_FILE_URIS:
        raise ValidationException(
            f"{field}: file:// URIs name files on the worker's host, which Studio does not open "
            "to jobs. Upload the data as a dataset and use its s3:// URI (on a single-user "
            "install an admin may set STUDIO_ALLOW_FILE_URIS=1).",
            field,
        )
    bucket = parsed.netloc
    if (
        parsed.scheme == "s3"
        and bucket.startswith(DOMAIN_BUCKET_PREFIX)
        and bucket != domain_bucket(domain_id)
    ):
        raise AccessDenied(
            f"{field}: bucket {bucket} belongs to another domain. Use this domain's bucket, "
            f"s3://{domain_bucket(domain_id)}/, or a shared one."
        )


def check_request_uris(request: object, domain_id: str, path: str = "") -> None:
    """`check_access` for every s3:// or file:// URI anywhere in a job request, under the
    name of the member that holds it."""
    if isinstance(request, dict):
        for key, value in request.items():
            check_request_uris(value, domain_id, f"{path}.{key}" if path else key)
    elif isinstance(request, list):
        for i, value in enumerate(request):
            check_request_uris(value, domain_id, f"{path}[{i}]")
    elif isinstance(request, str):
        value = request.strip('"')  # the SageMaker SDK sends hyperparameters JSON-encoded
        if value.startswith(("s3://", "file://")):
            check_access(value, domain_id, path)


def files_under(uri: str, field: str = "S3Uri") -> Iterator[tuple[str, Path]]:
    """(relative name, path) of every file an S3Prefix or S3 object URI names, as SageMaker
    takes a prefix: the object itself, or everything below it."""
    path = local_path(uri, field)
    if path.is_file():
        yield path.name, path
        return
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            yield str(file.relative_to(path)), file


def exists(uri: str, field: str = "S3Uri") -> bool:
    return any(True for _ in files_under(uri, field))


def put_file(source: Path, uri: str) -> Path:
    """Store `source` at `uri` (atomically: readers never see half a file)."""
    target = local_path(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return target


def put_stream(source: BinaryIO, uri: str, field: str = "S3Uri") -> Path:
    """Store what `source` yields at `uri`, atomically, without a copy on disk first: how
    content from a job's tree (read by the confined helper) reaches the store."""
    target = local_path(uri, field)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "xb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *parts])
