"""SageMaker's API over HTTP, called with boto3 as a user's code calls it: SigV4 with a
profile's access key, answers in SageMaker's shapes, errors by SageMaker's codes."""

import json

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from domains.models import App, Space
from domains.services import create_access_key, create_space, update_access_key
from studio.core.api_socket import API_SOCKET_NAME, api_socket_dir
from tests.conftest import settled, wait_for
from tests.integration.api import error_code, sagemaker
from tests.integration.notebooks import running

pytestmark = pytest.mark.usefixtures("live")


@pytest.fixture
def alice_api(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret)


def test_boto3_lists_and_describes_spaces_with_an_access_key(alice_api, alice, alice_profile):
    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="lab"))
    listed = alice_api.list_spaces(DomainIdEquals=domain_id)["Spaces"]
    assert [(s["SpaceName"], s["Status"]) for s in listed] == [("lab", "InService")]
    assert listed[0]["OwnershipSettingsSummary"] == {"OwnerUserProfileName": alice_profile.name}
    described = alice_api.describe_space(DomainId=domain_id, SpaceName="lab")
    assert described["SpaceArn"].endswith(f":space/{domain_id}/lab")
    assert described["CreationTime"].year >= 2024  # a timestamp boto3 could parse
    assert alice_api.list_apps(DomainIdEquals=domain_id)["Apps"] == []


def test_a_key_sees_only_what_its_profile_may_see(
    alice_api, alice, alice_profile, bob, bob_profile, make_domain
):
    domain_id = alice_profile.domain.domain_id
    settled(create_space(bob, domain_id, name="bobs"))
    other = make_domain("elsewhere")
    assert alice_api.list_spaces()["Spaces"] == []
    assert error_code(lambda: alice_api.describe_space(DomainId=domain_id, SpaceName="bobs")) == (
        "ResourceNotFound"
    )
    # A domain the profile is not in is as unknown as one that does not exist.
    assert error_code(lambda: alice_api.list_spaces(DomainIdEquals=other.domain_id)) == (
        "ResourceNotFound"
    )


def test_a_wrong_secret_an_unknown_key_and_an_inactive_key_are_refused(
    asgi_server,
    alice,
    alice_profile,
):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    wrong = sagemaker(asgi_server, key.access_key_id, secret + "x")
    assert error_code(wrong.list_spaces) == "InvalidSignatureException"
    unknown = sagemaker(asgi_server, "SKIANOSUCHKEY0000000", secret)
    assert error_code(unknown.list_spaces) == "UnrecognizedClientException"
    update_access_key(alice, key.access_key_id, "Inactive")
    assert error_code(sagemaker(asgi_server, key.access_key_id, secret).list_spaces) == (
        "UnrecognizedClientException"
    )


