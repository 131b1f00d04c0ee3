"""Events published by the Celery worker reach the dashboard's websocket through the real
Redis channel layer; the websocket serves only its owner's profile."""

import asyncio
from collections.abc import Callable

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from domains.models import App, Space
from domains.services import create_user_profile
from jobs.models import TrainingJob
from studio.core.lifecycle import transition
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


# --- Notifications: one's own job or app ended (issue 10, item 9) ---------------------------


def _job(profile, name: str) -> TrainingJob:
    """A running job row as CreateTrainingJob leaves it; nothing runs it."""
    return TrainingJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request={"TrainingJobName": name},
        status="InProgress",
        instance_type="ml.m5.large",
    )


def _end(job, status: str, reason: str = "") -> None:
    transition(job, status, reason=reason)


def _notice_of(job):
    def predicate(event):
        return event["kind"] == "notification" and event["resource_id"] == job.resource_id

    return predicate


async def test_the_owner_is_notified_when_their_job_ends_with_a_link_and_the_reasons_first_line(
    instance_types, domain, alice, alice_profile
):
    done = await sync_to_async(_job)(alice_profile, "done")
    broken = await sync_to_async(_job)(alice_profile, "broken")
    communicator, connected = await _connect(alice, alice_profile.pk)
    assert connected
    try:
        await sync_to_async(_end)(done, "Completed")
        notice = await _next_event(communicator, _notice_of(done))
        assert notice["resource_type"] == "TrainingJob" and notice["name"] == "done"
        assert (notice["status"], notice["reason"]) == ("Completed", "")
        assert notice["url"] == "/jobs/training/done/"
        # The job's own page subscribes to this: it shows the end in place, with no toast.
        assert notice["page"] == f"TrainingJob:{done.resource_id}"

        await sync_to_async(_end)(broken, "Failed", "AlgorithmError: exit 2\nTraceback ...")
        notice = await _next_event(communicator, _notice_of(broken))
        assert (notice["status"], notice["reason"]) == ("Failed", "AlgorithmError: exit 2")
    finally:
        await communicator.disconnect()


async def test_a_colleagues_job_ending_is_never_announced_to_another_user(
    instance_types, domain, alice, alice_profile, bob, bob_profile
):
    """Alice's job ends while bob is connected: bob's socket carries its status (the domain's
    list shows it), but no notification; bob's own job ending next is announced to him only,
    so one for alice's job, had it come, would have come before it."""
    alices = await sync_to_async(_job)(alice_profile, "alices")
    bobs = await sync_to_async(_job)(bob_profile, "bobs")
    communicator, connected = await _connect(bob, bob_profile.pk)
    assert connected
    try:
        await sync_to_async(_end)(alices, "Completed")
        await sync_to_async(_end)(bobs, "Completed")
        seen = []
        await _next_event(communicator, lambda e: seen.append(e) or _notice_of(bobs)(e))
        assert any(e["kind"] == "status" and e["resource_id"] == alices.resource_id for e in seen)
        assert [e for e in seen if e["kind"] == "notification"] == [seen[-1]], seen
    finally:
        await communicator.disconnect()


def _app(profile, space_name: str) -> App:
    """A running JupyterLab row in a private space of `profile`'s; nothing runs it."""
    space = Space.objects.create(domain=profile.domain, name=space_name, owner=profile)
    return App.objects.create(
        space=space, status="InService", resource_spec={"InstanceType": "ml.t3.medium"}
    )


async def test_the_owner_is_notified_when_their_app_stops_with_a_link_to_its_space(
    instance_types, domain, alice, alice_profile
):
    app = await sync_to_async(_app)(alice_profile, "lab")
    communicator, connected = await _connect(alice, alice_profile.pk)
    assert connected
    try:
        await sync_to_async(_end)(app, "Deleting")
        await sync_to_async(_end)(app, "Deleted")
        notice = await _next_event(communicator, _notice_of(app))
        assert (notice["what"], notice["name"], notice["status"]) == (
            "JupyterLab",
            "lab",
            "Deleted",
        )
        assert notice["url"] == "/spaces/lab/"
        # The space's page follows its app: there, the stop shows in place.
        assert notice["page"] == f"Space:{domain.domain_id}/lab"
    finally:
        await communicator.disconnect()


# --- The domain's events, only those the user may see ----------------------------------------


async def _events_until(communicator, last) -> list[dict]:
    """Every event up to and including the first `last` matches."""
    seen: list[dict] = []
    await _next_event(communicator, lambda e: seen.append(e) or last(e))
    return seen


def _space(profile, name: str) -> Space:
    """A private space of `profile`'s as the worker leaves it, ready."""
    return Space.objects.create(domain=profile.domain, name=name, owner=profile, status="InService")


def _about(resource) -> Callable[[dict], bool]:
    return lambda e: e.get("resource_id") == resource.resource_id


async def test_a_colleagues_job_events_stay_away_from_a_user_whose_policy_hides_them(
    root, instance_types, domain, alice, alice_profile, bob, bob_profile
):
    from domains.services import update_policy

    await sync_to_async(update_policy)(
        root, domain.domain_id, "DataScientist", deny=["sagemaker:DescribeTrainingJob"]
    )
    alices = await sync_to_async(_job)(alice_profile, "alices-secret")
    bobs = await sync_to_async(_job)(bob_profile, "bobs")
    communicator, connected = await _connect(bob, bob_profile.pk)
    assert connected
    try:
        await sync_to_async(_end)(alices, "Failed", "the secret line of alice's log")
        # Bob's own job still reaches him, through his profile's group.
        await sync_to_async(_end)(bobs, "Completed")
        seen = await _events_until(communicator, _notice_of(bobs))
        assert not [e for e in seen if _about(alices)(e)], seen
        assert "secret" not in repr(seen)
        assert any(e["kind"] == "status" and _about(bobs)(e) for e in seen)
    finally:
        await communicator.disconnect()


async def test_a_colleagues_private_space_sends_its_events_to_no_other_member(
    instance_types, domain, alice, alice_profile, bob, bob_profile
):
    alices = await sync_to_async(_space)(alice_profile, "alices-private")
    bobs = await sync_to_async(_space)(bob_profile, "bobs-private")
    communicator, connected = await _connect(bob, bob_profile.pk)
    assert connected
    try:
        await sync_to_async(_end)(alices, "Deleting")
        await sync_to_async(_end)(bobs, "Deleting")
        seen = await _events_until(communicator, _about(bobs))
        assert not [e for e in seen if _about(alices)(e)], seen
    finally:
        await communicator.disconnect()


async def test_a_domain_admin_sees_the_events_of_every_space(
    instance_types, domain, alice, alice_profile, bob, make_profile
):
    admin = await sync_to_async(make_profile)(domain, bob, role="Admin")
    alices = await sync_to_async(_space)(alice_profile, "watched")
    communicator, connected = await _connect(bob, admin.pk)
    assert connected
    try:
        await sync_to_async(_end)(alices, "Deleting")
        event = await _next_event(communicator, _about(alices))
        assert (event["kind"], event["status"]) == ("status", "Deleting")
    finally:
        await communicator.disconnect()
