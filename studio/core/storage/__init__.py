"""The artifact store: where datasets, job inputs and job outputs live (DESIGN.md §3.6).

`s3://bucket/key` URIs resolve through the store; the local backend (the default) keeps
`s3://bucket/key` at `$STUDIO_DATA_DIR/artifacts/bucket/key`. `file://` URIs are accepted where
SageMaker's local mode accepts them, name a path on the worker's host, and are refused unless an
admin sets STUDIO_ALLOW_FILE_URIS.

Every function here reads a URI with `uris.parse_uri`, the parser the access check uses, and
joins keys to the bucket's directory with `paths.safe_join` (docs/security.md, "URIs").

Reserved buckets: the `studio` bucket and every `studio-*` or `studio.*` bucket belong to the
platform. `studio-<domain id>` is that domain's own bucket; a job may name only its own domain's
(AccessDenied for the rest). Buckets named otherwise are shared by all domains, as buckets in
one AWS account are.
"""

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from studio.core.errors import AccessDenied, ValidationException
from studio.core.storage import paths
from studio.core.storage.uris import ParsedUri, names_storage, parse_uri

__all__ = ["ParsedUri", "parse_uri"]  # for readers that need the parts, not a path

DOMAIN_BUCKET_PREFIX = "studio-"
_RESERVED_BUCKET = re.compile(r"studio([.-].*)?")
CHUNK = 1024 * 1024


def root() -> Path:
    return Path(settings.DATA_DIR) / "artifacts"


def domain_bucket(domain_id: str) -> str:
    return f"{DOMAIN_BUCKET_PREFIX}{domain_id}"


def _refuse_host_files(parsed: ParsedUri, field: str) -> None:
    if parsed.scheme == "file" and not settings.STUDIO_ALLOW_FILE_URIS:
        raise ValidationException(
            f"{field}: file:// URIs name files on the worker's host, which Studio does not open "
            "to jobs. Upload the data as a dataset and use its s3:// URI (on a single-user "
            "install an admin may set STUDIO_ALLOW_FILE_URIS=1).",
            field,
        )


def local_path(uri: str, field: str = "S3Uri") -> Path:
    """The local path an `s3://` or `file://` URI names; never outside the bucket's directory.
    Host files are refused here too, not only by the access check: a reader that was handed a
    URI no check saw still cannot open the host."""
    parsed = parse_uri(uri, field)
    _refuse_host_files(parsed, field)
    if parsed.scheme == "file":
        return Path(parsed.key)
    bucket = root() / parsed.bucket
    return paths.safe_join(bucket, parsed.key, field) if parsed.key else bucket


def check_access(uri: str, domain_id: str, field: str) -> ParsedUri:
    """Refuse a URI that a job of domain `domain_id` may not read or write: a malformed one,
    another domain's or the platform's bucket, or (unless an admin allows them) the worker
    host's own files. The URI as every reader will parse it, otherwise."""
    parsed = parse_uri(uri, field)
    _refuse_host_files(parsed, field)
    own = domain_bucket(domain_id)
    if parsed.scheme == "s3" and _RESERVED_BUCKET.fullmatch(parsed.bucket) and parsed.bucket != own:
        raise AccessDenied(
            f"{field}: bucket {parsed.bucket} belongs to another domain or to the platform. "
            f"Use this domain's bucket, s3://{own}/, or a shared one."
        )
    return parsed


def check_request_uris(request: object, domain_id: str, path: str = "") -> None:
    """`check_access` for every value anywhere in a job request that a reader of the store
    would take as a URI (whatever its case, surrounding space or JSON quoting), under the name
    of the member that holds it."""
    if isinstance(request, dict):
        for key, value in request.items():
            check_request_uris(value, domain_id, f"{path}.{key}" if path else key)
    elif isinstance(request, list):
        for i, value in enumerate(request):
            check_request_uris(value, domain_id, f"{path}[{i}]")
    elif isinstance(request, str) and names_storage(request):
        check_access(request, domain_id, path)


def files_under(uri: str, field: str = "S3Uri") -> Iterator[tuple[str, Path]]:
    """(relative name, path) of every file an S3Prefix or S3 object URI names, as SageMaker
    takes a prefix: the object itself, or everything below it. Links are never followed nor
    listed: the store holds files and directories only."""
    path = local_path(uri, field)
    if path.is_symlink():
        return
    if path.is_file():
        yield path.name, path
        return
    if not path.is_dir():
        return
    found = []
    for directory, _, names in os.walk(path):  # followlinks=False: linked directories stay shut
        for name in names:
            file = Path(directory) / name
            if not file.is_symlink() and file.is_file():
                found.append((str(file.relative_to(path)), file))
    yield from sorted(found)


def exists(uri: str, field: str = "S3Uri") -> bool:
    return any(True for _ in files_under(uri, field))


def put_file(source: Path, uri: str, field: str = "S3Uri") -> Path:
    """Store `source` at `uri` (atomically: readers never see half a file)."""
    target = local_path(uri, field)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        shutil.copyfile(source, tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
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


def join(uri: str, *parts: str, field: str = "S3Uri") -> str:
    """`uri` with `parts` appended as key segments, in the parser's form: `" S3://b/x"`
    and `"a"` give `s3://b/x/a`. Parts that would break a key rule (`..`, empty) are refused."""
    base = str(parse_uri(uri, field))
    joined = base + ("" if base.endswith("/") else "/") + "/".join(parts)
    parse_uri(joined, field)
    return joined
