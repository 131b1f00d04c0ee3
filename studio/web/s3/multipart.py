"""Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload, ListParts, ListMultipartUploads.

Parts are files in `$STUDIO_DATA_DIR/s3-multipart/<upload id>/<part number>`, outside every
bucket (a job never sees them), named by numbers and ids Studio made; completing concatenates
them into the object, a chunk at a time, and renames it into place."""

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from studio.core.models import MultipartUpload, UploadPart
from studio.core.storage import CHUNK
from studio.web.s3 import xml
from studio.web.s3.access import BucketAccess, bucket, key_parts
from studio.web.s3.auth import Signed
from studio.web.s3.body import CHECKSUMS, Body
from studio.web.s3.objects import DEFAULT_CONTENT_TYPE, require_length, store, user_metadata
from studio.web.s3.xml import S3Error, answer

MAX_PARTS = 10000
MAX_COMPLETE_BODY = 4 * 1024 * 1024


def uploads_root() -> Path:
    root = Path(settings.DATA_DIR) / "s3-multipart"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _no_such_upload(upload_id: str) -> S3Error:
    return S3Error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        404,
        UploadId=upload_id,
    )


def _upload(access: BucketAccess, key: str, upload_id: str) -> MultipartUpload:
    """The upload `upload_id` of this bucket and key, or NoSuchUpload (another bucket's is as
    unknown as one that never was)."""
    upload = MultipartUpload.objects.filter(
        upload_id=upload_id, bucket=access.name, key=key
    ).first()
    if upload is None:
        raise _no_such_upload(upload_id)
    return upload


def create_multipart_upload(
    signed: Signed, request: HttpRequest, bucket_name: str, key: str
) -> HttpResponse:
    access = bucket(signed, bucket_name, "PutObject")
    key_parts(bucket_name, key)
    algorithm = request.headers.get("x-amz-checksum-algorithm", "").lower()
    if algorithm and algorithm not in CHECKSUMS:
        raise S3Error("InvalidRequest", f"Checksum algorithm {algorithm} is not supported.")
    upload = MultipartUpload.objects.create(
        upload_id=secrets.token_urlsafe(32),
        bucket=access.name,
        key=key,
        initiator=signed.caller.profile,
        content_type=request.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE,
        metadata=user_metadata(request),
        checksum_algorithm=algorithm,
    )
    (uploads_root() / upload.upload_id).mkdir(mode=0o700)
    headers = {"x-amz-checksum-algorithm": algorithm.upper()} if algorithm else {}
    return answer(
        "InitiateMultipartUploadResult",
        {"Bucket": bucket_name, "Key": key, "UploadId": upload.upload_id},
        headers=headers,
    )


def _part_number(request: HttpRequest) -> int:
    value = request.GET.get("partNumber", "")
    if not value.isdigit() or not 1 <= int(value) <= MAX_PARTS:
        raise S3Error(
            "InvalidArgument",
            f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive",
            ArgumentName="partNumber",
        )
    return int(value)


def upload_part(signed: Signed, request: HttpRequest, bucket_name: str, key: str) -> HttpResponse:
    access = bucket(signed, bucket_name, "PutObject")
    upload = _upload(access, key, request.GET["uploadId"])
    number = _part_number(request)
    require_length(request, signed)
    body = Body(request, signed, settings.STUDIO_S3_MAX_PART_BYTES)
    directory = uploads_root() / upload.upload_id
    target = directory / str(number)
    partial = directory / f".{number}.{secrets.token_hex(4)}"
    try:
        with open(partial, "xb") as out:
            for chunk in body.chunks():
                out.write(chunk)
        with transaction.atomic():
            # Locked: an abort or complete in between must not leave a part behind.
            if not MultipartUpload.objects.select_for_update().filter(pk=upload.pk).exists():
                raise _no_such_upload(upload.upload_id)
            os.replace(partial, target)
            UploadPart.objects.update_or_create(
                upload=upload, number=number, defaults={"etag": body.md5, "size": body.size}
            )
    except FileNotFoundError:
        raise _no_such_upload(upload.upload_id) from None
    finally:
        partial.unlink(missing_ok=True)
    headers = {"ETag": f'"{body.md5}"'}
    headers.update({f"x-amz-checksum-{a}": v for a, v in body.checksums.items()})
    return answer(headers=headers)


def _requested_parts(request: HttpRequest, signed: Signed) -> list[tuple[int, str]]:
    body = Body(request, signed, MAX_COMPLETE_BODY)
    document = xml.parse(b"".join(body.chunks()), "CompleteMultipartUpload")
    requested = []
    for part in xml.children(document, "Part"):
        number, etag = xml.text_of(part, "PartNumber"), xml.text_of(part, "ETag")
        if number is None or not number.isdigit() or etag is None:
            raise xml.malformed()
        requested.append((int(number), etag.strip('"')))
    if not requested:
        raise xml.malformed()
    return requested


