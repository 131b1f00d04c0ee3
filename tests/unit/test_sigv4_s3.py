"""S3's SigV4 variants checked against the values AWS documents ("Signature calculations for
the Authorization header: transferring payload in multiple chunks", with and without trailing
headers): the seed signature of a streaming PUT, each chunk's chained signature, the trailer's
signature, and the body decoder that verifies them while the body streams in."""

import base64
import hashlib
import io
import zlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from django.http import HttpRequest

from studio.web.api.sigv4 import (
    Credential,
    Expired,
    SignedRequest,
    chunk_signature,
    parse_presigned,
    signature,
    signing_key,
    trailer_signature,
)
from studio.web.s3.auth import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    Signed,
)
from studio.web.s3.body import Body
from studio.web.s3.xml import S3Error

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
STAMP = "20130524T000000Z"
SIGNED_HEADERS = (
    "content-encoding",
    "content-length",
    "host",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-decoded-content-length",
    "x-amz-storage-class",
)
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNKS = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
TRAILER_CHUNKS = (
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
)
TRAILER = "x-amz-checksum-crc32c:sOO8/Q==\n"
TRAILER_SIGNATURE = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
SIZES = (65536, 1024, 0)


def credential(signature_: str) -> Credential:
    return Credential(
        "AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3", SIGNED_HEADERS, signature_
    )


def streaming_put(payload: str) -> SignedRequest:
    return SignedRequest(
        method="PUT",
        path="/examplebucket/chunkObject.txt",
        query="",
        headers={
            "content-encoding": "aws-chunked",
            "content-length": "66824",
            "host": "s3.amazonaws.com",
            "x-amz-content-sha256": payload,
            "x-amz-date": STAMP,
            "x-amz-decoded-content-length": "66560",
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
        },
        payload_hash=payload,
        s3_path=True,
    )


def test_the_seed_signature_of_a_streaming_put():
    assert signature(streaming_put(STREAMING_SIGNED), credential(SEED), SECRET) == SEED


def test_the_seed_signature_of_a_streaming_put_with_a_trailer():
    """AWS's trailer example signs x-amz-trailer and not Content-Length."""
    request = streaming_put(STREAMING_SIGNED_TRAILER)
    request = replace(
        request, headers={**request.headers, "x-amz-trailer": "x-amz-checksum-crc32c"}
    )
    names = tuple(sorted({*SIGNED_HEADERS, "x-amz-trailer"} - {"content-length"}))
    seed = replace(credential(TRAILER_SEED), signed_headers=names)
    assert signature(request, seed, SECRET) == TRAILER_SEED


@pytest.mark.parametrize(("seed", "expected"), [(SEED, CHUNKS), (TRAILER_SEED, TRAILER_CHUNKS)])
def test_each_chunk_signature_chains_to_the_previous(seed, expected):
    key = signing_key(SECRET, credential(seed))
    previous = seed
    for size, wanted in zip(SIZES, expected, strict=True):
        previous = chunk_signature(
            key, STAMP, credential(seed), previous, hashlib.sha256(b"a" * size).hexdigest()
        )
        assert previous == wanted


def test_the_trailer_signature():
    key = signing_key(SECRET, credential(TRAILER_SEED))
    assert (
        trailer_signature(key, STAMP, credential(TRAILER_SEED), TRAILER_CHUNKS[-1], TRAILER)
        == TRAILER_SIGNATURE
    )


def request_with(body: bytes, headers: dict[str, str]) -> HttpRequest:
    request = HttpRequest()
    request.method = "PUT"
    request.META = {"CONTENT_LENGTH": str(len(body))}
    for name, value in headers.items():
        request.META["HTTP_" + name.upper().replace("-", "_")] = value
    request._stream = io.BytesIO(body)
    request._read_started = False
    return request


def signed(payload: str, seed: str) -> Signed:
    cred = credential(seed)
    return Signed(None, payload, cred, signing_key(SECRET, cred), seed, STAMP)


def aws_example_body(chunks: tuple[str, ...], trailer: bytes = b"") -> bytes:
    body = b""
    for size, chunk in zip(SIZES, chunks, strict=True):
        body += f"{size:x};chunk-signature={chunk}\r\n".encode() + b"a" * size
        body += b"\r\n" if size else b""
    return body + (trailer or b"\r\n")


def decode(body: Body) -> bytes:
    return b"".join(body.chunks())


def test_the_aws_chunked_example_decodes_and_verifies():
    request = request_with(aws_example_body(CHUNKS), {"x-amz-decoded-content-length": "66560"})
    body = Body(request, signed(STREAMING_SIGNED, SEED), 10**6)
    assert decode(body) == b"a" * 66560
    assert body.size == 66560


