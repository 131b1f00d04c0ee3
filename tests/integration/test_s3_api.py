"""Studio's S3 endpoint with the real boto3 against a live server: buckets, objects,
multipart uploads, listing, ranges, conditions, presigned URLs, and S3's error codes for the
common mistakes (docs/s3.md)."""

import hashlib
import io
import socket
import threading
import time

import boto3
import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from domains.services import create_access_key
from studio.core.storage import artifact_store, domain_bucket
from tests.integration.api import error_code

pytestmark = pytest.mark.usefixtures("live")
MB = 1024 * 1024


def s3_client(url: str, key_id: str, secret: str, **config):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture
def alice_keys(alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return key.access_key_id, secret


@pytest.fixture
def s3(asgi_server, alice_keys):
    return s3_client(asgi_server, *alice_keys)


@pytest.fixture
def bucket(s3):
    s3.create_bucket(Bucket="alice-data")
    return "alice-data"


def test_bucket_lifecycle_and_listing(s3, alice_profile):
    domain = alice_profile.domain
    s3.create_bucket(Bucket="alice-data")
    sdk_bucket = f"sagemaker-us-east-1-{domain.account_id}"
    s3.create_bucket(Bucket=sdk_bucket)
    s3.create_bucket(
        Bucket="alice-configured", CreateBucketConfiguration={"LocationConstraint": "us-east-1"}
    )
    assert (
        error_code(
            lambda: s3.create_bucket(
                Bucket="alice-elsewhere",
                CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
            )
        )
        == "IllegalLocationConstraintException"
    )
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == sorted(
        ["alice-data", "alice-configured", sdk_bucket, domain_bucket(domain.domain_id)]
    )
    assert s3.list_buckets()["Owner"]["ID"] == domain.account_id
    # The SDK's head_bucket(ExpectedBucketOwner=...) before it uses its default bucket.
    s3.head_bucket(Bucket=sdk_bucket, ExpectedBucketOwner=domain.account_id)
    assert (
        error_code(lambda: s3.head_bucket(Bucket=sdk_bucket, ExpectedBucketOwner="000000000000"))
        == "403"
    )
    # As the SDK lists its default bucket when a default prefix is set: checked on every action.
    s3.list_objects_v2(Bucket=sdk_bucket, Prefix="p/", ExpectedBucketOwner=domain.account_id)
    assert (
        error_code(
            lambda: s3.list_objects_v2(Bucket=sdk_bucket, ExpectedBucketOwner="000000000000")
        )
        == "AccessDenied"
    )
    assert error_code(lambda: s3.create_bucket(Bucket="alice-data")) == "BucketAlreadyOwnedByYou"
    assert s3.get_bucket_location(Bucket="alice-data")["LocationConstraint"] is None
    s3.put_object(Bucket="alice-data", Key="x", Body=b"1")
    assert error_code(lambda: s3.delete_bucket(Bucket="alice-data")) == "BucketNotEmpty"
    s3.delete_object(Bucket="alice-data", Key="x")
    s3.delete_bucket(Bucket="alice-data")
    assert error_code(lambda: s3.head_bucket(Bucket="alice-data")) == "404"
    assert error_code(lambda: s3.list_objects_v2(Bucket="alice-data")) == "NoSuchBucket"


def test_put_get_head_with_metadata_and_etag(s3, bucket):
    body = b"hello, studio\n" * 100
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/hello.txt",
        Body=body,
        ContentType="text/plain",
        Metadata={"purpose": "test"},
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"purpose": "test"}
    assert got["ETag"] == put["ETag"]
    head = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert head["ContentLength"] == len(body)
    assert head["Metadata"] == {"purpose": "test"}
    assert error_code(lambda: s3.get_object(Bucket=bucket, Key="nope")) == "NoSuchKey"
    assert error_code(lambda: s3.head_object(Bucket=bucket, Key="nope")) == "404"


