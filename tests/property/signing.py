"""SigV4 signing as AWS's SDKs do it (botocore's own signer), for requests the tests build by
hand: bodies boto3 would never send, to Django's test client or a live server."""

from datetime import UTC, datetime
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
HOST = "testserver"  # Django's test client's host


def sign(
    method: str,
    url: str,
    body: bytes,
    service: str,
    key_id: str,
    secret: str,
    headers: dict[str, str] | None = None,
    when: datetime | None = None,
) -> dict[str, str]:
    """The headers of `method url` with `body`, signed for `service` with the key; `when`
    signs with another clock than now (an expired or future signature)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = SigV4Auth(Credentials(key_id, secret), service, REGION)
    if when is None:
        signer.add_auth(request)
    else:
        # botocore reads the time through this function: the signature then carries `when`.
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    return dict(request.headers.items())


def as_meta(headers: dict[str, str]) -> dict[str, str]:
    """Signed headers as Django's test client takes them (WSGI environ keys)."""
    meta = {}
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        meta[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return meta


def now() -> datetime:
    return datetime.now(UTC)
