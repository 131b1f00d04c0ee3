"""One helper to publish events to the dashboard's websocket subscribers.

Events are sent after the transaction that caused them commits, so a subscriber that reacts by
reading the database sees the new state. Each event goes to the Channels groups it names: a
domain, a user profile, a single resource.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

MESSAGE_TYPE = "studio.event"


def domain_group(domain_id: str) -> str:
    return f"domain.{domain_id}"


def profile_group(profile_pk: int) -> str:
    return f"profile.{profile_pk}"


def resource_group(resource_type: str, resource_id: str) -> str:
    # Channels allows only letters, digits, "-", "_" and "." in group names; a profile's id is
    # "<domain_id>/<name>", and SageMaker names never contain ".".
    return f"resource.{resource_type}.{resource_id.replace('/', '.')}"


@dataclass
class Event:
    kind: str  # "status", "updated", "deleted", "log", "metric"
    resource_type: str
    resource_id: str
    groups: list[str]
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def payload(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "at": self.at.isoformat(),
            **self.data,
        }


def publish(event: Event) -> None:
    """Send `event` to its groups once the current transaction (if any) commits."""
    transaction.on_commit(lambda: send_now(event))


def send_now(event: Event) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": MESSAGE_TYPE, "event": event.payload()}
    try:
        async_to_sync(_send_all)(layer, event.groups, message)
    except Exception:
        # The state change is committed; a lost live update is repaired by the next page load.
        log.exception("could not publish %s event for %s", event.kind, event.resource_id)


async def _send_all(layer, groups: list[str], message: dict) -> None:
    # Each copy names the group it was sent to: a socket in several of them can tell the copy
    # that came for its own profile (the resource is its user's) from the domain's.
    for group in groups:
        await layer.group_send(group, {**message, "group": group})