def test_ranged_and_conditional_gets(s3, bucket):
    body = bytes(range(256)) * 4
    etag = s3.put_object(Bucket=bucket, Key="r", Body=body)["ETag"]
    ranged = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert ranged["Body"].read() == body[10:20]
    assert ranged["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-")["Body"].read() == body[1000:]
    assert error_code(lambda: s3.get_object(Bucket=bucket, Key="r", Range="bytes=5000-")) == (
        "InvalidRange"
    )
    assert s3.get_object(Bucket=bucket, Key="r", IfMatch=etag)["Body"].read() == body
    assert error_code(lambda: s3.get_object(Bucket=bucket, Key="r", IfMatch='"0"')) == (
        "PreconditionFailed"
    )
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="r", IfNoneMatch=etag)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    modified = s3.head_object(Bucket=bucket, Key="r")["LastModified"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="r", IfModifiedSince=modified)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert (
        error_code(
            lambda: s3.get_object(
                Bucket=bucket, Key="r", IfUnmodifiedSince=modified.replace(year=2000)
            )
        )
        == "PreconditionFailed"
    )


def test_list_with_delimiter_pages_and_start_after(s3, bucket):
    keys = ["a/1", "a/2", "b/1", "c", "d/e/f", "d/g"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    listed = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [c["Key"] for c in listed["Contents"]] == ["c"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["a/", "b/", "d/"]
    under = s3.list_objects_v2(Bucket=bucket, Prefix="d/", Delimiter="/")
    assert [c["Key"] for c in under["Contents"]] == ["d/g"]
    assert [p["Prefix"] for p in under["CommonPrefixes"]] == ["d/e/"]
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert [c["Key"] for p in pages for c in p["Contents"]] == keys
    rolled = list(
        paginator.paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1})
    )
    assert [
        e
        for p in rolled
        for e in [c["Key"] for c in p.get("Contents", [])]
        + [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    ] == ["a/", "b/", "c", "d/"]
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b/1")
    assert [c["Key"] for c in after["Contents"]] == ["c", "d/e/f", "d/g"]
    v1 = s3.list_objects(Bucket=bucket, Prefix="a/")
    assert [c["Key"] for c in v1["Contents"]] == ["a/1", "a/2"]
    spaced = "with space+plus/ü.txt"
    s3.put_object(Bucket=bucket, Key=spaced, Body=b"x")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="with")["Contents"][0]["Key"] == spaced
    assert s3.get_object(Bucket=bucket, Key=spaced)["Body"].read() == b"x"


def test_multipart_upload_file_of_20_mb(s3, bucket, tmp_path):
    data = tmp_path / "big.bin"
    payload = hashlib.sha256(b"seed").digest() * (20 * MB // 32)
    data.write_bytes(payload)
    config = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    s3.upload_file(str(data), bucket, "big.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(payload)
    assert head["ETag"].strip('"').endswith("-4")
    out = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(out), Config=config)
    assert out.read_bytes() == payload


def test_multipart_api_errors_list_parts_and_abort(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    first = s3.upload_part(
        Bucket=bucket, Key="m", UploadId=upload, PartNumber=1, Body=b"a" * (5 * MB)
    )
    second = s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=2, Body=b"b")
    parts = s3.list_parts(Bucket=bucket, Key="m", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MB), (2, 1)]
    wrong = {"Parts": [{"PartNumber": 1, "ETag": '"00"'}]}
    assert (
        error_code(
            lambda: s3.complete_multipart_upload(
                Bucket=bucket, Key="m", UploadId=upload, MultipartUpload=wrong
            )
        )
        == "InvalidPart"
    )
    backwards = {
        "Parts": [
            {"PartNumber": 2, "ETag": second["ETag"]},
            {"PartNumber": 1, "ETag": first["ETag"]},
        ]
    }
    assert (
        error_code(
            lambda: s3.complete_multipart_upload(
                Bucket=bucket, Key="m", UploadId=upload, MultipartUpload=backwards
            )
        )
        == "InvalidPartOrder"
    )
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="m",
        UploadId=upload,
        MultipartUpload={"Parts": list(reversed(backwards["Parts"]))},
    )
    digests = hashlib.md5(b"a" * (5 * MB)).digest() + hashlib.md5(b"b").digest()
    assert done["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-2"'
    assert s3.get_object(Bucket=bucket, Key="m")["ContentLength"] == 5 * MB + 1
    other = s3.create_multipart_upload(Bucket=bucket, Key="n")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="n", UploadId=other)
    assert error_code(lambda: s3.list_parts(Bucket=bucket, Key="n", UploadId=other)) == (
        "NoSuchUpload"
    )


