"""Object actions: PutObject, GetObject, HeadObject, CopyObject, DeleteObject(s), and the
metadata S3 keeps beside an object's bytes (`studio.core.models.ObjectMetadata`)."""

import asyncio
import errno
import hashlib
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import unquote

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from studio.core.models import ObjectMetadata
from studio.core.storage import CHUNK, files
from studio.web.s3 import xml
from studio.web.s3.access import BucketAccess, bucket, key_parts
from studio.web.s3.auth import Signed
from studio.web.s3.body import Body
from studio.web.s3.xml import S3Error, answer, no_such_key

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MAX_METADATA_BYTES = 2048  # S3's limit on x-amz-meta-* headers
META_PREFIX = "x-amz-meta-"
# What a GET's query may set of the answer's headers (a presigned link's download name...).
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


@dataclass(frozen=True)
class Described:
    """An object's bytes on disk (`stat`) and what S3 says about it."""

    stat: os.stat_result
    etag: str  # without quotes
    content_type: str
    metadata: dict[str, str]
    checksums: dict[str, str]

    @property
    def last_modified(self) -> datetime:
        return datetime.fromtimestamp(int(self.stat.st_mtime), UTC)

    def headers(self, *, checksums: bool = False) -> dict[str, str]:
        headers = {
            "ETag": f'"{self.etag}"',
            "Last-Modified": xml.http_date(self.last_modified),
            "Content-Type": self.content_type,
            "Accept-Ranges": "bytes",
        }
        headers.update({f"{META_PREFIX}{name}": value for name, value in self.metadata.items()})
        if checksums:
            headers.update({f"x-amz-checksum-{a}": v for a, v in self.checksums.items()})
        return headers


def user_metadata(request: HttpRequest) -> dict[str, str]:
    """The x-amz-meta-* headers, by lower-case name; MetadataTooLarge past S3's 2 KB."""
    found = {
        name.lower().removeprefix(META_PREFIX): value
        for name, value in request.headers.items()
        if name.lower().startswith(META_PREFIX)
    }
    if sum(len(n) + len(v) for n, v in found.items()) > MAX_METADATA_BYTES:
        raise S3Error(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size",
            MaxSizeAllowed=str(MAX_METADATA_BYTES),
        )
    return found


def record(
    bucket_name: str,
    key: str,
    stat: os.stat_result,
    etag: str,
    content_type: str,
    metadata: dict[str, str],
    checksums: dict[str, str],
) -> Described:
    ObjectMetadata.objects.update_or_create(
        bucket=bucket_name,
        key=key,
        defaults={
            "etag": etag,
            "content_type": content_type,
            "metadata": metadata,
            "checksums": checksums,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "inode": stat.st_ino,
        },
    )
    return Described(stat, etag, content_type, metadata, checksums)


def describe(access: BucketAccess, key: str, parts: tuple[str, ...]) -> Described:
    """The object at `key`, or NoSuchKey. An object without a valid metadata row (a job
    wrote it, or rewrote it since) gets its MD5 computed once, and a row."""
    fd = files.open_regular(access.root, parts)
    if fd is None:
        raise no_such_key(key)
    try:
        stat = os.fstat(fd)
        row = ObjectMetadata.objects.filter(bucket=access.name, key=key).first()
        if row is not None and (row.inode, row.size, row.mtime_ns) == (
            stat.st_ino,
            stat.st_size,
            stat.st_mtime_ns,
        ):
            return Described(stat, row.etag, row.content_type, row.metadata, row.checksums)
        digest = hashlib.md5(usedforsecurity=False)
        for offset in range(0, stat.st_size, CHUNK):
            digest.update(os.pread(fd, CHUNK, offset))
    finally:
        os.close(fd)
    return record(access.name, key, stat, digest.hexdigest(), DEFAULT_CONTENT_TYPE, {}, {})


def store(
    access: BucketAccess,
    key: str,
    parts: tuple[str, ...],
    chunks: Iterable[bytes],
    *,
    etag: Callable[[], str],
    content_type: str,
    metadata: dict[str, str],
    checksums: Callable[[], dict[str, str]],
) -> Described:
    """Write an object from `chunks`; `etag()` and `checksums()` are read once they are all
    in (and checked: a failed check leaves the old object in place)."""
    try:
        stat = files.write(access.root, parts, chunks)
    except OSError as failed:
        if failed.errno not in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ELOOP):
            raise
        raise S3Error(
            "InvalidArgument",
            "The key names a place the store cannot hold an object: a prefix of it is an "
            "object (or a link), or it is a prefix of other objects.",
            ArgumentName="key",
        ) from None
    with transaction.atomic():
        return record(access.name, key, stat, etag(), content_type, metadata, checksums())


