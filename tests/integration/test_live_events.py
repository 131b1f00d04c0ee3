"""Events published by the Celery worker reach the dashboard's websocket through the real
Redis channel layer; the websocket serves only its owner's profile."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from domains.services import create_user_profile
from studio.web.asgi import application

pytestmark = pytest.mark.usefixtures("live")


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def _connect(user, profile_pk) -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        cookie = await sync_to_async(_session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(
        application, f"/ws/events/?profile={profile_pk}", headers=headers
    )
    connected, _ = await communicator.connect()
    return communicator, connected


async def _next_event(communicator, predicate, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        event = await communicator.receive_json_from(timeout=max(0.1, deadline - loop.time()))
        if predicate(event):
            return event


async def test_a_status_change_made_by_the_worker_reaches_the_websocket(
    root, domain, alice, alice_profile, bob
):
    communicator, connected = await _connect(alice, alice_profile.pk)
    assert connected
    try:
        # The service writes Pending; the Celery worker moves it to InService and publishes.
        await sync_to_async(create_user_profile)(root, domain.domain_id, name="bob", user=bob)
        event = await _next_event(
            communicator,
            lambda e: e["resource_id"] == f"{domain.domain_id}/bob" and e["kind"] == "status",
        )
        assert event["resource_type"] == "UserProfile"
        assert (event["from_status"], event["status"]) == ("Pending", "InService")
    finally:
        await communicator.disconnect()


async def test_anonymous_websocket_is_refused(alice_profile):
    _, connected = await _connect(None, alice_profile.pk)
    assert not connected


async def test_a_websocket_for_someone_elses_profile_is_refused(alice_profile, bob, bob_profile):
    _, connected = await _connect(bob, alice_profile.pk)
    assert not connected