def test_copy_and_delete_objects(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", Metadata={"a": "1"})
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy me").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert (got["Body"].read(), got["Metadata"]) == (b"copy me", {"a": "1"})
    s3.copy_object(
        Bucket=bucket,
        Key="dst2",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
    )
    assert s3.head_object(Bucket=bucket, Key="dst2")["Metadata"] == {"b": "2"}
    answer = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "src"}, {"Key": "dst"}, {"Key": "never-was"}]},
    )
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["dst", "never-was", "src"]
    assert [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dst2"]


def test_presigned_get_and_put_with_plain_http(s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"for a link")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=60
    )
    got = httpx.get(url)
    assert (got.status_code, got.content) == (200, b"for a link")
    assert "x-amz-request-id" in got.headers
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=60
    )
    assert httpx.put(put_url, content=b"uploaded").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"uploaded"
    tampered = url.replace("shared.txt", "up.txt")
    refused = httpx.get(tampered)
    assert refused.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in refused.content


def test_presigned_sigv4_urls(asgi_server, alice_keys, s3, bucket):
    """With signature_version s3v4 (what the dashboard's links use), query-string SigV4."""
    s3.put_object(Bucket=bucket, Key="v4.txt", Body=b"sigv4 link")
    v4 = s3_client(asgi_server, *alice_keys, signature_version="s3v4")
    url = v4.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "v4.txt"}, ExpiresIn=60
    )
    assert "X-Amz-Signature=" in url
    got = httpx.get(url)
    assert (got.status_code, got.content) == (200, b"sigv4 link")
    put_url = v4.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "v4-up.txt"}, ExpiresIn=60
    )
    assert httpx.put(put_url, content=b"up").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="v4-up.txt")["Body"].read() == b"up"
    refused = httpx.get(url.replace("v4.txt", "v4-up.txt"))
    assert (refused.status_code, b"SignatureDoesNotMatch" in refused.content) == (403, True)


def test_the_domains_own_bucket_shows_what_studio_wrote(s3, alice_profile):
    own = domain_bucket(alice_profile.domain.domain_id)
    artifact_store().put(f"s3://{own}/training-output/job/model.tar.gz", io.BytesIO(b"model"))
    listed = s3.list_objects_v2(Bucket=own, Prefix="training-output/")
    assert [c["Key"] for c in listed["Contents"]] == ["training-output/job/model.tar.gz"]
    got = s3.get_object(Bucket=own, Key="training-output/job/model.tar.gz")
    assert got["Body"].read() == b"model"
    assert got["ETag"] == f'"{hashlib.md5(b"model").hexdigest()}"'


