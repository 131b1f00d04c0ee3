"""Bucket actions: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and
listing a bucket's objects (ListObjectsV2 and ListObjects)."""

import base64
import binascii
import contextlib
import os
import re
from datetime import UTC, datetime
from urllib.parse import quote

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from domains.buckets import SDK_DEFAULT
from studio.core.errors import ValidationException
from studio.core.models import Bucket, MultipartUpload, ObjectMetadata
from studio.core.storage import files
from studio.core.storage.buckets import domain_bucket, owner_of
from studio.core.storage.paths import relative_parts
from studio.web.s3 import xml
from studio.web.s3.access import artifacts_root, bucket, check_policy, on_disk
from studio.web.s3.auth import Signed
from studio.web.s3.body import Body
from studio.web.s3.objects import describe
from studio.web.s3.xml import S3Error, access_denied, answer

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
MAX_KEYS = 1000
MAX_CONFIGURATION_BYTES = 64 * 1024


def check_name(name: str) -> None:
    """InvalidBucketName unless `name` follows S3's rules for general purpose buckets."""
    if (
        not _BUCKET_NAME.fullmatch(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or _IP_ADDRESS.fullmatch(name)
        or name.startswith(("xn--", "sthree-"))
        or name.endswith(("-s3alias", "--ol-s3"))
    ):
        raise S3Error(
            "InvalidBucketName",
            "The specified bucket is not valid: 3-63 lowercase letters, digits, dots and "
            "hyphens, starting and ending with a letter or digit.",
            BucketName=name,
        )


def _owner_block(signed: Signed) -> dict[str, str]:
    domain = signed.caller.profile.domain
    return {"ID": domain.account_id, "DisplayName": domain.name}


def list_buckets(signed: Signed) -> HttpResponse:
    """The caller's domain's buckets: its own studio bucket, those it created, and its SDK
    default bucket once something is in it."""
    check_policy(signed, "ListAllMyBuckets", None)
    domain = signed.caller.profile.domain
    found: dict[str, datetime] = {domain_bucket(domain.domain_id): domain.created_at}
    for row in Bucket.objects.filter(domain=domain):
        found[row.name] = row.created_at
    root = artifacts_root()
    with contextlib.suppress(OSError):
        for name in os.listdir(root):
            match = SDK_DEFAULT.fullmatch(name)
            if match and match["account"] == domain.account_id and name not in found:
                found[name] = datetime.fromtimestamp(os.lstat(root / name).st_mtime, UTC)
    buckets = [
        {
            "Name": name,
            "CreationDate": xml.timestamp(found[name]),
            "BucketRegion": settings.STUDIO_REGION,
        }
        for name in sorted(found)
    ]
    return answer(
        "ListAllMyBucketsResult", {"Owner": _owner_block(signed), "Buckets": {"Bucket": buckets}}
    )


def create_bucket(signed: Signed, request: HttpRequest, name: str) -> HttpResponse:
    check_name(name)
    owner = owner_of(name)
    domain = signed.caller.profile.domain
    check_policy(signed, "CreateBucket", None)
    if owner.domain is not None and owner.domain.pk == domain.pk:
        if owner.created:
            raise _owned_by_you(name)
    elif owner.platform or owner.domain is not None or on_disk(name):
        # Another domain's, the platform's, or a shared bucket jobs already write to.
        raise S3Error(
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by "
            "all users of the system. Please select a different name and try again.",
            409,
            BucketName=name,
        )
    _check_location(request, signed)
    try:
        with transaction.atomic():
            Bucket.objects.create(name=name, domain=domain)
    except IntegrityError:
        raise (
            _owned_by_you(name)
            if owner_of(name).domain == domain
            else S3Error("BucketAlreadyExists", "The requested bucket name is not available.", 409)
        ) from None
    with contextlib.suppress(FileExistsError):
        os.mkdir(artifacts_root() / name, 0o755)
    return answer(headers={"Location": f"/{name}"})


def _owned_by_you(name: str) -> S3Error:
    return S3Error(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        BucketName=name,
    )


def _check_location(request: HttpRequest, signed: Signed) -> None:
    """A CreateBucketConfiguration, if sent, may name only this installation's region."""
    body = Body(request, signed, MAX_CONFIGURATION_BYTES)
    data = b"".join(body.chunks())
    if not data.strip():
        return
    configuration = xml.parse(data, "CreateBucketConfiguration")
    region = xml.text_of(configuration, "LocationConstraint")
    if region and region != settings.STUDIO_REGION:
        raise S3Error(
            "IllegalLocationConstraintException",
            f"The {region} location constraint is incompatible for the region specific "
            f"endpoint this request was sent to ({settings.STUDIO_REGION}).",
        )


def head_bucket(signed: Signed, request: HttpRequest, name: str) -> HttpResponse:
    bucket(signed, name, "ListBucket")
    return answer(headers={"x-amz-bucket-region": settings.STUDIO_REGION})


def get_bucket_location(signed: Signed, name: str) -> HttpResponse:
    bucket(signed, name, "GetBucketLocation")
    # us-east-1 is the empty constraint, as S3 answers.
    region = "" if settings.STUDIO_REGION == "us-east-1" else settings.STUDIO_REGION
    return answer("LocationConstraint", text=region)


def delete_bucket(signed: Signed, name: str) -> HttpResponse:
    access = bucket(signed, name, "DeleteBucket")
    row = Bucket.objects.filter(name=name).first()
    if row is None:
        # Its studio bucket and shared buckets are not the domain's to delete.
        raise access_denied("Only a bucket created through this endpoint can be deleted.")
    if (
        next(files.walk(access.root, ()), None)
        or MultipartUpload.objects.filter(bucket=name).exists()
    ):
        raise S3Error(
            "BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=name
        )
    with transaction.atomic():
        row.delete()
        ObjectMetadata.objects.filter(bucket=name).delete()
    with contextlib.suppress(OSError):
        os.rmdir(access.root)
    return answer(status=204)


def _keys(root, prefix: str) -> list[tuple[str, os.stat_result]]:
    """Every object under `prefix`, in S3's order (UTF-8 bytes)."""
    directory = prefix.rpartition("/")[0]
    try:
        parts = relative_parts(directory, "prefix") if directory else ()
    except ValidationException:
        return []  # no key the store holds starts so
    found = [(key, info) for key, info in files.walk(root, parts) if key.startswith(prefix)]
    return sorted(found, key=lambda item: item[0].encode())


def _encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise S3Error(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            ArgumentName="continuation-token",
        ) from None


def _max_keys(request: HttpRequest) -> int:
    value = request.GET.get("max-keys", str(MAX_KEYS))
    if not value.isdigit():
        raise S3Error(
            "InvalidArgument",
            "Provided max-keys not an integer or within integer range",
            ArgumentName="max-keys",
        )
    return min(int(value), MAX_KEYS)


def list_objects(signed: Signed, request: HttpRequest, name: str, *, v2: bool) -> HttpResponse:
    """ListObjectsV2 (`v2`) or ListObjects: keys after the marker, with `delimiter` rolling
    keys up into CommonPrefixes, at most max-keys entries a page."""
    access = bucket(signed, name, "ListBucket")
    query = request.GET
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    limit = _max_keys(request)
    encode = query.get("encoding-type") == "url"
    if query.get("encoding-type", "url") != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request")
    if v2:
        token = query.get("continuation-token")
        after = _decode_token(token) if token is not None else query.get("start-after", "")
    else:
        after = query.get("marker", "")

    def shown(value: str) -> str:
        return quote(value, safe="/") if encode else value

    contents, prefixes = [], []
    truncated = False
    last = ""
    for key, info in _keys(access.root, prefix):
        if after and key.encode() <= after.encode():
            continue
        if after and delimiter and after.endswith(delimiter) and key.startswith(after):
            continue  # under a common prefix a previous page ended with
        rolled = None
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                rolled = key[: cut + len(delimiter)]
        if rolled is not None and prefixes and prefixes[-1] == rolled:
            continue
        if len(contents) + len(prefixes) >= limit:
            truncated = True
            break
        if rolled is not None:
            prefixes.append(rolled)
            last = rolled
            continue
        described = describe(access, key, tuple(key.split("/")))
        contents.append(
            {
                "Key": shown(key),
                "LastModified": xml.timestamp(described.last_modified),
                "ETag": f'"{described.etag}"',
                "Size": info.st_size,
                "StorageClass": "STANDARD",
                **(
                    {}
                    if v2 and query.get("fetch-owner") != "true"
                    else {"Owner": _owner_block(signed)}
                ),
            }
        )
        last = key
    members: dict[str, object] = {
        "Name": name,
        "Prefix": shown(prefix),
    }
    if v2:
        members.update(
            {
                "KeyCount": len(contents) + len(prefixes),
                "MaxKeys": limit,
                "Delimiter": shown(delimiter) if delimiter else None,
                "IsTruncated": truncated,
                "ContinuationToken": query.get("continuation-token"),
                "NextContinuationToken": _encode_token(last) if truncated else None,
                "StartAfter": shown(query["start-after"]) if "start-after" in query else None,
            }
        )
    else:
        members.update(
            {
                "Marker": shown(after),
                "MaxKeys": limit,
                "Delimiter": shown(delimiter) if delimiter else None,
                "IsTruncated": truncated,
                "NextMarker": shown(last) if truncated and delimiter else None,
            }
        )
    members["EncodingType"] = "url" if encode else None
    members["Contents"] = contents
    members["CommonPrefixes"] = [{"Prefix": shown(p)} for p in prefixes]
    root = "ListBucketResult"
    return answer(root, members)
