"""Attacks on the invocation router: reaching another domain's endpoint, driving a member's
session from another site, and a serving container swapping its socket for someone else's.

Where a refused request could have reached a model, the model is the script-mode `serve` that
leaves a marker file when a request arrives: the marker must not appear.
"""

import http.client
import json
import os
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

from tests.integration import test_invocation_router as invocations
from tests.integration.test_invocation_router import ROWS, Spec, refusal

# The fixtures of the router's integration tests: live endpoints over the sklearn serve.
servers = invocations.servers
endpoints = invocations.endpoints
alice_invoker = invocations.alice_invoker


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def marked(marker) -> bytes:
    return json.dumps({"rows": [ROWS[0]], "marker": str(marker)}).encode()


# -- another domain's endpoint -----------------------------------------------------------------


def test_another_domains_endpoint_is_not_found_exactly_as_a_missing_one(
    alice_invoker, endpoints, servers, make_domain, make_profile, carol, tmp_path
):
    other = make_domain("elsewhere")
    carol_profile = make_profile(other, carol, "carol")
    endpoints.make(carol_profile, "secret", {"AllTraffic": Spec(serves=[servers.slow])})
    marker = tmp_path / "reached"

    def invoke(name: str):
        return refusal(
            lambda: alice_invoker.client.invoke_endpoint(
                EndpointName=name, Body=marked(marker), ContentType="application/json"
            )
        ).response["Error"]

    theirs, missing = invoke("secret"), invoke("missing")

    account = alice_invoker.profile.domain.account_id
    assert theirs["Code"] == missing["Code"] == "ValidationError"
    assert theirs["Message"] == f"Endpoint secret of account {account} not found."
    assert missing["Message"] == f"Endpoint missing of account {account} not found."
    assert not marker.exists()


def test_a_session_naming_another_domain_is_refused_as_a_domain_that_does_not_exist(
    alice_invoker, endpoints, servers, make_domain, make_profile, carol, alice, tmp_path
):
    other = make_domain("elsewhere")
    carol_profile = make_profile(other, carol, "carol")
    endpoints.make(carol_profile, "secret", {"AllTraffic": Spec(serves=[servers.slow])})
    marker = tmp_path / "reached"
    session = _session_of(alice)
    headers = {**_json_headers(session), "Origin": alice_invoker.url}

    theirs = post(
        alice_invoker.url,
        f"/endpoints/secret/invocations?domain={other.domain_id}",
        marked(marker),
        headers,
    )
    invented = post(
        alice_invoker.url,
        "/endpoints/secret/invocations?domain=d-invented",
        marked(marker),
        headers,
    )

    assert theirs[0] == invented[0] == 403
    assert theirs[1]["x-amzn-errortype"] == "AccessDeniedException"
    assert json.loads(theirs[2])["message"].startswith("You have no user profile in domain")
    assert not marker.exists()


# -- a member's session, driven from elsewhere -------------------------------------------------


def _session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _json_headers(session: str, extra_cookie: str = "") -> dict[str, str]:
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}" + (
        f"; {extra_cookie}" if extra_cookie else ""
    )
    return {"Content-Type": "application/json", "Cookie": cookie}


