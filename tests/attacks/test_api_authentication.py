"""Refused credentials, with the real boto3 against a live server: a wrong secret, an unknown
key, a signature made 20 minutes off the server's clock, another domain's key, a suspended
profile's key and a disabled key, for sagemaker, sagemaker-runtime, S3, STS and Logs; presigned
S3 URLs used after they expired or with another key's signature. Each is refused with AWS's
code, and what the request would have made or removed is checked afterwards: nothing changed."""

import re
import time
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from domains.models import Space
from domains.services import (
    create_access_key,
    create_space,
    suspend_user_profile,
    update_access_key,
)
from tests.conftest import settled
from tests.integration.api import sagemaker, sagemaker_runtime
from tests.integration.conftest import put

pytestmark = pytest.mark.usefixtures("live")


def refused(call) -> tuple[str, str]:
    """The code and message of the error `call` answers (it must answer one)."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error.get("Message", "")


def invoke(runtime, name: str = "anything"):
    return lambda: runtime.invoke_endpoint(EndpointName=name, Body=b"1,2", ContentType="text/csv")


@pytest.fixture
def lab(member):
    """alice's own space, which refused requests try to delete."""
    return settled(create_space(member.user, member.domain_id, name="lab"))


def assert_untouched(lab) -> None:
    """alice's space is still there as it was, and no space was made by a refused request."""
    assert list(Space.objects.values_list("name", "status")) == [("lab", "InService")]
    assert Space.objects.get().pk == lab.pk


def attempts(api, domain_id: str) -> list:
    """A create, a delete and a read of alice's domain, as a refused caller would try them."""
    return [
        lambda: api.create_space(DomainId=domain_id, SpaceName="forged"),
        lambda: api.delete_space(DomainId=domain_id, SpaceName="lab"),
        lambda: api.describe_space(DomainId=domain_id, SpaceName="lab"),
    ]


def test_a_wrong_secret_is_refused_as_an_invalid_signature(member, lab):
    api = sagemaker(member.url, member.key_id, member.secret[:-1] + "x")
    for call in attempts(api, member.domain_id):
        code, message = refused(call)
        assert code == "InvalidSignatureException"
        assert "signature we calculated does not match" in message
    runtime = sagemaker_runtime(member.url, member.key_id, member.secret[:-1] + "x")
    assert refused(invoke(runtime))[0] == "InvalidSignatureException"
    assert_untouched(lab)


def test_an_unknown_key_is_an_unrecognized_client(member, lab):
    api = sagemaker(member.url, "SKIANOSUCHKEY0000000", member.secret)
    for call in attempts(api, member.domain_id):
        assert refused(call)[0] == "UnrecognizedClientException"
    runtime = sagemaker_runtime(member.url, "SKIANOSUCHKEY0000000", member.secret)
    assert refused(invoke(runtime))[0] == "UnrecognizedClientException"
    assert_untouched(lab)


@pytest.mark.parametrize("off", [timedelta(minutes=-20), timedelta(minutes=20)])
def test_a_signature_20_minutes_off_the_clock_is_refused(member, lab, monkeypatch, off):
    # botocore reads the time it signs with through this function.
    monkeypatch.setattr(
        "botocore.auth.get_current_datetime",
        lambda remove_tzinfo=True: (datetime.now(UTC) + off).replace(tzinfo=None),
    )
    api = sagemaker(member.url, member.key_id, member.secret)
    for call in attempts(api, member.domain_id):
        code, message = refused(call)
        assert code == "InvalidSignatureException"
        assert message.startswith("Signature expired")
    runtime = sagemaker_runtime(member.url, member.key_id, member.secret)
    assert refused(invoke(runtime))[0] == "InvalidSignatureException"
    assert_untouched(lab)


def test_another_domains_key_finds_nothing_of_this_domain(
    member, lab, make_domain, make_profile, carol
):
    other = make_domain("elsewhere")
    make_profile(other, carol)
    key, secret = create_access_key(carol, other.domain_id, "carol")
    theirs = sagemaker(member.url, key.access_key_id, secret)
    for call in attempts(theirs, member.domain_id):
        code, message = refused(call)
        # As for a domain that does not exist: the same code, and nothing of alice's named.
        assert code == "ResourceNotFound"
        assert "lab" not in message and "alice" not in message
    nonexistent = refused(lambda: theirs.describe_domain(DomainId="d-000000000000"))
    mine = refused(lambda: theirs.describe_domain(DomainId=member.domain_id))
    assert mine == (nonexistent[0], nonexistent[1].replace("d-000000000000", member.domain_id))
    assert [d["DomainId"] for d in theirs.list_domains()["Domains"]] == [other.domain_id]
    assert theirs.list_spaces()["Spaces"] == []
    assert_untouched(lab)