def test_a_key_signed_for_another_region_is_told_which_region(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    client = boto3.client(
        "sagemaker",
        endpoint_url=asgi_server,
        region_name="eu-west-1",
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=secret,
    )
    with pytest.raises(ClientError, match="AWS_DEFAULT_REGION=us-east-1"):
        client.list_spaces()


def test_bad_input_names_the_field_and_the_rule(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    # boto3 checks parameters itself; without that, Studio must check them as SageMaker does.
    client = sagemaker(asgi_server, key.access_key_id, secret, parameter_validation=False)
    with pytest.raises(ClientError) as caught:
        client.list_spaces(MaxResults=1000)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "MaxResults" in error["Message"] and "less than or equal to 100" in error["Message"]
    with pytest.raises(ClientError, match="SpaceName"):
        client.describe_app(
            DomainId=alice_profile.domain.domain_id, AppType="JupyterLab", AppName="default"
        )


def test_pages_follow_next_token(alice_api, alice, alice_profile):
    domain_id = alice_profile.domain.domain_id
    for name in ("one", "three", "two"):
        create_space(alice, domain_id, name=name)
    first = alice_api.list_spaces(MaxResults=2)
    assert [s["SpaceName"] for s in first["Spaces"]] == ["one", "three"]
    rest = alice_api.list_spaces(MaxResults=2, NextToken=first["NextToken"])
    assert [s["SpaceName"] for s in rest["Spaces"]] == ["two"]
    assert "NextToken" not in rest
    paginated = alice_api.get_paginator("list_spaces").paginate(PaginationConfig={"PageSize": 1})
    assert [s["SpaceName"] for p in paginated for s in p["Spaces"]] == ["one", "three", "two"]


def signed_post(
    url: str, target: str, key_id: str, secret: str, body: bytes = b"{}"
) -> httpx.Response:
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(key_id, secret), "sagemaker", "us-east-1").add_auth(request)
    return httpx.post(url + "/", content=body, headers=dict(request.headers.items()))


@pytest.mark.parametrize(
    "body,says",
    [
        (b"{not json", "The request body is not JSON"),
        (b"[1, 2]", "The request body must be a JSON object."),
        (b'{"x": "' + b"y" * 3_000_000 + b'"}', "The request body is larger than"),
    ],
    ids=["not json", "not an object", "too large"],
)
def test_a_malformed_body_is_a_validation_error_not_a_500(
    asgi_server, alice, alice_profile, body, says
):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    response = signed_post(asgi_server, "SageMaker.ListApps", key.access_key_id, secret, body)
    assert response.status_code == 400
    assert response.json()["__type"] == "ValidationException"
    assert says in response.json()["message"]


def test_a_failure_inside_studio_is_an_internal_failure_in_aws_shape(
    asgi_server, alice, alice_profile, monkeypatch
):
    from studio.web.api.registry import OPERATIONS

    def broken(caller, params):
        raise RuntimeError("a bug")

    monkeypatch.setitem(OPERATIONS, "ListApps", broken)
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    response = signed_post(asgi_server, "SageMaker.ListApps", key.access_key_id, secret)
    assert response.status_code == 500
    assert response.json() == {
        "__type": "InternalFailure",
        "message": "Studio failed on this request; its web log says why.",
    }


def test_an_operation_studio_does_not_have_is_named_in_the_error(
    asgi_server,
    alice,
    alice_profile,
):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    response = signed_post(asgi_server, "SageMaker.NoSuchOperation", key.access_key_id, secret)
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"
    assert "SageMaker.NoSuchOperation" in response.json()["message"]


def test_an_unsigned_api_request_is_refused_and_the_dashboard_is_untouched(asgi_server):
    response = httpx.post(
        asgi_server + "/", content=b"{}", headers={"X-Amz-Target": "SageMaker.ListSpaces"}
    )
    assert response.status_code == 403
    assert json.loads(response.content)["__type"] == "MissingAuthenticationTokenException"
    assert httpx.get(asgi_server + "/").status_code == 302  # the dashboard: log in first


def test_the_socket_notebook_containers_use_answers_only_the_api(asgi_server):
    transport = httpx.HTTPTransport(uds=str(api_socket_dir() / API_SOCKET_NAME))
    with httpx.Client(transport=transport, base_url="http://localhost") as client:
        assert client.get("/healthz").status_code in (200, 503)
        unsigned = client.post("/", content=b"{}", headers={"X-Amz-Target": "SageMaker.ListApps"})
        assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
        for path in ("/login/", "/admin/", "/jupyter/d-x/lab/api/status", "/ws/events/"):
            assert client.get(path).status_code == 404, path


def test_boto3_creates_starts_stops_and_deletes_a_space_and_its_app(
    jupyter, alice_api, alice_profile, bob_profile
):
    domain_id = alice_profile.domain.domain_id
    arn = alice_api.create_space(DomainId=domain_id, SpaceName="api-lab", SpaceDisplayName="Lab")[
        "SpaceArn"
    ]
    assert arn.endswith(f":space/{domain_id}/api-lab")
    settled(Space.objects.get(name="api-lab"))
    assert alice_api.describe_space(DomainId=domain_id, SpaceName="api-lab")[
        "SpaceDisplayName"
    ] == ("Lab")
    app = {"DomainId": domain_id, "SpaceName": "api-lab", "AppType": "JupyterLab"}
    alice_api.create_app(**app, AppName="default")
    running(App.objects.get(space__name="api-lab"))
    described = alice_api.describe_app(**app, AppName="default")
    assert (described["Status"], described["ResourceSpec"]["InstanceType"]) == (
        "InService",
        "ml.t3.medium",
    )
    assert error_code(lambda: alice_api.delete_space(DomainId=domain_id, SpaceName="api-lab")) == (
        "ResourceInUse"  # as SageMaker: apps first
    )
    alice_api.delete_app(**app, AppName="default")
    wait_for(
        lambda: alice_api.describe_app(**app, AppName="default")["Status"] == "Deleted",
        60,
        "the app to stop",
    )
    alice_api.delete_space(DomainId=domain_id, SpaceName="api-lab")
    wait_for(lambda: not Space.objects.filter(name="api-lab").exists(), 30, "the space to go")


def test_a_key_cannot_create_in_or_start_someone_elses_space(
    alice_api, alice_profile, bob, bob_profile
):
    domain_id = alice_profile.domain.domain_id
    settled(create_space(bob, domain_id, name="bobs"))
    app = {"DomainId": domain_id, "SpaceName": "bobs", "AppType": "JupyterLab"}
    assert error_code(lambda: alice_api.create_app(**app, AppName="default")) == "ResourceNotFound"
    assert error_code(lambda: alice_api.delete_app(**app, AppName="default")) == "ResourceNotFound"
    assert error_code(
        lambda: alice_api.create_space(
            DomainId=domain_id,
            SpaceName="for-bob",
            OwnershipSettings={"OwnerUserProfileName": bob_profile.name},
        )
    ) == ("AccessDeniedException")
    assert not App.objects.exists() and list(Space.objects.values_list("name", flat=True)) == [
        "bobs"
    ]


def test_a_key_reads_its_own_domain_and_its_profiles(
    alice_api, alice_profile, bob_profile, make_domain
):
    domain_id = alice_profile.domain.domain_id
    make_domain("elsewhere")
    # The key's domain only, though a superuser made another one.
    assert [d["DomainId"] for d in alice_api.list_domains()["Domains"]] == [domain_id]
    domain = alice_api.describe_domain(DomainId=domain_id)
    assert (domain["DomainName"], domain["Status"], domain["AuthMode"]) == (
        alice_profile.domain.name,
        "InService",
        "IAM",
    )
    names = [p["UserProfileName"] for p in alice_api.list_user_profiles()["UserProfiles"]]
    assert names == sorted([alice_profile.name, bob_profile.name])
    profile = alice_api.describe_user_profile(DomainId=domain_id, UserProfileName="alice")
    assert profile["UserProfileArn"].endswith(f":user-profile/{domain_id}/alice")
    assert error_code(
        lambda: alice_api.describe_user_profile(DomainId=domain_id, UserProfileName="nobody")
    ) == ("ResourceNotFound")
