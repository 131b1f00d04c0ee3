"""The dashboard's one websocket: it delivers the events of the signed-in user's profile, those
of their domain's resources they may see, and of single resources the page subscribes to (a
job's log lines and metrics), and notifies the user when one of their own jobs or apps ends.

The domain's group carries every resource's events (a colleague's job, a private space). Each
socket passes on only those of resources its user may describe, asked of the same Describe
services the pages and the API use, once per resource and connection: a policy that hides a
colleague's jobs, or a private space, hides their events too (names, statuses, failure
reasons)."""

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import reverse

from domains.models import UserProfile
from domains.services import describe_space, describe_user_profile
from jobs.services import describe_dataset, describe_processing_job, describe_training_job
from jobs.services.endpoints import describe_endpoint
from jobs.services.hosted_models import describe_model
from jobs.services.registry import describe_model_package, describe_model_package_group
from jobs.services.transform import describe_transform_job
from studio.core.errors import StudioError
from studio.core.events import domain_group, profile_group, resource_group

# A page subscribes to the few resources it shows; a cap keeps one socket from joining
# thousands of groups.
MAX_SUBSCRIPTIONS = 20


def _in_domain(describe: Callable) -> Callable:
    """A job's or a space's id is "<domain id>/<name>" (names are unique per domain): its
    page watches it in that domain, which the Describe service checks the user may see. A
    model package's name is "<group>/<version>", which its Describe takes as it is."""

    def describe_by_id(user, resource_id: str):
        domain_id, _, name = resource_id.partition("/")
        return describe(user, domain_id, name)

    return describe_by_id


# Resource type → the Describe service that decides who may watch it, or see its events.
# An endpoint's group also carries its instances' events (EndpointInstance, sent to nobody
# else): its page subscribes to follow them. A group's carries its versions'.
DESCRIBERS: dict[str, Callable] = {
    "TrainingJob": _in_domain(describe_training_job),
    "ProcessingJob": _in_domain(describe_processing_job),
    "TransformJob": _in_domain(describe_transform_job),
    "Space": _in_domain(describe_space),
    "Endpoint": _in_domain(describe_endpoint),
    "ModelPackageGroup": _in_domain(describe_model_package_group),
}
# Types the domain's group also carries, whose events a user may see but not subscribe to.
SEEN_ONLY: dict[str, Callable] = {
    "Dataset": _in_domain(describe_dataset),
    "UserProfile": _in_domain(describe_user_profile),
    "Model": _in_domain(describe_model),
    "ModelPackage": _in_domain(describe_model_package),
}


# Statuses in which a resource has ended, by type: reaching one is worth a notification.
ENDED: dict[str, frozenset[str]] = {
    "TrainingJob": frozenset({"Completed", "Failed", "Stopped"}),
    "ProcessingJob": frozenset({"Completed", "Failed", "Stopped"}),
    "App": frozenset({"Deleted", "Failed"}),  # a stopped app is Deleted, as in SageMaker
}
JOB_PAGES = {"TrainingJob": "dashboard:training_job", "ProcessingJob": "dashboard:processing_job"}


def notification(event: dict[str, Any]) -> dict[str, Any] | None:
    """What to tell the user about `event`, one of their own resources' events: that it ended,
    where its page is, and which subscription that page holds (the page shows the end itself,
    so it tells nothing more); None for any other event."""
    resource_type, resource_id = event.get("resource_type"), event.get("resource_id", "")
    if event.get("kind") != "status" or event.get("status") not in ENDED.get(resource_type, ()):
        return None
    if resource_type == "App":
        # "<domain id>/<space>/<app type>/<app name>": the app is followed on its space's page.
        domain_id, space, app_type, _ = resource_id.split("/", 3)
        name, url = space, reverse("dashboard:space", kwargs={"space_name": space})
        page, what = f"Space:{domain_id}/{space}", app_type
    else:
        name = resource_id.rpartition("/")[2]
        url = reverse(JOB_PAGES[resource_type], kwargs={"name": name})
        page, what = f"{resource_type}:{resource_id}", resource_type
    reason = (event.get("reason") or "").strip().splitlines()
    return {
        "kind": "notification",
        "resource_type": resource_type,
        "resource_id": resource_id,
        "what": what,
        "name": name,
        "status": event["status"],
        "reason": reason[0] if reason else "",
        "url": url,
        "page": page,
    }


