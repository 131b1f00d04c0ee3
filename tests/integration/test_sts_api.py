"""STS over HTTP, called with boto3's `sts` client: GetCallerIdentity names the key's profile in
its execution role and its domain's account, so the SageMaker SDK's `get_execution_role()`
derives a usable role ARN from it; AssumeRole answers with session credentials bound to the
caller's key; errors come back in STS's XML with STS's codes."""

import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.utils import timezone

from domains.services import (
    create_access_key,
    delete_access_key,
    suspend_user_profile,
    update_user_profile,
)
from studio.core.errors import UnrecognizedClient
from studio.web.api import sts
from tests.integration.api import error_code

pytestmark = pytest.mark.usefixtures("live")


def sts_client(url: str, key_id: str, secret: str, token: str | None = None):
    return boto3.client(
        "sts",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def alice_key(alice, alice_profile):
    return create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)


def sdk_role(assumed_role_arn: str) -> str:
    """What sagemaker.Session.get_caller_identity_arn makes of the ARN outside a notebook
    (sagemaker 2.257, session.py), IAM's get_role being unreachable."""
    return re.sub(r"^(.+)sts::(\d+):assumed-role/(.+?)/.*$", r"\1iam::\2:role/\3", assumed_role_arn)


def test_caller_identity_is_the_profile_in_its_execution_role(
    asgi_server, alice, alice_profile, alice_key, root
):
    key, secret = alice_key
    account = alice_profile.domain.account_id
    identity = sts_client(asgi_server, key.access_key_id, secret).get_caller_identity()
    assert identity["Account"] == account and re.fullmatch(r"\d{12}", account)
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/studio/{alice_profile.name}"
    assert re.fullmatch(rf"AROA[0-9A-F]{{17}}:{alice_profile.name}", identity["UserId"])
    assert identity["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert sdk_role(identity["Arn"]) == f"arn:aws:iam::{account}:role/studio"

    # A profile's own ExecutionRole is the role it acts in.
    role = f"arn:aws:iam::{account}:role/service-role/team-a"
    update_user_profile(
        root,
        alice_profile.domain.domain_id,
        alice_profile.name,
        user_settings={"ExecutionRole": role},
    )
    identity = sts_client(asgi_server, key.access_key_id, secret).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/team-a/{alice_profile.name}"
    assert sdk_role(identity["Arn"]) == f"arn:aws:iam::{account}:role/team-a"


def test_keys_of_two_domains_are_two_accounts(
    asgi_server, alice_key, bob, make_domain, make_profile
):
    other = make_domain("elsewhere")
    bob_profile = make_profile(other, bob)
    bob_key, bob_secret = create_access_key(bob, other.domain_id, bob_profile.name)
    key, secret = alice_key
    mine = sts_client(asgi_server, key.access_key_id, secret).get_caller_identity()
    theirs = sts_client(asgi_server, bob_key.access_key_id, bob_secret).get_caller_identity()
    assert theirs["Account"] == other.account_id != mine["Account"]


def test_refusals_are_stss_own_codes(asgi_server, alice_key):
    key, secret = alice_key
    wrong = sts_client(asgi_server, key.access_key_id, secret + "x")
    assert error_code(wrong.get_caller_identity) == "SignatureDoesNotMatch"
    unknown = sts_client(asgi_server, "SKIANOSUCHKEY0000000", secret)
    assert error_code(unknown.get_caller_identity) == "InvalidClientTokenId"
    client = sts_client(asgi_server, key.access_key_id, secret)
    with pytest.raises(ClientError) as caught:
        client.get_session_token()
    error = caught.value.response["Error"]
    assert (error["Code"], error["Type"]) == ("InvalidAction", "Sender")
    assert "GetSessionToken" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_assume_role_gives_session_credentials_of_the_callers_own_key(
    asgi_server, alice, alice_profile, alice_key, root
):
    key, secret = alice_key
    account = alice_profile.domain.account_id
    role = f"arn:aws:iam::{account}:role/studio"
    client = sts_client(asgi_server, key.access_key_id, secret)
    answer = client.assume_role(RoleArn=role, RoleSessionName="nightly", DurationSeconds=900)
    credentials = answer["Credentials"]
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/studio/nightly"
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert credentials["SecretAccessKey"] != secret  # never the caller's own secret
    lasts = (credentials["Expiration"] - timezone.now()).total_seconds()
    assert 890 < lasts <= 900
    parent, session_secret = sts.session_key(
        credentials["AccessKeyId"], credentials["SessionToken"]
    )
    assert parent.pk == key.pk and session_secret == credentials["SecretAccessKey"]
    # A token under another id, or altered, is no session; another role is refused.
    with pytest.raises(UnrecognizedClient):
        sts.session_key(key.access_key_id, credentials["SessionToken"])
    with pytest.raises(UnrecognizedClient):
        sts.session_key(credentials["AccessKeyId"], credentials["SessionToken"] + "x")
    denied = f"arn:aws:iam::{account}:role/admin"
    assert error_code(lambda: client.assume_role(RoleArn=denied, RoleSessionName="x1")) == (
        "AccessDenied"
    )
    # A suspended profile gets no session (it still learns who it is, as from STS).
    suspend_user_profile(root, alice_profile.domain.domain_id, alice_profile.name)
    code = error_code(lambda: client.assume_role(RoleArn=role, RoleSessionName="nightly"))
    assert code == "AccessDenied"
    assert client.get_caller_identity()["Account"] == account
    # The session ends with its key, and at its expiry.
    expired = sts.issue_session(key.access_key_id, -1)
    with pytest.raises(sts.ExpiredToken):
        sts.session_key(expired[0], expired[2])
    delete_access_key(root, key.access_key_id)
    with pytest.raises(UnrecognizedClient):
        sts.session_key(credentials["AccessKeyId"], credentials["SessionToken"])


def test_assumed_role_credentials_sign_requests_as_the_callers_own_key(
    asgi_server, alice_profile, alice_key, root
):
    key, secret = alice_key
    role = f"arn:aws:iam::{alice_profile.domain.account_id}:role/studio"
    credentials = sts_client(asgi_server, key.access_key_id, secret).assume_role(
        RoleArn=role, RoleSessionName="nightly"
    )["Credentials"]
    session = (credentials["AccessKeyId"], credentials["SecretAccessKey"])
    token = credentials["SessionToken"]

    as_session = sts_client(asgi_server, *session, token=token).get_caller_identity()
    spaces = boto3.client(
        "sagemaker",
        endpoint_url=asgi_server,
        region_name="us-east-1",
        aws_access_key_id=session[0],
        aws_secret_access_key=session[1],
        aws_session_token=token,
    ).list_spaces()

    assert as_session["Account"] == alice_profile.domain.account_id
    assert spaces["Spaces"] == []
    # Without its token, or once its parent key is gone, the session is no one.
    assert error_code(lambda: sts_client(asgi_server, *session).get_caller_identity()) == (
        "InvalidClientTokenId"
    )
    delete_access_key(root, key.access_key_id)
    code = error_code(lambda: sts_client(asgi_server, *session, token=token).get_caller_identity())
    assert code == "InvalidClientTokenId"


@pytest.mark.parametrize(
    "body,code",
    [
        (b"Action=AssumeRole&Version=2011-06-15", "ValidationError"),
        (b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx", "ValidationError"),
        (b"Action=AssumeRole&RoleArn=x&RoleSessionName=a", "ValidationError"),
        (b"Action=AssumeRole&RoleArn=x&RoleSessionName=ok1&DurationSeconds=10", "ValidationError"),
        (b"Action=AssumeRole&RoleArn=x&RoleSessionName=ok1&DurationSeconds=-9", "ValidationError"),
        (b"Action=AssumeRole&RoleArn=x&RoleSessionName=a%3Cb%3E", "ValidationError"),
        (b"%%%garbage&&&=", "InvalidAction"),
        (b"\xff\xfe\x00", "InvalidAction"),
        (b"Action=GetCallerIdentity%00", "InvalidAction"),
    ],
)
def test_malformed_queries_are_refused_in_stss_xml_never_a_500(asgi_server, alice_key, body, code):
    from tests.integration.test_logs_api import signed_post

    key, secret = alice_key
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    answer = signed_post(asgi_server, key.access_key_id, secret, "sts", headers, body)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert f"<Code>{code}</Code>" in answer.text and "<Type>Sender</Type>" in answer.text
    assert "<RequestId>" in answer.text
