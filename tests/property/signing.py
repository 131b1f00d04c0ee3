"""SigV4 signing as AWS's SDKs do it (botocore's own signer), for requests the tests build by
hand: bodies boto3 would never send, to Django's test client or a live server."""

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.auth import HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
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
    payload_hash: str | None = None,
) -> dict[str, str]:
    """The headers of `method url` with `body`, signed for `service` with the key;
    `payload_hash` is what S3's x-amz-content-sha256 says of the body (UNSIGNED-PAYLOAD, a
    streaming mode, a wrong hash) instead of the body's hash."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    credentials = Credentials(key_id, secret)
    if service != "s3":
        signer = SigV4Auth(credentials, service, REGION)
    else:
        signer = _S3Signer(credentials, service, REGION)
        signer.payload_hash = payload_hash
    signer.add_auth(request)
    return dict(request.headers.items())


def presign(
    method: str, url: str, key_id: str, secret: str, *, version: str = "v4", expires: int = 300
) -> str:
    """`url` presigned for S3 (query-string auth) as boto3's generate_presigned_url makes it:
    SigV4 (X-Amz-*) or SigV2 (AWSAccessKeyId, Expires, Signature)."""
    request = AWSRequest(method=method, url=url, data=b"", headers={})
    credentials = Credentials(key_id, secret)
    if version == "v2":
        HmacV1QueryAuth(credentials, expires=expires).add_auth(request)
    else:
        S3SigV4QueryAuth(credentials, "s3", REGION, expires=expires).add_auth(request)
    return request.url


class _S3Signer(S3SigV4Auth):
    """S3's signer (the path signed as sent, the payload's hash in x-amz-content-sha256), with
    the payload's hash a test chooses."""

    payload_hash: str | None = None

    def payload(self, request: AWSRequest) -> str:
        return self.payload_hash or super().payload(request)


@dataclass
class Answer:
    """A live server's answer, read as Django's test client's (status_code, content, headers)."""

    status_code: int
    content: bytes
    headers: dict[str, str]


def send_raw(base_url: str, method: str, target: str, body: bytes, headers: dict) -> Answer:
    """Send `target` (path and query) byte for byte as given: http.client does not normalise
    or re-encode it, as httpx would."""
    where = urlsplit(base_url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body or method in ("PUT", "POST"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        content = response.read()
        return Answer(response.status, content, dict(response.getheaders()))
    finally:
        connection.close()