def put_object(signed: Signed, request: HttpRequest, bucket_name: str, key: str) -> HttpResponse:
    access = bucket(signed, bucket_name, "PutObject")
    parts = key_parts(bucket_name, key)
    metadata = user_metadata(request)
    require_length(request, signed)
    body = Body(request, signed, settings.STUDIO_S3_MAX_OBJECT_BYTES)
    described = store(
        access,
        key,
        parts,
        body.chunks(),
        etag=lambda: body.md5,
        content_type=request.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE,
        metadata=metadata,
        checksums=lambda: body.checksums,
    )
    return answer(headers={"ETag": f'"{described.etag}"', **_checksum_headers(body.checksums)})


def _checksum_headers(checksums: dict[str, str]) -> dict[str, str]:
    return {f"x-amz-checksum-{a}": v for a, v in checksums.items()}


def _etags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]


def _when(header: str) -> datetime | None:
    try:
        return parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None


def check_conditions(request: HttpRequest, described: Described) -> int | None:
    """PreconditionFailed (naming the header), or 304, as S3 answers the conditional headers
    (RFC 7232's order); None when the object is to be sent."""
    headers = request.headers
    modified = described.last_modified
    if "If-Match" in headers:
        tags = _etags(headers["If-Match"])
        if "*" not in tags and described.etag not in tags:
            raise _precondition_failed("If-Match")
    elif "If-Unmodified-Since" in headers:
        since = _when(headers["If-Unmodified-Since"])
        if since is not None and modified > since:
            raise _precondition_failed("If-Unmodified-Since")
    if "If-None-Match" in headers:
        tags = _etags(headers["If-None-Match"])
        if "*" in tags or described.etag in tags:
            return 304
    elif "If-Modified-Since" in headers:
        since = _when(headers["If-Modified-Since"])
        if since is not None and modified <= since:
            return 304
    return None


def _precondition_failed(condition: str) -> S3Error:
    return S3Error(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition=condition,
    )


def require_length(request: HttpRequest, signed: Signed) -> None:
    """MissingContentLength (411) for a body of unknown length, as S3 answers a PUT."""
    if "Content-Length" not in request.headers and not signed.payload.startswith("STREAMING-"):
        raise S3Error(
            "MissingContentLength", "You must provide the Content-Length HTTP header.", 411
        )


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range; None to send the whole object (no range, or
    one S3 ignores); InvalidRange when it starts past the end."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix == 0:
                raise _invalid_range(size)
            return max(0, size - suffix), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        raise _invalid_range(size)
    if start > end:
        return None
    return start, min(end, size - 1)


def _invalid_range(size: int) -> S3Error:
    return S3Error(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        ActualObjectSize=str(size),
    )


