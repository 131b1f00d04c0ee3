"""S3's SigV4 variants (docs/s3.md, "Authentication"): the Authorization header or a presigned
URL's query; the payload's hash from `x-amz-content-sha256`; the canonical path as sent. What
the signature covers of the body is checked as the body streams in (`body.py`)."""

import base64
import hmac
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote

from django.conf import settings
from django.http import HttpRequest

from domains.models import AccessKey, AccessKeyStatus
from studio.core.crypto import decrypt
from studio.core.errors import IncompleteSignature, InvalidSignature, UnrecognizedClient
from studio.web.api.auth import Caller, key_of, used
from studio.web.api.sigv4 import (
    MAX_PRESIGNED_EXPIRES,
    ClockSkew,
    Credential,
    Expired,
    SignedRequest,
    is_v2_presigned,
    parse_authorization,
    parse_presigned,
    signing_key,
    verify,
)
from studio.web.s3.xml import S3Error, access_denied

SERVICE = "s3"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
PAYLOAD_MODES = (UNSIGNED, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)


@dataclass(frozen=True)
class Signed:
    """A request whose signature checked out: who sent it, and what it signed of its body
    (`payload`: a hex sha256, or one of PAYLOAD_MODES), with what chunk signatures chain to."""

    caller: Caller
    payload: str
    credential: Credential
    key: bytes
    seed_signature: str
    stamp: str


# The query parameters SigV2 signs (botocore's HmacV1Auth.QSAOfInterest).
V2_SIGNED_PARAMETERS = frozenset(
    {
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber",
        "policy", "requestPayment", "torrent", "versioning", "versionId", "versions", "website",
        "uploads", "uploadId", "response-content-type", "response-content-language",
        "response-expires", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
        "storageClass", "notification", "replication", "analytics", "metrics", "inventory",
        "select", "select-type", "object-lock",
    }
)  # fmt: skip


def _query_token(query: str) -> str | None:
    """A presigned URL's session token (X-Amz-Security-Token), if it carries one."""
    return (parse_qs(query).get("X-Amz-Security-Token") or [None])[0]


def authenticate(request: HttpRequest, bucket: str = "", virtual: bool = False) -> Signed:
    """The caller whose key signed `request` for S3, or the S3Error AWS answers with.
    `bucket` and `virtual` say how it was addressed (SigV2 signs the path-style path)."""
    query = request.META.get("QUERY_STRING", "")
    if "authorization" not in request.headers and is_v2_presigned(query):
        return _authenticate_v2(request, bucket if virtual else "")
    presigned = "X-Amz-Credential=" in query and "authorization" not in request.headers
    now = datetime.now(UTC)
    credential: Credential | None = None
    try:
        signed = _without_body(request)
        if presigned:
            credential, signed = parse_presigned(signed, now)
        else:
            credential = parse_authorization(signed)
            payload = signed.headers.get("x-amz-content-sha256", "")
            if payload not in PAYLOAD_MODES and not _is_sha256(payload):
                raise _bad_payload_header(payload)
            signed = replace(signed, payload_hash=payload)
        token = signed.headers.get("x-amz-security-token") or _query_token(query)
        key, secret = key_of(credential, SERVICE, token)
        verify(signed, credential, secret, now)
    except Expired:
        raise access_denied("Request has expired") from None
    except ClockSkew:
        raise S3Error(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
        ) from None
    except UnrecognizedClient:
        raise _invalid_key() from None
    except IncompleteSignature as refused:
        code = "AuthorizationQueryParametersError" if presigned else "AuthorizationHeaderMalformed"
        raise S3Error(code, refused.message) from None
    except InvalidSignature as refused:
        if credential is not None and credential.region != settings.STUDIO_REGION:
            raise S3Error(
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; the region '{credential.region}' is "
                f"wrong; expecting '{settings.STUDIO_REGION}'",
                Region=settings.STUDIO_REGION,
            ) from None
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            403,
            Detail=refused.message,
        ) from None
    return Signed(
        caller=used(key),
        payload=signed.payload_hash,
        credential=credential,
        key=signing_key(secret, credential),
        seed_signature=credential.signature,
        stamp=signed.presigned_date or signed.headers.get("x-amz-date", ""),
    )


