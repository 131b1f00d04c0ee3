"""Attacks on Studio's S3 endpoint by a member holding her own key (docs/s3.md): another
domain's buckets, objects and multipart uploads; keys that try to leave their bucket; links a
job's container planted in the store; presigned URLs used late, tampered with or for another
key; a wrong secret and a stale signature. Each refusal is S3's code, and no canary leaks."""

import io
import os
from datetime import timedelta
from pathlib import Path
from unittest import mock

import httpx
import pytest
from botocore.compat import get_current_datetime
from django.conf import settings

from domains.services import create_access_key
from studio.core import storage
from studio.core.errors import ResourceNotFound
from tests.integration.api import error_code
from tests.integration.test_s3_api import s3_client

pytestmark = pytest.mark.usefixtures("live")


@pytest.fixture
def alice_s3(member):
    return s3_client(member.url, member.key_id, member.secret)


@pytest.fixture
def carol_s3(member, canaries, carol):
    from domains.models import UserProfile

    profile = UserProfile.objects.get(user=carol)
    key, secret = create_access_key(carol, profile.domain.domain_id, profile.name)
    return s3_client(member.url, key.access_key_id, secret)


def other_bucket(canaries) -> tuple[str, str]:
    parsed = storage.parse_uri(canaries.other_bucket_uri, "uri")
    return parsed.bucket, parsed.key


def test_another_domains_bucket_is_access_denied_for_every_action(alice_s3, member, canaries):
    bucket, key = other_bucket(canaries)
    attempts = {
        "list": lambda: alice_s3.list_objects_v2(Bucket=bucket),
        "list v1": lambda: alice_s3.list_objects(Bucket=bucket),
        "get": lambda: alice_s3.get_object(Bucket=bucket, Key=key),
        "put": lambda: alice_s3.put_object(Bucket=bucket, Key="planted", Body=b"x"),
        "delete": lambda: alice_s3.delete_object(Bucket=bucket, Key=key),
        "delete many": lambda: alice_s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key}]}
        ),
        "copy out": lambda: alice_s3.copy_object(
            Bucket=storage.domain_bucket(member.domain_id),
            Key="stolen",
            CopySource={"Bucket": bucket, "Key": key},
        ),
        "upload": lambda: alice_s3.create_multipart_upload(Bucket=bucket, Key="m"),
        "location": lambda: alice_s3.get_bucket_location(Bucket=bucket),
    }
    for what, attempt in attempts.items():
        assert error_code(attempt) == "AccessDenied", what
    assert error_code(lambda: alice_s3.head_object(Bucket=bucket, Key=key)) == "403"
    assert error_code(lambda: alice_s3.head_bucket(Bucket=bucket)) == "403"
    assert error_code(lambda: alice_s3.create_bucket(Bucket=bucket)) == "BucketAlreadyExists"
    assert bucket not in [b["Name"] for b in alice_s3.list_buckets()["Buckets"]]
    assert storage.artifact_store().open(canaries.other_bucket_uri).read().decode() == (
        canaries.other_bucket_value
    )
    assert not storage.artifact_store().exists(f"s3://{bucket}/planted")