def test_a_session_without_same_origin_or_csrf_token_cannot_invoke(
    alice_invoker, endpoints, servers, alice, tmp_path
):
    endpoints.make(alice_invoker.profile, "mine", {"AllTraffic": Spec(serves=[servers.slow])})
    marker = tmp_path / "reached"
    session = _session_of(alice)
    path = "/endpoints/mine/invocations"
    secret = get_random_string(32)
    csrf_cookie = f"{settings.CSRF_COOKIE_NAME}={secret}"

    no_origin = post(alice_invoker.url, path, marked(marker), _json_headers(session))
    other_site = post(
        alice_invoker.url,
        path,
        marked(marker),
        {**_json_headers(session), "Origin": "https://evil.example"},
    )
    wrong_token = post(
        alice_invoker.url,
        path,
        marked(marker),
        {**_json_headers(session, csrf_cookie), "X-CSRFToken": get_random_string(32)},
    )
    # DNS rebinding: another name for Studio's address, whose own pages are same-origin.
    rebound = post(
        alice_invoker.url,
        path,
        marked(marker),
        {**_json_headers(session), "Host": "rebound.example", "Origin": "http://rebound.example"},
    )
    refused = [no_origin, other_site, wrong_token, rebound]
    reached_by_refused = marker.exists()
    same_origin = post(
        alice_invoker.url,
        path,
        marked(marker),
        {**_json_headers(session), "Origin": alice_invoker.url},
    )
    with_token = post(
        alice_invoker.url,
        path,
        marked(marker),
        {**_json_headers(session, csrf_cookie), "X-CSRFToken": secret},
    )

    for status, headers, body in refused:
        assert status == 403
        assert headers["x-amzn-errortype"] == "AccessDeniedException"
        assert "Cross-site invocation refused" in json.loads(body)["message"]
    assert not reached_by_refused
    assert same_origin[0] == with_token[0] == 200
    assert same_origin[1]["x-amzn-invoked-production-variant"] == "AllTraffic"


def test_an_unsigned_request_without_a_session_is_refused(alice_invoker, endpoints, servers):
    endpoints.make(alice_invoker.profile, "mine", {"AllTraffic": Spec(serves=[servers.slow])})

    status, headers, body = post(
        alice_invoker.url,
        "/endpoints/mine/invocations",
        json.dumps({"rows": [ROWS[0]]}).encode(),
        {"Content-Type": "application/json"},
    )

    assert status == 403
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert "Missing Authentication Token" in json.loads(body)["message"]


# -- a serving container swaps its socket ------------------------------------------------------


def _swapped(alice_invoker, endpoints, servers, tmp_path, swap) -> tuple[dict, bool]:
    """Invoke an endpoint whose instance socket `swap(path)` replaced; (error, whether the
    marker server was reached)."""
    from jobs.hosting.paths import instance_socket

    endpoint = endpoints.make(alice_invoker.profile, "swapped", {"AllTraffic": Spec()})
    instance = endpoints.add_instance(endpoint, "AllTraffic", servers.a)
    swap(instance_socket(instance))
    marker = tmp_path / "reached"
    error = refusal(
        lambda: alice_invoker.client.invoke_endpoint(
            EndpointName="swapped", Body=marked(marker), ContentType="application/json"
        )
    )
    return error.response, marker.exists()


@pytest.mark.parametrize("target", ["the web's API socket", "another model's socket"])
def test_a_socket_replaced_by_a_symlink_is_never_connected_to(
    alice_invoker, endpoints, servers, tmp_path, target
):
    from studio.core.api_socket import API_SOCKET_NAME, api_socket_dir

    destination = (
        api_socket_dir() / API_SOCKET_NAME
        if target == "the web's API socket"
        else servers.slow.socket
    )

    def to_symlink(path):
        servers.a.place(tmp_path / "moved-aside.sock")  # the server's own socket, moved away
        path.symlink_to(destination)

    error, reached = _swapped(alice_invoker, endpoints, servers, tmp_path, to_symlink)

    assert error["Error"]["Code"] == "ServiceUnavailable"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert not reached


def test_a_socket_replaced_by_a_hard_link_is_never_connected_to(
    alice_invoker, endpoints, servers, tmp_path
):
    def to_hard_link(path):
        servers.a.place(tmp_path / "moved-aside.sock")
        os.link(servers.slow.socket, path)

    error, reached = _swapped(alice_invoker, endpoints, servers, tmp_path, to_hard_link)

    assert error["Error"]["Code"] == "ServiceUnavailable"
    assert not reached


def test_a_socket_owned_by_another_uid_is_never_connected_to(
    alice_invoker, endpoints, servers, tmp_path
):
    def to_another_owner(path):
        os.chown(path, 54321, -1, follow_symlinks=False)

    try:
        error, _ = _swapped(alice_invoker, endpoints, servers, tmp_path, to_another_owner)
    finally:
        os.chown(servers.a.socket, os.getuid(), -1, follow_symlinks=False)

    assert error["Error"]["Code"] == "ServiceUnavailable"
