"""The artifact store: where datasets, job inputs and job outputs live (DESIGN.md §3.6).

`s3://bucket/key` URIs resolve through the store; the local backend (the default) keeps
`s3://bucket/key` at `$STUDIO_DATA_DIR/artifacts/bucket/key`. `file://` URIs are accepted where
SageMaker's local mode accepts them, and name a path on the worker's host.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from django.conf import settings

from studio.errors import ValidationException

BUCKET_RULE = "3-63 lowercase letters, digits, dots and hyphens"


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


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *parts])
