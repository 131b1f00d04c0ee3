"""AWS Signature Version 4, checked the way AWS checks it: the server rebuilds the canonical
request from what arrived, signs it with the caller's secret, and compares.

SageMaker takes only the header form (`Authorization: AWS4-HMAC-SHA256 ...`): it is what boto3
and the AWS CLI send it. S3 (studio/web/s3/auth.py) also takes the query-string form of
presigned URLs (`parse_presigned`), signs its path as sent (`s3_path=True`: not normalised nor
encoded again), takes the payload's hash from `x-amz-content-sha256`, and signs an aws-chunked
body chunk by chunk (`chunk_signature`, `trailer_signature`).
Spec: docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html and
docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
"""

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from studio.core.errors import IncompleteSignature, InvalidSignature, MissingAuthenticationToken

ALGORITHM = "AWS4-HMAC-SHA256"
CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# A presigned URL lives at most 7 days, as on S3.
MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600
# As AWS: a signature more than 15 minutes from the server's clock is refused (replays).
MAX_CLOCK_SKEW = timedelta(minutes=15)

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+"
    r"Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed_headers>[^,\s]+)\s*,\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
_SPACES = re.compile(r"\s+")
# The service a request was signed for, from the Authorization header's credential scope or a
# presigned URL's X-Amz-Credential (percent-encoded slashes and all).
_SCOPE_SERVICE = re.compile(
    r"Credential=[^/,\s&]+(?:/|%2F)\d{8}(?:/|%2F)[^/,\s&%]+(?:/|%2F)(?P<service>[a-z0-9-]+)"
    r"(?:/|%2F)aws4_request",
    re.IGNORECASE,
)


class ClockSkew(InvalidSignature):
    """A signature made more than 15 minutes from the server's time (S3: RequestTimeTooSkewed)."""


class Expired(InvalidSignature):
    """A presigned URL used after its X-Amz-Expires (S3: AccessDenied "Request has expired")."""


@dataclass(frozen=True)
class Credential:
    """What the Authorization header claims: whose key, and the scope it signed for."""

    access_key_id: str
    date: str  # YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str  # as sent, still percent-encoded
    query: str  # as sent
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    # When set, the payload's hash as signed (S3's x-amz-content-sha256, or UNSIGNED-PAYLOAD
    # for a presigned URL): then `body` is not read, and is checked while it streams in.
    payload_hash: str = ""
    s3_path: bool = False  # S3 signs the path as sent: neither normalised nor re-encoded
    # Set for a presigned URL: its X-Amz-Date, and the query without X-Amz-Signature.
    presigned_date: str = ""


def signing_service(authorization: str, query: str) -> str | None:
    """The service whose credential scope signed a request (`s3`, `sts`, `logs`, `sagemaker`),
    read from its Authorization header or presigned query without checking anything: it says
    only where the request goes, where its signature is then checked in full."""
    match = _SCOPE_SERVICE.search(authorization) if authorization else None
    if match is None and "X-Amz-Credential=" in query:
        match = _SCOPE_SERVICE.search(query.replace("X-Amz-Credential=", "Credential="))
    if match is None and not authorization and is_v2_presigned(query):
        return "s3"  # only S3 takes SigV2's presigned query, boto3's default for presigning
    return match["service"].lower() if match else None


def is_v2_presigned(query: str) -> bool:
    names = {pair.partition("=")[0] for pair in query.split("&")}
    return {"AWSAccessKeyId", "Signature", "Expires"} <= names


def parse_authorization(request: SignedRequest) -> Credential:
    header = request.headers.get("authorization")
    if not header:
        raise MissingAuthenticationToken("Missing Authentication Token")
    match = _AUTHORIZATION.match(header)
    if match is None:
        raise IncompleteSignature(
            f"Authorization header requires an {ALGORITHM} Credential, SignedHeaders and "
            "Signature; sign requests with an AWS SDK (SigV4)."
        )
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise IncompleteSignature(
            "Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request."
        )
    signed_headers = tuple(match["signed_headers"].split(";"))
    if "host" not in signed_headers:
        raise IncompleteSignature("SignedHeaders must include host.")
    return Credential(parts[0], parts[1], parts[2], parts[3], signed_headers, match["signature"])


def parse_presigned(request: SignedRequest, now: datetime) -> tuple[Credential, SignedRequest]:
    """The credential of a presigned URL's query (X-Amz-Algorithm, -Credential, -Date,
    -Expires, -SignedHeaders, -Signature), and the request as it was signed (the query without
    its signature). Raises Expired once X-Amz-Expires seconds have passed since X-Amz-Date."""
    params: dict[str, str] = {}
    for pair in request.query.split("&"):
        name, _, value = pair.partition("=")
        params.setdefault(unquote(name), unquote(value))
    missing = [
        name
        for name in (
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
        )
        if not params.get(name)
    ]
    if missing:
        raise IncompleteSignature(f"A presigned URL needs {', '.join(missing)} in its query.")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise IncompleteSignature(f"X-Amz-Algorithm must be {ALGORITHM}.")
    parts = params["X-Amz-Credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise IncompleteSignature(
            "X-Amz-Credential must have the form "
            "<access key id>/<date>/<region>/<service>/aws4_request."
        )
    if not re.fullmatch(r"[0-9a-f]{64}", params["X-Amz-Signature"]):
        raise IncompleteSignature("X-Amz-Signature must be 64 hexadecimal digits.")
    expires = params["X-Amz-Expires"]
    if not expires.isdigit() or not 1 <= int(expires) <= MAX_PRESIGNED_EXPIRES:
        raise IncompleteSignature(
            f"X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGNED_EXPIRES}."
        )
    signed_headers = tuple(params["X-Amz-SignedHeaders"].split(";"))
    if "host" not in signed_headers:
        raise IncompleteSignature("X-Amz-SignedHeaders must include host.")
    credential = Credential(
        parts[0], parts[1], parts[2], parts[3], signed_headers, params["X-Amz-Signature"]
    )
    stamp = params["X-Amz-Date"]
    when = _parse_time(stamp)
    if stamp[:8] != credential.date:
        raise InvalidSignature("The Credential date does not match X-Amz-Date.")
    if now > when + timedelta(seconds=int(expires)):
        raise Expired("Request has expired")
    if when - now > MAX_CLOCK_SKEW:
        raise ClockSkew("X-Amz-Date is in the future; check the client's clock.")
    query = "&".join(
        pair for pair in request.query.split("&") if not pair.startswith("X-Amz-Signature=")
    )
    signed = replace(request, query=query, payload_hash="UNSIGNED-PAYLOAD", presigned_date=stamp)
    return credential, signed