def test_common_mistakes_get_s3s_error_codes(asgi_server, s3, bucket, alice_keys):
    assert error_code(lambda: s3.create_bucket(Bucket="Bad_Name")) == "InvalidBucketName"
    assert error_code(lambda: s3.list_objects_v2(Bucket="no-such-bucket-here")) == "NoSuchBucket"
    assert error_code(lambda: s3.delete_bucket(Bucket="no-such-bucket-here")) == "NoSuchBucket"
    wrong = s3_client(asgi_server, alice_keys[0], alice_keys[1] + "x")
    assert error_code(wrong.list_buckets) == "SignatureDoesNotMatch"
    unknown = s3_client(asgi_server, "AKIANOSUCHKEY0000000", alice_keys[1])
    assert error_code(unknown.list_buckets) == "InvalidAccessKeyId"
    assert (
        error_code(lambda: s3.put_object(Bucket=bucket, Key="a/../b", Body=b"x"))
        == "InvalidArgument"
    )
    assert error_code(lambda: s3.put_object(Bucket=bucket, Key="k" * 1100, Body=b"x")) == (
        "KeyTooLongError"
    )
    assert error_code(lambda: s3.get_bucket_policy(Bucket=bucket)) == "NotImplemented"
    response = s3.list_objects_v2(Bucket=bucket)
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]


def test_virtual_hosted_addressing(asgi_server, alice_keys, bucket, s3, monkeypatch, tmp_path):
    """Told to (boto3 addresses a custom endpoint path-style by default, even by host name),
    boto3 puts the bucket in Host: `<bucket>.localhost`."""
    resolve = socket.getaddrinfo

    def loopback(host, *args, **kwargs):
        # What a browser or systemd-resolved does for *.localhost; this host's resolver does not.
        return resolve("127.0.0.1" if host.endswith(".localhost") else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback)
    sent = []
    virtual = s3_client(
        asgi_server.replace("127.0.0.1", "localhost"),
        *alice_keys,
        s3={"addressing_style": "virtual"},
    )
    virtual.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.url))
    virtual.put_object(Bucket=bucket, Key="dir/v.txt", Body=b"virtual")
    assert sent[-1].startswith(f"http://{bucket}.localhost:")
    assert virtual.get_object(Bucket=bucket, Key="dir/v.txt")["Body"].read() == b"virtual"
    assert s3.get_object(Bucket=bucket, Key="dir/v.txt")["Body"].read() == b"virtual"
    listed = virtual.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["dir/"]
    virtual.head_bucket(Bucket=bucket)
    big = tmp_path / "big.bin"
    big.write_bytes(b"v" * (6 * MB))
    virtual.upload_file(
        str(big),
        bucket,
        "big.bin",
        Config=TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB),
    )
    assert virtual.head_object(Bucket=bucket, Key="big.bin")["ETag"].endswith('-2"')
    url = virtual.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "dir/v.txt"}
    )
    assert url.startswith(f"http://{bucket}.localhost:")
    assert httpx.get(url).content == b"virtual"
    assert error_code(lambda: virtual.get_object(Bucket=bucket, Key="nope")) == "NoSuchKey"


def _rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class PeakRss:
    """The peak resident memory of this process (the server runs in one of its threads) above
    where it was at the start, sampled while the body of the `with` runs."""

    def __enter__(self):
        self.base = _rss()
        self.peak = self.base
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.base


def test_a_large_object_streams_in_and_out_in_constant_memory(s3, bucket, tmp_path):
    size = 96 * MB
    source = tmp_path / "large.bin"
    with open(source, "wb") as out:
        for i in range(size // MB):
            out.write(bytes([i % 251]) * MB)
    with PeakRss() as upload, open(source, "rb") as body:
        s3.put_object(Bucket=bucket, Key="large.bin", Body=body)
    with PeakRss() as download:
        streamed = s3.get_object(Bucket=bucket, Key="large.bin")["Body"]
        digest = hashlib.md5()
        while chunk := streamed.read(MB):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.md5(source.read_bytes()).hexdigest()
    # A whole-object buffer anywhere (request.body, a list of chunks) would add 96 MB.
    assert upload.growth < 40 * MB, upload.growth
    assert download.growth < 40 * MB, download.growth


def test_aws_chunked_uploads_as_boto3_sends_them_over_tls(s3, bucket):
    """Over https boto3 sends STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer; this
    client is told to do the same over the test's plain HTTP."""

    def as_over_tls(params, **_):
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    s3.meta.events.register("before-call.s3.PutObject", as_over_tls)
    s3.meta.events.register("before-call.s3.UploadPart", as_over_tls)
    sent = []
    s3.meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers))
    )
    body = b"chunked " * 100_000
    put = s3.put_object(Bucket=bucket, Key="chunked", Body=io.BytesIO(body))
    assert sent[0]["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ChecksumCRC32"]
    got = s3.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]