def test_a_changed_byte_or_a_dropped_chunk_is_refused():
    tampered = aws_example_body(CHUNKS).replace(b"a" * 10 + b"\r\n400", b"b" * 10 + b"\r\n400")
    request = request_with(tampered, {"x-amz-decoded-content-length": "66560"})
    with pytest.raises(S3Error) as refused:
        decode(Body(request, signed(STREAMING_SIGNED, SEED), 10**6))
    assert refused.value.code == "SignatureDoesNotMatch"
    dropped = f"0;chunk-signature={CHUNKS[2]}\r\n\r\n".encode()
    with pytest.raises(S3Error) as refused:
        decode(Body(request_with(dropped, {}), signed(STREAMING_SIGNED, SEED), 10**6))
    assert refused.value.code == "SignatureDoesNotMatch"


def test_the_signed_trailer_example_decodes_and_its_checksum_is_kept():
    trailer = (
        b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
        + f"x-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n\r\n".encode()
    )
    request = request_with(
        aws_example_body(TRAILER_CHUNKS, trailer),
        {"x-amz-decoded-content-length": "66560", "x-amz-trailer": "x-amz-checksum-crc32c"},
    )
    body = Body(request, signed(STREAMING_SIGNED_TRAILER, TRAILER_SEED), 10**6)
    assert decode(body) == b"a" * 66560
    assert body.checksums == {"crc32c": "sOO8/Q=="}


def test_a_forged_trailer_is_refused():
    trailer = (
        b"x-amz-checksum-crc32c:AAAAAA==\r\n"
        + f"x-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n\r\n".encode()
    )
    request = request_with(
        aws_example_body(TRAILER_CHUNKS, trailer),
        {"x-amz-decoded-content-length": "66560", "x-amz-trailer": "x-amz-checksum-crc32c"},
    )
    with pytest.raises(S3Error) as refused:
        decode(Body(request, signed(STREAMING_SIGNED_TRAILER, TRAILER_SEED), 10**6))
    assert refused.value.code == "SignatureDoesNotMatch"


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def unsigned_trailer_body(data: bytes, checksum: str) -> bytes:
    """What botocore sends over TLS: STREAMING-UNSIGNED-PAYLOAD-TRAILER."""
    return (
        f"{len(data):x}\r\n".encode()
        + data
        + b"\r\n0\r\n"
        + f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode()
    )


def test_an_unsigned_trailer_checksum_is_checked():
    data = b"hello world" * 1000
    headers = {
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    good = Body(
        request_with(unsigned_trailer_body(data, crc32(data)), headers),
        signed(STREAMING_UNSIGNED_TRAILER, SEED),
        10**6,
    )
    assert decode(good) == data
    assert good.checksums == {"crc32": crc32(data)}
    bad = Body(
        request_with(unsigned_trailer_body(data, crc32(b"other")), headers),
        signed(STREAMING_UNSIGNED_TRAILER, SEED),
        10**6,
    )
    with pytest.raises(S3Error) as refused:
        decode(bad)
    assert refused.value.code == "BadDigest"


def test_a_body_past_the_limit_is_entity_too_large():
    with pytest.raises(S3Error) as refused:
        Body(request_with(b"x" * 100, {}), signed("UNSIGNED-PAYLOAD", SEED), 10)
    assert refused.value.code == "EntityTooLarge"


def test_a_payload_hash_that_does_not_match_the_body_is_refused():
    body = Body(
        request_with(b"actual", {}), signed(hashlib.sha256(b"claimed").hexdigest(), SEED), 100
    )
    with pytest.raises(S3Error) as refused:
        decode(body)
    assert refused.value.code == "XAmzContentSHA256Mismatch"


def test_presigned_query_expiry():
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )
    request = SignedRequest("GET", "/test.txt", query, {"host": "examplebucket.s3.amazonaws.com"})
    request = replace(request, s3_path=True)
    # AWS's documented presigned GET (docs: "Authenticating requests: using query parameters").
    cred, as_signed = parse_presigned(request, datetime(2013, 5, 24, 1, tzinfo=UTC))
    assert signature(as_signed, cred, SECRET) == cred.signature
    with pytest.raises(Expired):
        parse_presigned(request, datetime(2013, 5, 25, 0, 0, 1, tzinfo=UTC))


def test_sigv2_presigned_urls_are_routed_to_s3_and_nothing_else_is():
    from studio.web.api.sigv4 import signing_service

    v2 = "AWSAccessKeyId=AKIAX&Signature=abc%3D&Expires=1795863976"
    assert signing_service("", v2) == "s3"
    assert signing_service("", "AWSAccessKeyId=AKIAX&Expires=1") is None
    # A request with its own Authorization header goes where that header's scope says.
    header = "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/sts/aws4_request, x"
    assert signing_service(header, v2) == "sts"