def test_a_bucket_another_domain_created_and_its_uploads_stay_its_own(alice_s3, carol_s3):
    carol_s3.create_bucket(Bucket="carols-bucket")
    carol_s3.put_object(Bucket="carols-bucket", Key="k", Body=b"carol's")
    upload = carol_s3.create_multipart_upload(Bucket="carols-bucket", Key="big")["UploadId"]
    assert error_code(lambda: alice_s3.create_bucket(Bucket="carols-bucket")) == (
        "BucketAlreadyExists"
    )
    assert error_code(lambda: alice_s3.get_object(Bucket="carols-bucket", Key="k")) == (
        "AccessDenied"
    )
    assert error_code(lambda: alice_s3.delete_bucket(Bucket="carols-bucket")) == "AccessDenied"
    for attempt in (
        lambda: alice_s3.list_parts(Bucket="carols-bucket", Key="big", UploadId=upload),
        lambda: alice_s3.upload_part(
            Bucket="carols-bucket", Key="big", UploadId=upload, PartNumber=1, Body=b"x"
        ),
        lambda: alice_s3.abort_multipart_upload(Bucket="carols-bucket", Key="big", UploadId=upload),
        lambda: alice_s3.list_multipart_uploads(Bucket="carols-bucket"),
    ):
        assert error_code(attempt) == "AccessDenied"
    # Her upload id, tried against alice's own bucket, is as unknown as one never made.
    alice_s3.create_bucket(Bucket="alices-bucket")
    assert (
        error_code(
            lambda: alice_s3.upload_part(
                Bucket="alices-bucket", Key="big", UploadId=upload, PartNumber=1, Body=b"x"
            )
        )
        == "NoSuchUpload"
    )
    assert [
        p["PartNumber"]
        for p in carol_s3.list_parts(Bucket="carols-bucket", Key="big", UploadId=upload).get(
            "Parts", []
        )
    ] == []
    # The SDK's default bucket of carol's account is hers before she ever creates it.
    from domains.models import UserProfile

    carol_account = UserProfile.objects.get(name="carol").domain.account_id
    assert (
        error_code(lambda: alice_s3.create_bucket(Bucket=f"sagemaker-us-east-1-{carol_account}"))
        == "BucketAlreadyExists"
    )


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../escape", "/etc/escape", "a//b", "./a", "a/./b", "nul\x00x"]
)
def test_keys_that_would_leave_the_bucket_are_refused(alice_s3, canaries, key):
    alice_s3.create_bucket(Bucket="alices-bucket")
    code = error_code(lambda: alice_s3.put_object(Bucket="alices-bucket", Key=key, Body=b"x"))
    assert code in ("InvalidArgument", "InvalidURI")
    assert error_code(lambda: alice_s3.get_object(Bucket="alices-bucket", Key=key)) in (
        "InvalidArgument",
        "InvalidURI",
    )
    artifacts = Path(settings.DATA_DIR) / "artifacts"
    assert not (artifacts / "escape").exists()
    assert not Path("/etc/escape").exists()


def test_links_planted_in_the_store_are_never_followed(alice_s3, member, canaries, tmp_path):
    """A job's container could leave links in its outputs: to a host file, to a host
    directory, to another domain's bucket. Through S3 none is an object, none is followed to
    read, write or delete."""
    bucket = storage.domain_bucket(member.domain_id)
    storage.artifact_store().put(f"s3://{bucket}/real.txt", io.BytesIO(b"real"))
    root = Path(settings.DATA_DIR) / "artifacts" / bucket
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    other, _ = other_bucket(canaries)
    (root / "passwd").symlink_to("/etc/passwd")
    (root / "secret").symlink_to(canaries.host_file)
    (root / "etc").symlink_to("/etc")
    (root / "victim").symlink_to(victim)
    (root / "other").symlink_to(Path(settings.DATA_DIR) / "artifacts" / other)
    got = []
    for key in ("passwd", "secret", "etc/passwd", "victim/keep.txt", "other/private/secret.csv"):
        assert error_code(lambda key=key: alice_s3.get_object(Bucket=bucket, Key=key)) == (
            "NoSuchKey"
        ), key
        assert error_code(lambda key=key: alice_s3.head_object(Bucket=bucket, Key=key)) == "404"
    listed = alice_s3.list_objects_v2(Bucket=bucket)
    assert [c["Key"] for c in listed["Contents"]] == ["real.txt"]
    got.append(listed)
    # Writing or deleting through a linked directory: refused, the target untouched.
    code = error_code(
        lambda: alice_s3.put_object(Bucket=bucket, Key="victim/planted.txt", Body=b"x")
    )
    assert code == "InvalidArgument"
    assert sorted(os.listdir(victim)) == ["keep.txt"]
    alice_s3.delete_object(Bucket=bucket, Key="victim/keep.txt")
    assert (victim / "keep.txt").read_text() == "keep"
    # The store itself, as every other reader uses it, does not go through them either.
    store = storage.artifact_store()
    store.delete(f"s3://{bucket}/victim/keep.txt")
    store.delete(f"s3://{bucket}/victim/")
    assert (victim / "keep.txt").read_text() == "keep"
    for key in ("etc/passwd", "secret", "other/private/secret.csv"):
        with pytest.raises(ResourceNotFound):
            store.open(f"s3://{bucket}/{key}")
    alice_s3.copy_object(
        Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "real.txt"}
    )
    assert (
        error_code(
            lambda: alice_s3.copy_object(
                Bucket=bucket, Key="copy2", CopySource={"Bucket": bucket, "Key": "secret"}
            )
        )
        == "NoSuchKey"
    )
    # Overwriting a link replaces the link itself, never the file it points at.
    alice_s3.put_object(Bucket=bucket, Key="secret", Body=b"replaced")
    assert canaries.host_file.read_text() == canaries.host_value
    assert alice_s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"replaced"
    canaries.assert_absent(got)


