"""Hosting's and the registry's events on the dashboard's websocket, as the other resources'
are: a domain's members who may describe a model, endpoint, transform job or model package
group see its events; an endpoint's instances' events reach the sockets subscribed to the
endpoint (its page) and nobody else; a member of another domain receives none of them."""

import pytest
from asgiref.sync import sync_to_async

from domains.services import update_policy
from jobs.models import TransformJob
from jobs.services.hosted_models import create_model
from jobs.services.registry import create_model_package_group
from studio.core.lifecycle import transition
from tests.integration.conftest import put
from tests.integration.test_endpoint_pages import instance, make_endpoint
from tests.integration.test_live_events import _connect, _events_until, _next_event

pytestmark = pytest.mark.usefixtures("live", "instance_types")

IMAGE = "studio/sklearn:latest"


def _model(actor, domain_id: str, name: str):
    url = put("s3://research-models/iris/model.tar.gz", b"\x1f\x8b a model")
    request = {"ModelName": name, "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": url}}
    return create_model(actor, domain_id, request)


def _transform_job(profile, name: str) -> TransformJob:
    """A running transform job row as CreateTransformJob leaves it; nothing runs it."""
    return TransformJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request={"TransformJobName": name, "ModelName": "iris"},
        status="InProgress",
        instance_type="ml.m5.large",
    )


def _of(resource_type: str, resource_id: str):
    return lambda e: e.get("resource_type") == resource_type and e["resource_id"] == resource_id


async def _subscribe(communicator, key: str) -> dict:
    await communicator.send_json_to({"subscribe": key})
    return await _next_event(communicator, lambda e: e.get("subscribe") == key)


@pytest.fixture
def carol_elsewhere(make_domain, carol, make_profile):
    """carol, a member of another domain."""
    return make_profile(make_domain("finance"), carol)


async def test_a_colleague_sees_hosting_and_registry_events_another_domain_none(
    domain, alice, alice_profile, bob, bob_profile, carol, carol_elsewhere
):
    domain_id = domain.domain_id
    bobs, connected = await _connect(bob, bob_profile.pk)
    assert connected
    carols, connected = await _connect(carol, carol_elsewhere.pk)
    assert connected
    try:
        model = await sync_to_async(_model)(alice, domain_id, "iris")
        group = await sync_to_async(create_model_package_group)(
            alice, domain_id, {"ModelPackageGroupName": "churn"}
        )
        job = await sync_to_async(_transform_job)(alice_profile, "scores")
        await sync_to_async(transition)(job, "Completed")
        endpoint = await sync_to_async(make_endpoint)(alice_profile, "serving")
        await sync_to_async(transition)(endpoint, "Updating")

        seen = await _events_until(bobs, _of("Endpoint", endpoint.resource_id))
        kinds = {(e["resource_type"], e["kind"]) for e in seen}
        assert ("Model", "created") in kinds and ("ModelPackageGroup", "created") in kinds
        assert ("TransformJob", "status") in kinds and ("Endpoint", "status") in kinds
        assert not [e for e in seen if e["kind"] == "notification"]  # alice's, not bob's

        # carol's own endpoint, changed last: anything of research's would have come first.
        elsewhere = await sync_to_async(make_endpoint)(carol_elsewhere, "hers")
        await sync_to_async(transition)(elsewhere, "Updating")
        seen = await _events_until(carols, _of("Endpoint", elsewhere.resource_id))
        research = {model.resource_id, group.resource_id, job.resource_id, endpoint.resource_id}
        assert not [e for e in seen if e.get("resource_id") in research], seen
    finally:
        await bobs.disconnect()
        await carols.disconnect()


async def test_instance_events_reach_the_endpoints_page_and_nobody_else(
    domain, alice, alice_profile, bob, bob_profile, carol, carol_elsewhere
):
    endpoint = await sync_to_async(make_endpoint)(alice_profile, "serving")
    key = f"Endpoint:{endpoint.resource_id}"
    page, connected = await _connect(bob, bob_profile.pk)
    assert connected
    elsewhere, connected = await _connect(alice, alice_profile.pk)  # alice, on another page
    assert connected
    outsider, connected = await _connect(carol, carol_elsewhere.pk)
    assert connected
    try:
        assert (await _subscribe(page, key))["kind"] == "subscribed"
        # Another domain's member cannot watch it: to them it does not exist.
        refused = await _subscribe(outsider, key)
        assert refused["kind"] == "error" and "does not exist" in refused["message"]

        serving = await sync_to_async(instance)(endpoint)
        await sync_to_async(transition)(serving, "Draining")
        event = await _next_event(page, _of("EndpointInstance", serving.resource_id))
        assert (event["kind"], event["status"]) == ("status", "Draining")

        # The endpoint's own change comes after: an instance's event would have come first.
        await sync_to_async(transition)(endpoint, "Updating")
        seen = await _events_until(elsewhere, _of("Endpoint", endpoint.resource_id))
        assert not [e for e in seen if e.get("resource_type") == "EndpointInstance"], seen
        theirs = await sync_to_async(make_endpoint)(carol_elsewhere, "hers")
        await sync_to_async(transition)(theirs, "Updating")
        seen = await _events_until(outsider, _of("Endpoint", theirs.resource_id))
        assert not [e for e in seen if endpoint.resource_id in e.get("resource_id", "")], seen
    finally:
        for communicator in (page, elsewhere, outsider):
            await communicator.disconnect()


async def test_a_policy_hiding_endpoints_hides_their_page_and_their_events(
    root, domain, alice, alice_profile, bob, bob_profile
):
    await sync_to_async(update_policy)(
        root, domain.domain_id, "DataScientist", deny=["sagemaker:DescribeEndpoint"]
    )
    endpoint = await sync_to_async(make_endpoint)(alice_profile, "secret-ep")
    bobs, connected = await _connect(bob, bob_profile.pk)
    assert connected
    try:
        refused = await _subscribe(bobs, f"Endpoint:{endpoint.resource_id}")
        assert refused["kind"] == "error" and "sagemaker:DescribeEndpoint" in refused["message"]
        await sync_to_async(transition)(endpoint, "Updating")
        model = await sync_to_async(_model)(alice, domain.domain_id, "after")  # still visible
        seen = await _events_until(bobs, _of("Model", model.resource_id))
        assert not [e for e in seen if e.get("resource_id") == endpoint.resource_id], seen
    finally:
        await bobs.disconnect()