def test_a_suspended_profiles_key_is_denied(member, lab, root):
    suspend_user_profile(root, member.domain_id, member.profile.name)
    api = sagemaker(member.url, member.key_id, member.secret)
    for call in attempts(api, member.domain_id):
        code, message = refused(call)
        assert code == "AccessDeniedException"
        assert "suspended" in message
    runtime = sagemaker_runtime(member.url, member.key_id, member.secret)
    code, message = refused(invoke(runtime))
    assert code == "AccessDeniedException"
    assert_untouched(lab)


def test_a_disabled_key_is_an_unrecognized_client(member, lab):
    update_access_key(member.user, member.key_id, "Inactive")
    api = sagemaker(member.url, member.key_id, member.secret)
    for call in attempts(api, member.domain_id):
        assert refused(call)[0] == "UnrecognizedClientException"
    runtime = sagemaker_runtime(member.url, member.key_id, member.secret)
    assert refused(invoke(runtime))[0] == "UnrecognizedClientException"
    assert_untouched(lab)


# -- S3, STS and Logs: the same refusals in each service's own codes --------------------------


def client(service: str, url: str, key_id: str, secret: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


@pytest.fixture
def bucket(member) -> str:
    """alice's domain bucket, holding one object refused requests try to read or replace."""
    from studio.core import storage

    name = storage.domain_bucket(member.domain_id)
    put(f"s3://{name}/kept.csv", KEPT)
    return name


KEPT = b"a,b\n1,2\n"


def stored(bucket: str, key: str) -> bytes | None:
    from studio.core import storage

    path = Path(storage.artifact_store().root) / bucket / key
    return path.read_bytes() if path.is_file() else None


def assert_bucket_untouched(bucket: str) -> None:
    assert stored(bucket, "kept.csv") == KEPT
    assert stored(bucket, "forged.csv") is None


def s3_attempts(s3, bucket: str) -> list:
    return [
        lambda: s3.put_object(Bucket=bucket, Key="forged.csv", Body=b"forged"),
        lambda: s3.delete_object(Bucket=bucket, Key="kept.csv"),
        lambda: s3.get_object(Bucket=bucket, Key="kept.csv"),
        lambda: s3.list_objects_v2(Bucket=bucket),
    ]


def other_services(url: str, key_id: str, secret: str) -> list[tuple[str, object]]:
    """STS's and Logs' calls, with the key."""
    sts = client("sts", url, key_id, secret)
    logs = client("logs", url, key_id, secret)
    return [
        ("sts", sts.get_caller_identity),
        ("logs", lambda: logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")),
    ]


def test_s3_sts_and_logs_refuse_a_wrong_secret(member, bucket):
    wrong = member.secret[:-1] + "x"
    s3 = client("s3", member.url, member.key_id, wrong)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "SignatureDoesNotMatch"
    codes = {"sts": "SignatureDoesNotMatch", "logs": "InvalidSignatureException"}
    for service, call in other_services(member.url, member.key_id, wrong):
        assert refused(call)[0] == codes[service], service
    assert_bucket_untouched(bucket)


def test_s3_sts_and_logs_refuse_an_unknown_key(member, bucket):
    s3 = client("s3", member.url, "SKIANOSUCHKEY0000000", member.secret)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "InvalidAccessKeyId"
    codes = {"sts": "InvalidClientTokenId", "logs": "UnrecognizedClientException"}
    for service, call in other_services(member.url, "SKIANOSUCHKEY0000000", member.secret):
        assert refused(call)[0] == codes[service], service
    assert_bucket_untouched(bucket)


def test_s3_sts_and_logs_refuse_a_signature_20_minutes_old(member, bucket, monkeypatch):
    monkeypatch.setattr(
        "botocore.auth.get_current_datetime",
        lambda remove_tzinfo=True: (datetime.now(UTC) - timedelta(minutes=20)).replace(tzinfo=None),
    )
    s3 = client("s3", member.url, member.key_id, member.secret)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "RequestTimeTooSkewed"
    codes = {"sts": "SignatureDoesNotMatch", "logs": "InvalidSignatureException"}
    for service, call in other_services(member.url, member.key_id, member.secret):
        code, message = refused(call)
        assert code == codes[service], service
        assert "Signature expired" in message, service
    assert_bucket_untouched(bucket)


def test_another_domains_s3_key_is_denied_this_domains_bucket(
    member, bucket, make_domain, make_profile, carol
):
    other = make_domain("elsewhere")
    make_profile(other, carol)
    key, secret = create_access_key(carol, other.domain_id, "carol")
    s3 = client("s3", member.url, key.access_key_id, secret)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "AccessDenied"
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert_bucket_untouched(bucket)


def test_a_suspended_profiles_key_is_denied_s3(member, bucket, root):
    suspend_user_profile(root, member.domain_id, member.profile.name)
    s3 = client("s3", member.url, member.key_id, member.secret)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "AccessDenied"
    assert_bucket_untouched(bucket)


def test_a_disabled_key_is_an_invalid_access_key_for_s3(member, bucket):
    update_access_key(member.user, member.key_id, "Inactive")
    s3 = client("s3", member.url, member.key_id, member.secret)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "InvalidAccessKeyId"
    assert_bucket_untouched(bucket)


def s3_code(response: httpx.Response) -> str:
    return ElementTree.fromstring(response.content).findtext("Code") or ""


LIFETIME = 5  # seconds: long enough to be used once under CI's load, short to wait out


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_a_presigned_url_used_after_it_expired_is_access_denied(member, bucket, version):
    s3 = presigner(member.url, member.key_id, member.secret, version)
    made = time.monotonic()
    get = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "kept.csv"}, ExpiresIn=LIFETIME
    )
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "forged.csv"}, ExpiresIn=LIFETIME
    )
    assert httpx.get(get).content == KEPT  # while it lasts
    time.sleep(max(0.0, made + LIFETIME + 1.1 - time.monotonic()))
    expired = httpx.get(get)
    assert (expired.status_code, s3_code(expired)) == (403, "AccessDenied")
    assert b"Request has expired" in expired.content
    refused_put = httpx.put(put_url, content=b"forged")
    assert (refused_put.status_code, s3_code(refused_put)) == (403, "AccessDenied")
    assert_bucket_untouched(bucket)