def _sign_streaming(url: str, key_id: str, secret: str, path: str, chunks: list[bytes]):
    """A PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD, as the AWS SDK for Java and MinIO's
    clients send it (boto3 does not): the seed signature over the headers, then each chunk
    signed, chained to the one before (the chain is unit-tested against AWS's own values)."""
    from datetime import UTC, datetime
    from urllib.parse import urlsplit

    from studio.web.api.sigv4 import (
        Credential,
        SignedRequest,
        chunk_signature,
        signature,
        signing_key,
    )

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    decoded = sum(len(c) for c in chunks)
    headers = {
        "host": urlsplit(url).netloc,
        "content-encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-date": stamp,
        "x-amz-decoded-content-length": str(decoded),
    }
    names = tuple(sorted(headers))
    credential = Credential(key_id, stamp[:8], "us-east-1", "s3", names, "")
    request = SignedRequest(
        "PUT", path, "", headers, payload_hash=headers["x-amz-content-sha256"], s3_path=True
    )
    seed = signature(request, credential, secret)
    key = signing_key(secret, credential)
    previous, body = seed, b""
    for chunk in [*chunks, b""]:
        previous = chunk_signature(
            key, stamp, credential, previous, hashlib.sha256(chunk).hexdigest()
        )
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + b"\r\n"
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={key_id}/{stamp[:8]}/us-east-1/s3/aws4_request, "
        f"SignedHeaders={';'.join(names)}, Signature={seed}"
    )
    return {**headers, "authorization": authorization}, body


def test_signed_aws_chunked_upload(asgi_server, alice_keys, s3, bucket):
    chunks = [b"a" * 65536, b"b" * 1000]
    headers, body = _sign_streaming(asgi_server, *alice_keys, f"/{bucket}/signed-chunks", chunks)
    answer = httpx.put(f"{asgi_server}/{bucket}/signed-chunks", headers=headers, content=body)
    assert answer.status_code == 200, answer.text
    assert s3.get_object(Bucket=bucket, Key="signed-chunks")["Body"].read() == b"".join(chunks)
    tampered = body.replace(b"b" * 1000, b"c" * 1000)
    refused = httpx.put(f"{asgi_server}/{bucket}/signed-chunks", headers=headers, content=tampered)
    assert refused.status_code == 403
    assert b"SignatureDoesNotMatch" in refused.content
    # The object is still the one the good upload stored.
    assert s3.get_object(Bucket=bucket, Key="signed-chunks")["Body"].read() == b"".join(chunks)


def test_studios_own_presigned_links(asgi_server, s3, bucket, alice_profile, alice_keys):
    from studio.core.errors import AccessDenied
    from studio.web.s3.presign import presign

    s3.put_object(Bucket=bucket, Key="data/report.csv", Body=b"a,b\n")
    url = presign(alice_profile, "GET", f"s3://{bucket}/data/report.csv", 60, endpoint=asgi_server)
    got = httpx.get(url)
    assert (got.status_code, got.content) == (200, b"a,b\n")
    put_url = presign(alice_profile, "PUT", f"s3://{bucket}/data/new.csv", 60, endpoint=asgi_server)
    assert httpx.put(put_url, content=b"new").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="data/new.csv")["Body"].read() == b"new"
    with pytest.raises(AccessDenied):
        presign(alice_profile, "GET", "s3://studio-d-someoneelse/x", 60, endpoint=asgi_server)
