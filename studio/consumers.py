"""The dashboard's one websocket: it delivers the events of the signed-in user's profile."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from domains.models import UserProfile
from studio.events import domain_group, profile_group


@database_sync_to_async
def _own_profile(user, profile_pk: str) -> UserProfile | None:
    if not profile_pk.isdigit():
        return None
    return UserProfile.objects.select_related("domain").filter(pk=profile_pk, user=user).first()


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/events/?profile=<id>`: the profile's events and its domain's, for its owner only."""

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
        self.groups = [profile_group(profile.pk), domain_group(profile.domain.domain_id)]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def studio_event(self, message: dict) -> None:
        await self.send_json(message["event"])