def test_presigned_urls_late_tampered_or_for_another_key(alice_s3, member):
    alice_s3.create_bucket(Bucket="alices-bucket")
    alice_s3.put_object(Bucket="alices-bucket", Key="a.txt", Body=b"a")
    alice_s3.put_object(Bucket="alices-bucket", Key="b.txt", Body=b"b")
    v4 = s3_client(member.url, member.key_id, member.secret, signature_version="s3v4")
    hour_ago = get_current_datetime() - timedelta(hours=1)
    for client in (alice_s3, v4):
        with (
            mock.patch("botocore.auth.get_current_datetime", return_value=hour_ago),
            mock.patch("botocore.auth.time.time", return_value=hour_ago.timestamp()),
        ):
            late = client.generate_presigned_url(
                "get_object", Params={"Bucket": "alices-bucket", "Key": "a.txt"}, ExpiresIn=60
            )
        refused = httpx.get(late)
        assert refused.status_code == 403
        assert b"<Code>AccessDenied</Code>" in refused.content
        assert b"Request has expired" in refused.content
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": "alices-bucket", "Key": "a.txt"}, ExpiresIn=60
        )
        assert httpx.get(url).content == b"a"
        for forged in (
            url.replace("a.txt", "b.txt"),
            url[:-1] + ("0" if url[-1] != "0" else "1"),
        ):
            answer = httpx.get(forged)
            assert answer.status_code == 403, forged
            assert answer.content != b"b"
        assert httpx.put(url, content=b"overwrite").status_code == 403
    assert alice_s3.get_object(Bucket="alices-bucket", Key="a.txt")["Body"].read() == b"a"
    too_long = v4.generate_presigned_url(
        "get_object", Params={"Bucket": "alices-bucket", "Key": "a.txt"}, ExpiresIn=8 * 86400
    )
    assert httpx.get(too_long).status_code == 400


def test_a_wrong_secret_an_unknown_key_and_a_stale_signature(member):
    wrong = s3_client(member.url, member.key_id, member.secret[:-1] + "x")
    assert error_code(wrong.list_buckets) == "SignatureDoesNotMatch"
    assert (
        error_code(
            lambda: wrong.put_object(
                Bucket=storage.domain_bucket(member.domain_id), Key="k", Body=b"1"
            )
        )
        == "SignatureDoesNotMatch"
    )
    unknown = s3_client(member.url, "AKIAUNKNOWNUNKNOWN00", member.secret)
    assert error_code(unknown.list_buckets) == "InvalidAccessKeyId"
    stale = s3_client(member.url, member.key_id, member.secret)
    twenty_minutes_ago = get_current_datetime() - timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=twenty_minutes_ago):
        assert error_code(stale.list_buckets) == "RequestTimeTooSkewed"
    assert not storage.artifact_store().exists(f"s3://{storage.domain_bucket(member.domain_id)}/k")


def test_a_suspended_profile_and_a_policy_denying_s3(member, alice_s3, root):
    from domains.models import Policy
    from domains.services import suspend_user_profile

    alice_s3.create_bucket(Bucket="alices-bucket")
    policy = Policy.objects.create(
        domain=member.profile.domain, name="NoS3", allow=["sagemaker:*"], deny=["s3:Get*"]
    )
    member.profile.policies.set([policy])
    alice_s3.put_object(Bucket="alices-bucket", Key="k", Body=b"1")
    assert error_code(lambda: alice_s3.get_object(Bucket="alices-bucket", Key="k")) == (
        "AccessDenied"
    )
    suspend_user_profile(root, member.domain_id, member.profile.name)
    assert error_code(alice_s3.list_buckets) == "AccessDenied"
