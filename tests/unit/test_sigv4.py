"""Studio's SigV4 check against what botocore's own signer produces."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from studio.core.errors import IncompleteSignature, InvalidSignature, MissingAuthenticationToken
from studio.web.api.sigv4 import SignedRequest, parse_authorization, verify

KEY_ID, SECRET = "SKIAEXAMPLEEXAMPLE00", "s3cr3t-s3cr3t-s3cr3t"
BODY = b'{"DomainIdEquals": "d-abc"}'


def botocore_signed(
    *, path: str = "/", query: str = "", body: bytes = BODY, secret: str = SECRET
) -> SignedRequest:
    url = f"http://127.0.0.1:8989{path}" + (f"?{query}" if query else "")
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "X-Amz-Target": "SageMaker.ListApps",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(KEY_ID, secret), "sagemaker", "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = {name.lower(): value for name, value in prepared.headers.items()}
    headers["host"] = "127.0.0.1:8989"
    return SignedRequest("POST", path, query, headers, body)


def check(request: SignedRequest, secret: str = SECRET, now: datetime | None = None) -> None:
    verify(request, parse_authorization(request), secret, now or datetime.now(UTC))


@pytest.mark.parametrize(
    "path,query",
    [("/", ""), ("/api/", ""), ("/a%20b/c", "x=1&a=%2F&b="), ("/x/../y", "z=a+b")],
)
def test_a_request_botocore_signed_verifies(path, query):
    check(botocore_signed(path=path, query=query))


def test_the_credential_names_key_date_region_and_service():
    credential = parse_authorization(botocore_signed())
    assert credential.access_key_id == KEY_ID
    assert (credential.region, credential.service) == ("us-east-1", "sagemaker")
    assert "host" in credential.signed_headers and "x-amz-date" in credential.signed_headers


def test_a_wrong_secret_is_refused():
    with pytest.raises(InvalidSignature, match="does not match"):
        check(botocore_signed(secret="another secret"))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: SignedRequest(r.method, r.path, r.query, r.headers, b'{"DomainIdEquals": "d-x"}'),
        lambda r: SignedRequest("PUT", r.path, r.query, r.headers, r.body),
        lambda r: SignedRequest(r.method, "/other", r.query, r.headers, r.body),
        lambda r: SignedRequest(r.method, r.path, "a=1", r.headers, r.body),
        lambda r: SignedRequest(
            r.method, r.path, r.query, {**r.headers, "x-amz-target": "SageMaker.DeleteApp"}, r.body
        ),
    ],
    ids=["body", "method", "path", "query", "signed header"],
)
def test_a_request_changed_after_signing_is_refused(tamper):
    with pytest.raises(InvalidSignature):
        check(tamper(botocore_signed()))


def test_a_signature_older_than_15_minutes_is_refused_as_a_replay():
    request = botocore_signed()
    check(request, now=datetime.now(UTC) + timedelta(minutes=14))
    with pytest.raises(InvalidSignature, match=r"Signature expired.*check the client's clock"):
        check(request, now=datetime.now(UTC) + timedelta(minutes=16))


def test_an_unsigned_request_is_told_to_sign():
    with pytest.raises(MissingAuthenticationToken):
        parse_authorization(SignedRequest("POST", "/", "", {}, b""))


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256 Credential=K/20260101/us-east-1/sagemaker/aws4_request",
        "AWS4-HMAC-SHA256 Credential=K/20260101/sagemaker, SignedHeaders=host, Signature="
        + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=K/20260101/us-east-1/sagemaker/aws4_request, "
        "SignedHeaders=x-amz-date, Signature=" + "0" * 64,
    ],
    ids=["other scheme", "no signature", "short credential", "host not signed"],
)
def test_a_malformed_authorization_header_says_what_is_missing(header):
    with pytest.raises(IncompleteSignature):
        parse_authorization(SignedRequest("POST", "/", "", {"authorization": header}, b""))


def test_a_missing_signed_header_is_refused():
    request = botocore_signed()
    headers = {k: v for k, v in request.headers.items() if k != "x-amz-target"}
    with pytest.raises(InvalidSignature, match="x-amz-target"):
        check(SignedRequest(request.method, request.path, request.query, headers, request.body))