def _authenticate_v2(request: HttpRequest, virtual_bucket: str) -> Signed:
    """A SigV2 presigned URL (`AWSAccessKeyId`, `Expires`, `Signature`): what boto3's
    generate_presigned_url makes unless told `signature_version="s3v4"`. HMAC-SHA1 over the
    method, Content-MD5, Content-Type, Expires, x-amz-* headers and the path-style resource."""
    params: dict[str, str] = {}
    names: list[str] = []
    for pair in request.META.get("QUERY_STRING", "").split("&"):
        name, equals, value = pair.partition("=")
        name = unquote(name)
        params.setdefault(name, unquote(value))
        if name in V2_SIGNED_PARAMETERS:
            names.append(pair if not equals else f"{name}={unquote(value)}")
    expires = params["Expires"]
    now = datetime.now(UTC).timestamp()
    if not expires.isdigit():
        raise S3Error("AuthorizationQueryParametersError", "Expires must be a number of seconds.")
    if int(expires) < now:
        raise access_denied("Request has expired")
    if int(expires) > now + MAX_PRESIGNED_EXPIRES:
        raise S3Error(
            "AuthorizationQueryParametersError",
            "A presigned URL may last at most 7 days (604800 seconds).",
        )
    key = (
        AccessKey.objects.select_related("profile__domain", "profile__user", "app__space__domain")
        .filter(access_key_id=params["AWSAccessKeyId"], status=AccessKeyStatus.ACTIVE)
        .first()
    )
    if key is None:
        raise _invalid_key()
    raw = getattr(request, "scope", {}).get("raw_path")
    path = raw.decode("latin-1") if raw else request.path
    resource = (f"/{virtual_bucket}" if virtual_bucket else "") + path
    if names:
        resource += "?" + "&".join(sorted(names, key=lambda n: n.partition("=")[0]))
    amz = sorted(
        (name.lower(), value.strip())
        for name, value in request.headers.items()
        if name.lower().startswith("x-amz-")
    )
    string_to_sign = "\n".join(
        [
            request.method or "GET",
            request.headers.get("Content-MD5", ""),
            request.headers.get("Content-Type", ""),
            expires,
            *(f"{name}:{value}" for name, value in amz),
            resource,
        ]
    )
    secret = decrypt(key.secret_ciphertext)
    expected = base64.b64encode(
        hmac.digest(secret.encode(), string_to_sign.encode(), "sha1")
    ).decode()
    # Bytes: a signature a client sent may hold anything, which str comparison refuses.
    if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            403,
        )
    return Signed(
        caller=used(key),
        payload=UNSIGNED,
        credential=Credential(key.access_key_id, "", "", SERVICE, (), ""),
        key=b"",
        seed_signature="",
        stamp="",
    )


def _invalid_key() -> S3Error:
    return S3Error(
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        403,
    )


def _without_body(request: HttpRequest) -> SignedRequest:
    """The request as S3 signs it, its body left unread (it streams through `body.py`)."""
    raw_path = getattr(request, "scope", {}).get("raw_path")
    return SignedRequest(
        method=request.method or "GET",
        path=raw_path.decode("latin-1") if raw_path else request.path,
        query=request.META.get("QUERY_STRING", ""),
        headers={name.lower(): value for name, value in request.headers.items()},
        payload_hash=UNSIGNED,
        s3_path=True,
    )


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _bad_payload_header(value: str) -> S3Error:
    if not value:
        return S3Error(
            "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
        )
    return S3Error(
        "InvalidArgument",
        "x-amz-content-sha256 must be a hex SHA-256 of the payload, UNSIGNED-PAYLOAD, "
        f"{STREAMING_SIGNED}, {STREAMING_SIGNED_TRAILER} or {STREAMING_UNSIGNED_TRAILER}.",
        ArgumentName="x-amz-content-sha256",
    )
