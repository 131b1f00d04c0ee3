"""Where every request signed for S3 arrives (studio/web/api/middleware.py): its signature is
checked, its bucket and key read from the path or the Host (`addressing`), and it goes to the
one function serving its action. Errors are S3's XML shapes; an action Studio does not serve
answers NotImplemented, as S3 answers one it does not know."""

import logging
from urllib.parse import quote, unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from studio.core.errors import StudioError
from studio.web.s3 import buckets, multipart, objects
from studio.web.s3.access import check_bucket_name, check_expected_owner
from studio.web.s3.auth import Signed, authenticate
from studio.web.s3.xml import S3Error, error

log = logging.getLogger(__name__)

# Subresources of buckets and objects Studio does not serve (ACLs, policies, versioning...).
UNSERVED = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering",
        "inventory", "legal-hold", "lifecycle", "logging", "metrics", "notification",
        "object-lock", "ownershipControls", "policy", "policyStatus", "publicAccessBlock",
        "replication", "requestPayment", "restore", "retention", "select", "tagging",
        "torrent", "versioning", "versions", "website", "attributes", "session",
    }
)  # fmt: skip


def addressing(request: HttpRequest) -> tuple[str, str, bool]:
    """(bucket, key, whether virtual-hosted) of a request: path-style (`/bucket/key`) or
    virtual-hosted (`bucket.<one of STUDIO_S3_DOMAINS>`, the key the whole path). The path is
    read as sent and percent-decoded once, as S3 reads it."""
    raw = getattr(request, "scope", {}).get("raw_path")
    path = (
        unquote(raw.decode("latin-1"), encoding="utf-8", errors="strict") if raw else request.path
    )
    host = request.META.get("HTTP_HOST", "").lower()
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    for domain in settings.STUDIO_S3_DOMAINS:
        if host.endswith("." + domain):
            return host[: -len(domain) - 1], path[1:], True
    bucket, _, key = path[1:].partition("/")
    return bucket, key, False


def route(signed: Signed, request: HttpRequest, bucket: str, key: str) -> HttpResponse:
    method = request.method
    query = request.GET
    unserved = UNSERVED.intersection(query)
    if unserved:
        raise S3Error(
            "NotImplemented",
            f"Studio's S3 endpoint does not serve ?{sorted(unserved)[0]}.",
            501,
        )
    if bucket:
        check_bucket_name(bucket)
    expected_owner = request.headers.get("x-amz-expected-bucket-owner")
    if bucket and expected_owner is not None:
        check_expected_owner(signed, bucket, expected_owner)
    if not bucket:
        if method == "GET":
            return buckets.list_buckets(signed)
        raise _not_allowed(method)
    if not key:
        if method == "GET":
            if "location" in query:
                return buckets.get_bucket_location(signed, bucket)
            if "uploads" in query:
                return multipart.list_multipart_uploads(signed, request, bucket)
            return buckets.list_objects(signed, request, bucket, v2=query.get("list-type") == "2")
        if method == "HEAD":
            return buckets.head_bucket(signed, request, bucket)
        if method == "PUT":
            return buckets.create_bucket(signed, request, bucket)
        if method == "DELETE":
            return buckets.delete_bucket(signed, bucket)
        if method == "POST" and "delete" in query:
            return objects.delete_objects(signed, request, bucket)
        raise _not_allowed(method)
    upload = "uploadId" in query
    if method in ("GET", "HEAD"):
        if upload and method == "GET":
            return multipart.list_parts(signed, request, bucket, key)
        return objects.get_object(signed, request, bucket, key, head=method == "HEAD")
    if method == "PUT":
        if upload or "partNumber" in query:
            if "x-amz-copy-source" in request.headers:
                raise S3Error("NotImplemented", "UploadPartCopy is not served.", 501)
            if not upload:
                raise S3Error("InvalidArgument", "partNumber needs uploadId.")
            return multipart.upload_part(signed, request, bucket, key)
        if "x-amz-copy-source" in request.headers:
            return objects.copy_object(signed, request, bucket, key)
        return objects.put_object(signed, request, bucket, key)
    if method == "POST":
        if "uploads" in query:
            return multipart.create_multipart_upload(signed, request, bucket, key)
        if upload:
            return multipart.complete_multipart_upload(signed, request, bucket, key)
        raise _not_allowed(method)
    if method == "DELETE":
        if upload:
            return multipart.abort_multipart_upload(signed, request, bucket, key)
        return objects.delete_object(signed, bucket, key)
    raise _not_allowed(method)


def _not_allowed(method: str | None) -> S3Error:
    return S3Error(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        Method=method or "",
        ResourceType="OBJECT",
    )


def dispatch(request: HttpRequest) -> HttpResponse:
    raw = getattr(request, "scope", {}).get("raw_path")
    # As sent (percent-encoded): a key's control characters would break the error's XML.
    resource = raw.decode("latin-1") if raw else quote(request.path)
    try:
        bucket, key, virtual = addressing(request)
        signed = authenticate(request, bucket, virtual)
        return route(signed, request, bucket, key)
    except S3Error as refused:
        return error(refused, resource, head=request.method == "HEAD")
    except UnicodeDecodeError:
        return error(S3Error("InvalidURI", "Couldn't parse the specified URI."), resource)
    except StudioError as failed:
        log.warning("S3 %s %s: %s", request.method, resource, failed.message)
        return error(S3Error("InvalidRequest", failed.message), resource)
    except Exception:
        log.exception("S3 %s %s failed", request.method, resource)
        return error(
            S3Error("InternalError", "We encountered an internal error. Please try again.", 500),
            resource,
        )