def _parse_time(stamp: str) -> datetime:
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise IncompleteSignature(
            f"X-Amz-Date {stamp!r} must have the form YYYYMMDDTHHMMSSZ."
        ) from None


def _request_time(request: SignedRequest, credential: Credential) -> datetime:
    stamp = request.headers.get("x-amz-date")
    if stamp is None:
        raise IncompleteSignature("The X-Amz-Date header is missing.")
    when = _parse_time(stamp)
    if stamp[:8] != credential.date:
        raise InvalidSignature("The Credential date does not match X-Amz-Date.")
    return when


def check_clock(request: SignedRequest, credential: Credential, now: datetime) -> None:
    when = _request_time(request, credential)
    if abs(now - when) > MAX_CLOCK_SKEW:
        raise ClockSkew(
            f"Signature expired: {when:%Y%m%dT%H%M%SZ} is more than 15 minutes from the "
            f"server's time {now:%Y%m%dT%H%M%SZ}; check the client's clock."
        )


def _canonical_uri(path: str) -> str:
    """As botocore: dot segments and empty segments removed, then the path (already encoded to
    be sent) encoded once more, as every service but S3 signs it."""
    segments: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if segments:
                segments.pop()
        elif part not in ("", "."):
            segments.append(part)
    normal = "/" + "/".join(segments) + ("/" if segments and path.endswith("/") else "")
    return quote(normal, safe="/~")


def _canonical_query(query: str) -> str:
    """As botocore signs a query it sent: its pairs, as encoded on the wire, sorted."""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&") if pair)
    return "&".join(f"{key}={value}" for key, value in pairs)


def canonical_request(request: SignedRequest, signed_headers: tuple[str, ...]) -> str:
    headers = []
    for name in signed_headers:
        if name not in request.headers:
            raise InvalidSignature(f"Signed header {name!r} is not in the request.")
        headers.append(f"{name}:{_SPACES.sub(' ', request.headers[name].strip())}\n")
    return "\n".join(
        [
            request.method,
            (request.path or "/") if request.s3_path else _canonical_uri(request.path or "/"),
            _canonical_query(request.query),
            "".join(headers),
            ";".join(signed_headers),
            request.payload_hash or hashlib.sha256(request.body).hexdigest(),
        ]
    )


@functools.lru_cache(maxsize=1024)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """SigV4's derived key: the same for a key's every request of one day, region and service,
    so derived once (four HMACs of every invocation the router checks)."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def signing_key(secret: str, credential: Credential) -> bytes:
    return _signing_key(secret, credential.date, credential.region, credential.service)


def scope(credential: Credential) -> str:
    return f"{credential.date}/{credential.region}/{credential.service}/aws4_request"


def chunk_signature(
    key: bytes, stamp: str, credential: Credential, previous: str, chunk_sha256: str
) -> str:
    """The signature of one chunk of an aws-chunked body: it chains to the previous chunk's
    (the request's own signature for the first), so chunks cannot be dropped or reordered."""
    string_to_sign = "\n".join(
        [CHUNK_ALGORITHM, stamp, scope(credential), previous, EMPTY_SHA256, chunk_sha256]
    )
    return hmac.digest(key, string_to_sign.encode(), "sha256").hex()


def trailer_signature(
    key: bytes, stamp: str, credential: Credential, previous: str, trailer: str
) -> str:
    """The signature of an aws-chunked body's trailing headers (`trailer`: each as
    `name:value\n`), chained to the last (empty) chunk's."""
    trailer_sha256 = hashlib.sha256(trailer.encode()).hexdigest()
    string_to_sign = "\n".join(
        [TRAILER_ALGORITHM, stamp, scope(credential), previous, trailer_sha256]
    )
    return hmac.digest(key, string_to_sign.encode(), "sha256").hex()


def signature(request: SignedRequest, credential: Credential, secret: str) -> str:
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            request.presigned_date or request.headers["x-amz-date"],
            scope(credential),
            hashlib.sha256(
                canonical_request(request, credential.signed_headers).encode()
            ).hexdigest(),
        ]
    )
    key = _signing_key(secret, credential.date, credential.region, credential.service)
    return hmac.digest(key, string_to_sign.encode(), "sha256").hex()


def verify(request: SignedRequest, credential: Credential, secret: str, now: datetime) -> None:
    """Raise unless `credential` signs `request` with `secret`, within the clock skew (a
    presigned URL's time was checked by `parse_presigned`)."""
    if not request.presigned_date:
        check_clock(request, credential, now)
    expected = signature(request, credential, secret)
    if not hmac.compare_digest(expected, credential.signature):
        raise InvalidSignature(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