def get_object(
    signed: Signed, request: HttpRequest, bucket_name: str, key: str, *, head: bool = False
) -> HttpResponse:
    access = bucket(signed, bucket_name, "GetObject")
    parts = key_parts(bucket_name, key)
    described = describe(access, key, parts)
    conditional = check_conditions(request, described)
    headers = described.headers(
        checksums=request.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"
    )
    if conditional == 304:
        return answer(
            status=304,
            headers={k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")},
        )
    size = described.stat.st_size
    span = (
        byte_range(request.headers.get("Range", ""), size) if "Range" in request.headers else None
    )
    start, end = span if span else (0, size - 1)
    for name, header in RESPONSE_OVERRIDES.items():
        if name in request.GET:
            headers[header] = request.GET[name]
    headers["Content-Length"] = str(max(0, end - start + 1))
    status = 200
    if span:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        # A checksum is of the whole object, not of the range sent.
        for name in [h for h in headers if h.startswith("x-amz-checksum-")]:
            del headers[name]
    if head:
        return answer(status=status, headers=headers)
    fd = files.open_regular(access.root, parts)
    if fd is None or os.fstat(fd).st_ino != described.stat.st_ino:
        if fd is not None:
            os.close(fd)
        raise no_such_key(key)  # replaced or deleted since it was described
    response = StreamingHttpResponse(_read(fd, start, end + 1), status=status)
    for name, value in {**xml.request_ids(), **headers}.items():
        response[name] = value
    return response


async def _read(fd: int, start: int, stop: int) -> AsyncIterator[bytes]:
    """The bytes [start, stop) of an open file, read in a thread a chunk at a time: an
    asynchronous iterator, or Django would read the whole object into memory to serve it."""
    try:
        offset = start
        while offset < stop:
            data = await asyncio.to_thread(os.pread, fd, min(CHUNK, stop - offset), offset)
            if not data:
                break
            offset += len(data)
            yield data
    finally:
        os.close(fd)


def copy_source(request: HttpRequest) -> tuple[str, str]:
    """The bucket and key `x-amz-copy-source` names (`/bucket/key` or `bucket/key`,
    percent-encoded, perhaps with `?versionId=`)."""
    source = unquote(request.headers["x-amz-copy-source"].partition("?")[0]).lstrip("/")
    bucket_name, _, key = source.partition("/")
    if not bucket_name or not key:
        raise S3Error(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ArgumentName="x-amz-copy-source",
        )
    return bucket_name, key


def _copied_chunks(source: BinaryIO) -> Iterator[bytes]:
    while data := source.read(CHUNK):
        yield data


def copy_object(signed: Signed, request: HttpRequest, bucket_name: str, key: str) -> HttpResponse:
    source_bucket, source_key = copy_source(request)
    source = bucket(signed, source_bucket, "GetObject")
    source_parts = key_parts(source_bucket, source_key)
    target = bucket(signed, bucket_name, "PutObject")
    parts = key_parts(bucket_name, key)
    described = describe(source, source_key, source_parts)
    if check_conditions_copy(request, described):
        raise _precondition_failed("x-amz-copy-source-If-*")
    replace = request.headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE"
    fd = files.open_regular(source.root, source_parts)
    if fd is None:
        raise no_such_key(source_key)
    with os.fdopen(fd, "rb") as source_file:
        copied = store(
            target,
            key,
            parts,
            _copied_chunks(source_file),
            etag=lambda: described.etag,
            content_type=(request.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE)
            if replace
            else described.content_type,
            metadata=user_metadata(request) if replace else described.metadata,
            checksums=lambda: described.checksums,
        )
    return answer(
        "CopyObjectResult",
        {"ETag": f'"{copied.etag}"', "LastModified": xml.timestamp(copied.last_modified)},
    )


def check_conditions_copy(request: HttpRequest, described: Described) -> bool:
    """Whether CopyObject's x-amz-copy-source-if-* conditions fail (412)."""
    headers = request.headers
    match = headers.get("x-amz-copy-source-if-match")
    if match is not None and described.etag not in _etags(match):
        return True
    none_match = headers.get("x-amz-copy-source-if-none-match")
    if none_match is not None and described.etag in _etags(none_match):
        return True
    since = _when(headers.get("x-amz-copy-source-if-unmodified-since", ""))
    if since is not None and described.last_modified > since:
        return True
    since = _when(headers.get("x-amz-copy-source-if-modified-since", ""))
    return since is not None and described.last_modified <= since


def remove(access: BucketAccess, key: str) -> None:
    parts = key_parts(access.name, key)
    files.unlink(access.root, parts)
    ObjectMetadata.objects.filter(bucket=access.name, key=key).delete()


def delete_object(signed: Signed, bucket_name: str, key: str) -> HttpResponse:
    access = bucket(signed, bucket_name, "DeleteObject")
    remove(access, key)
    return answer(status=204)


MAX_DELETE_KEYS = 1000
MAX_DELETE_BODY = 2 * 1024 * 1024


def delete_objects(signed: Signed, request: HttpRequest, bucket_name: str) -> HttpResponse:
    access = bucket(signed, bucket_name, "DeleteObject")
    body = Body(request, signed, MAX_DELETE_BODY)
    document = xml.parse(b"".join(body.chunks()), "Delete")
    quiet = (xml.text_of(document, "Quiet") or "").lower() == "true"
    objects = list(xml.children(document, "Object"))
    if len(objects) > MAX_DELETE_KEYS:
        raise xml.malformed()
    deleted, errors = [], []
    for element in objects:
        key = xml.text_of(element, "Key")
        if key is None:
            raise xml.malformed()
        try:
            remove(access, key)
        except S3Error as refused:
            errors.append({"Key": key, "Code": refused.code, "Message": refused.message})
            continue
        if not quiet:
            deleted.append({"Key": key})
    return answer("DeleteResult", {"Deleted": deleted, "Error": errors})