def presigner(url: str, key_id: str, secret: str, version: str):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(signature_version=version, s3={"addressing_style": "path"}),
    )


@pytest.mark.parametrize("version,name", [("s3v4", "X-Amz-Signature"), ("s3", "Signature")])
def test_a_presigned_url_with_another_keys_signature_does_not_match(
    member, bucket, make_domain, make_profile, carol, version, name
):
    other = make_domain("elsewhere")
    make_profile(other, carol)
    key, secret = create_access_key(carol, other.domain_id, "carol")
    mine = presigner(member.url, member.key_id, member.secret, version)
    theirs = presigner(member.url, key.access_key_id, secret, version)
    params = {"Bucket": bucket, "Key": "forged.csv"}
    url = mine.generate_presigned_url("put_object", Params=params, ExpiresIn=300)
    their_url = theirs.generate_presigned_url("put_object", Params=params, ExpiresIn=300)
    their_signature = quote(parse_qs(urlsplit(their_url).query)[name][0], safe="")
    swapped = re.sub(rf"([?&]){name}=[^&]+", rf"\g<1>{name}={their_signature}", url)
    assert swapped != url
    answer = httpx.put(swapped, content=b"forged")
    assert (answer.status_code, s3_code(answer)) == (403, "SignatureDoesNotMatch")
    # carol's own URL for alice's bucket is signed right, and denied.
    answer = httpx.put(their_url, content=b"forged")
    assert (answer.status_code, s3_code(answer)) == (403, "AccessDenied")
    assert_bucket_untouched(bucket)


# -- STS session credentials (AssumeRole): refused once their parent is, or altered -------------


def session_of(member) -> dict:
    """Session credentials AssumeRole gives alice's key, as the SDK asks for them."""
    from domains.models import role_arn

    sts = client("sts", member.url, member.key_id, member.secret)
    account = member.profile.domain.account_id
    return sts.assume_role(
        RoleArn=role_arn(account), RoleSessionName="attack", DurationSeconds=900
    )["Credentials"]


def session_client(service: str, url: str, credentials: dict, token: str | None = None):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=token or credentials["SessionToken"],
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def test_session_credentials_are_refused_once_their_key_is_disabled(member, lab, bucket):
    credentials = session_of(member)
    api = session_client("sagemaker", member.url, credentials)
    assert [s["SpaceName"] for s in api.list_spaces()["Spaces"]] == ["lab"]  # they work
    update_access_key(member.user, member.key_id, "Inactive")
    for call in attempts(api, member.domain_id):
        assert refused(call)[0] == "UnrecognizedClientException"
    s3 = session_client("s3", member.url, credentials)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "InvalidAccessKeyId"
    assert_untouched(lab)
    assert_bucket_untouched(bucket)


def test_an_altered_session_token_is_refused(member, lab, bucket):
    credentials = session_of(member)
    token = credentials["SessionToken"]
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    api = session_client("sagemaker", member.url, credentials, altered)
    for call in attempts(api, member.domain_id):
        assert refused(call)[0] == "UnrecognizedClientException"
    s3 = session_client("s3", member.url, credentials, altered)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "InvalidAccessKeyId"
    assert_untouched(lab)
    assert_bucket_untouched(bucket)


def test_session_credentials_of_a_profile_suspended_since_are_denied(member, lab, bucket, root):
    credentials = session_of(member)
    suspend_user_profile(root, member.domain_id, member.profile.name)
    api = session_client("sagemaker", member.url, credentials)
    for call in attempts(api, member.domain_id):
        assert refused(call)[0] == "AccessDeniedException"
    s3 = session_client("s3", member.url, credentials)
    for call in s3_attempts(s3, bucket):
        assert refused(call)[0] == "AccessDenied"
    assert_untouched(lab)
    assert_bucket_untouched(bucket)
