"""AWS Signature Version 4, checked the way AWS checks it: the server rebuilds the canonical
request from what arrived, signs it with the caller's secret, and compares.

Only the header form (`Authorization: AWS4-HMAC-SHA256 ...`) is accepted: it is what boto3 and
the AWS CLI send to SageMaker. Spec: docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html
"""

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from studio.core.errors import IncompleteSignature, InvalidSignature, MissingAuthenticationToken

ALGORITHM = "AWS4-HMAC-SHA256"
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
    body: bytes


def signing_service(authorization: str, query: str) -> str | None:
    """The service whose credential scope signed a request (`s3`, `sts`, `logs`, `sagemaker`),
    read from its Authorization header or presigned query without checking anything: it says
    only where the request goes, where its signature is then checked in full."""
    match = _SCOPE_SERVICE.search(authorization) if authorization else None
    if match is None and "X-Amz-Credential=" in query:
        match = _SCOPE_SERVICE.search(query.replace("X-Amz-Credential=", "Credential="))
    return match["service"].lower() if match else None


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


def _request_time(request: SignedRequest, credential: Credential) -> datetime:
    stamp = request.headers.get("x-amz-date")
    if stamp is None:
        raise IncompleteSignature("The X-Amz-Date header is missing.")
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise IncompleteSignature(
            f"X-Amz-Date {stamp!r} must have the form YYYYMMDDTHHMMSSZ."
        ) from None
    if stamp[:8] != credential.date:
        raise InvalidSignature("The Credential date does not match X-Amz-Date.")
    return when


def check_clock(request: SignedRequest, credential: Credential, now: datetime) -> None:
    when = _request_time(request, credential)
    if abs(now - when) > MAX_CLOCK_SKEW:
        raise InvalidSignature(
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
            _canonical_uri(request.path or "/"),
            _canonical_query(request.query),
            "".join(headers),
            ";".join(signed_headers),
            hashlib.sha256(request.body).hexdigest(),
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


def signature(request: SignedRequest, credential: Credential, secret: str) -> str:
    scope = f"{credential.date}/{credential.region}/{credential.service}/aws4_request"
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            request.headers["x-amz-date"],
            scope,
            hashlib.sha256(
                canonical_request(request, credential.signed_headers).encode()
            ).hexdigest(),
        ]
    )
    key = _signing_key(secret, credential.date, credential.region, credential.service)
    return hmac.digest(key, string_to_sign.encode(), "sha256").hex()


def verify(request: SignedRequest, credential: Credential, secret: str, now: datetime) -> None:
    """Raise unless `credential` signs `request` with `secret`, within the clock skew."""
    check_clock(request, credential, now)
    expected = signature(request, credential, secret)
    if not hmac.compare_digest(expected, credential.signature):
        raise InvalidSignature(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