def complete_multipart_upload(
    signed: Signed, request: HttpRequest, bucket_name: str, key: str
) -> HttpResponse:
    access = bucket(signed, bucket_name, "PutObject")
    parts = key_parts(bucket_name, key)
    upload = _upload(access, key, request.GET["uploadId"])
    requested = _requested_parts(request, signed)
    numbers = [number for number, _ in requested]
    if numbers != sorted(set(numbers)):
        raise S3Error(
            "InvalidPartOrder",
            "The list of parts was not in ascending order. The parts list must be specified "
            "in order by part number.",
            UploadId=upload.upload_id,
        )
    stored = {part.number: part for part in upload.parts.all()}
    for index, (number, etag) in enumerate(requested):
        part = stored.get(number)
        if part is None or part.etag != etag:
            raise S3Error(
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may not have "
                "been uploaded, or the specified entity tag may not match the part's entity tag.",
                UploadId=upload.upload_id,
                PartNumber=str(number),
                ETag=etag,
            )
        if index < len(requested) - 1 and part.size < settings.STUDIO_S3_MIN_PART_BYTES:
            raise S3Error(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
                ProposedSize=str(part.size),
                MinSizeAllowed=str(settings.STUDIO_S3_MIN_PART_BYTES),
                PartNumber=str(number),
            )
    directory = uploads_root() / upload.upload_id
    digests = b"".join(bytes.fromhex(stored[number].etag) for number in numbers)
    etag = f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(numbers)}"
    described = store(
        access,
        key,
        parts,
        _concatenated(directory, numbers),
        etag=lambda: etag,
        content_type=upload.content_type,
        metadata=upload.metadata,
        checksums=dict,
    )
    upload.delete()
    shutil.rmtree(directory, ignore_errors=True)
    return answer(
        "CompleteMultipartUploadResult",
        {
            "Location": f"/{bucket_name}/{key}",
            "Bucket": bucket_name,
            "Key": key,
            "ETag": f'"{described.etag}"',
        },
    )


def _concatenated(directory: Path, numbers: list[int]) -> Iterator[bytes]:
    for number in numbers:
        with open(directory / str(number), "rb") as part:
            while data := part.read(CHUNK):
                yield data


def abort_multipart_upload(
    signed: Signed, request: HttpRequest, bucket_name: str, key: str
) -> HttpResponse:
    access = bucket(signed, bucket_name, "AbortMultipartUpload")
    upload = _upload(access, key, request.GET["uploadId"])
    with transaction.atomic():
        MultipartUpload.objects.select_for_update().filter(pk=upload.pk).delete()
    shutil.rmtree(uploads_root() / upload.upload_id, ignore_errors=True)
    return answer(status=204)


def list_parts(signed: Signed, request: HttpRequest, bucket_name: str, key: str) -> HttpResponse:
    access = bucket(signed, bucket_name, "ListMultipartUploadParts")
    upload = _upload(access, key, request.GET["uploadId"])
    marker = request.GET.get("part-number-marker", "0")
    limit = request.GET.get("max-parts", "1000")
    if not marker.isdigit() or not limit.isdigit():
        raise S3Error("InvalidArgument", "part-number-marker and max-parts must be integers.")
    parts = list(upload.parts.filter(number__gt=int(marker))[: int(limit) + 1])
    truncated = len(parts) > int(limit)
    parts = parts[: int(limit)]
    initiator = upload.initiator
    who = {
        "ID": initiator.arn if initiator else "",
        "DisplayName": initiator.name if initiator else "",
    }
    return answer(
        "ListPartsResult",
        {
            "Bucket": bucket_name,
            "Key": key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": int(marker),
            "NextPartNumberMarker": parts[-1].number if parts else None,
            "MaxParts": int(limit),
            "IsTruncated": truncated,
            "Part": [
                {
                    "PartNumber": part.number,
                    "LastModified": xml.timestamp(part.uploaded_at),
                    "ETag": f'"{part.etag}"',
                    "Size": part.size,
                }
                for part in parts
            ],
            "Initiator": who,
            "Owner": {"ID": access.domain.account_id if access.domain else "", "DisplayName": ""},
            "StorageClass": "STANDARD",
            "ChecksumAlgorithm": upload.checksum_algorithm.upper() or None,
        },
    )


def list_multipart_uploads(signed: Signed, request: HttpRequest, bucket_name: str) -> HttpResponse:
    access = bucket(signed, bucket_name, "ListBucketMultipartUploads")
    prefix = request.GET.get("prefix", "")
    uploads = MultipartUpload.objects.filter(bucket=access.name, key__startswith=prefix).order_by(
        "key", "initiated_at"
    )[:1000]
    return answer(
        "ListMultipartUploadsResult",
        {
            "Bucket": bucket_name,
            "Prefix": prefix,
            "MaxUploads": 1000,
            "IsTruncated": False,
            "Upload": [
                {
                    "Key": upload.key,
                    "UploadId": upload.upload_id,
                    "Initiated": xml.timestamp(upload.initiated_at),
                    "StorageClass": "STANDARD",
                }
                for upload in uploads
            ],
        },
    )