@database_sync_to_async
def _own_profile(user, profile_pk: str) -> UserProfile | None:
    if not profile_pk.isdigit():
        return None
    return UserProfile.objects.select_related("domain").filter(pk=profile_pk, user=user).first()


def _refusal(describers: dict[str, Callable], user, resource_type: str, resource_id: str):
    """None when `user` may see the resource; else why not (the service's own message)."""
    describe = describers.get(resource_type)
    if describe is None:
        return f"Cannot subscribe to {resource_type} resources."
    try:
        describe(user, resource_id)
    except StudioError as e:
        return e.message
    return None


@database_sync_to_async
def _may_watch(user, resource_type: str, resource_id: str) -> str | None:
    return _refusal(DESCRIBERS, user, resource_type, resource_id)


@database_sync_to_async
def _may_see(user, resource_type: str, resource_id: str) -> bool:
    return _refusal({**DESCRIBERS, **SEEN_ONLY}, user, resource_type, resource_id) is None


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/events/?profile=<id>`: the profile's events and its domain's, for its owner only.

    The client may then send `{"subscribe": "<ResourceType>:<id>"}` to also receive that
    resource's own events, once its Describe service allows the user to see it.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        query = self.scope.get("query_string", b"").decode()
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        profile = await _own_profile(user, params.get("profile", ""))
        if profile is None:
            await self.close(code=4404)
            return
        # Only the owner's resources are sent to their profile's group (the domain's group
        # carries everyone's): the copy that came through it may be announced to this user.
        self.own_group = profile_group(profile.pk)
        self.domain_id = profile.domain.domain_id
        self.domain_group = domain_group(self.domain_id)
        # A copy: `groups` is a class attribute, and subscriptions below extend this one.
        self.groups = [self.own_group, self.domain_group]
        self.subscriptions: set[str] = set()
        # Whether this user may see a domain resource's events, by "<type>:<id>", as first
        # decided: a resource deleted since stays as it was seen, so its "deleted" arrives.
        self.visible: dict[str, bool] = {}
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def receive_json(self, content, **kwargs) -> None:
        key = content.get("subscribe") if isinstance(content, dict) else None
        if not isinstance(key, str) or ":" not in key:
            await self.send_json(
                {"kind": "error", "message": 'Expected {"subscribe": "<ResourceType>:<id>"}.'}
            )
            return
        if key in self.subscriptions:
            # Acknowledged again: a page waits for the ack to catch up on what it missed.
            await self.send_json({"kind": "subscribed", "subscribe": key})
            return
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self.send_json(
                {
                    "kind": "error",
                    "subscribe": key,
                    "message": f"At most {MAX_SUBSCRIPTIONS} subscriptions.",
                }
            )
            return
        resource_type, resource_id = key.split(":", 1)
        refused = await _may_watch(self.scope["user"], resource_type, resource_id)
        if refused:
            await self.send_json({"kind": "error", "subscribe": key, "message": refused})
            return
        group = resource_group(resource_type, resource_id)
        self.subscriptions.add(key)
        self.groups.append(group)  # left on disconnect with the others
        await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json({"kind": "subscribed", "subscribe": key})

    async def _may_see_event(self, event: dict[str, Any]) -> bool:
        resource_type, resource_id = event.get("resource_type"), event.get("resource_id")
        if resource_type == "Domain":
            return resource_id == self.domain_id
        key = f"{resource_type}:{resource_id}"
        if key not in self.visible:
            self.visible[key] = await _may_see(self.scope["user"], resource_type, resource_id)
        return self.visible[key]

    async def studio_event(self, message: dict) -> None:
        if message.get("group") == self.domain_group and not await self._may_see_event(
            message["event"]
        ):
            return
        await self.send_json(message["event"])
        if message.get("group") == self.own_group:
            notice = notification(message["event"])
            if notice is not None:
                await self.send_json(notice)
