"""Who may reach a space's JupyterLab, and where its server listens: what the proxy asks.

A running app's server listens on a Unix socket in the space's runtime directory (never a TCP
port: no other container, and no other user's kernel, can reach it), and accepts only its own
random token, which the proxy adds and the browser never sees. The container can write that
directory, so the proxy and the worker connect only to a socket the server's uid owns, never
through a link (studio/core/unix_socket.py).
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from domains.models import App, AppStatus, SharingType, Space, StudioStatus
from domains.permissions import User
from studio.core.crypto import decrypt

SOCKET_NAME = "jupyter.sock"


@dataclass(frozen=True)
class ProxyTarget:
    socket: Path
    token: str
    prefix: str  # the server's base_url: "/jupyter/<domain id>/<space name>/"
    uid: int | None = None  # the server's uid, which must own the socket (None: any owner)


def proxy_prefix(domain_id: str, space_name: str) -> str:
    return f"/jupyter/{domain_id}/{space_name}/"


def runtime_dir(space: Space) -> Path:
    """Mounted at /run/studio in the app's container, which can write it; holds the server's
    socket."""
    return Path(settings.DATA_DIR) / "runtime" / "spaces" / space.domain.domain_id / space.name


def boot_dir(space: Space) -> Path:
    """Root's, mounted read-only at /run/studio-boot: the scripts the container runs first."""
    return Path(settings.DATA_DIR) / "runtime" / "boot" / space.domain.domain_id / space.name


def server_uid(app: App) -> int | None:
    """The uid the app's server runs as, recorded when it started. An app started before it
    was recorded has none until it restarts: its socket is then checked for what it is (a
    socket, not a link), not for its owner."""
    return app.runtime_state.get("uid")


def may_use(user: User, space: Space) -> bool:
    """The owner, or a member of a shared space; their profile active in the space's domain.
    Superusers get no special access to someone else's notebooks."""
    if not user.is_authenticated or not user.is_active:
        return False
    profile = next((p for p in space.domain.profiles.all() if p.user_id == user.pk), None)
    if profile is None or profile.is_suspended or profile.status != StudioStatus.IN_SERVICE:
        return False
    if space.owner_id == profile.pk:
        return True
    return space.sharing_type == SharingType.SHARED and space.members.filter(pk=profile.pk).exists()


def proxy_target(user: User, domain_id: str, space_name: str) -> ProxyTarget | None:
    """Where to send `user`'s request for this space, or None: no such space, not theirs, or
    no server running. The caller answers all three the same way (404)."""
    space = (
        Space.objects.select_related("domain")
        .prefetch_related("domain__profiles")
        .filter(domain__domain_id=domain_id, name=space_name)
        .first()
    )
    if space is None or not may_use(user, space):
        return None
    app = App.objects.filter(
        space=space, app_type="JupyterLab", status=AppStatus.IN_SERVICE
    ).first()
    if app is None or "token" not in app.runtime_state:
        return None
    return ProxyTarget(
        socket=runtime_dir(space) / SOCKET_NAME,
        token=decrypt(app.runtime_state["token"]),
        prefix=proxy_prefix(domain_id, space_name),
        uid=server_uid(app),
    )


def note_activity(domain_id: str, space_name: str) -> None:
    """Record that someone used the space's running app just now (the idle culler reads it).
    One UPDATE, no reads: the proxy calls it while serving traffic."""
    App.objects.filter(
        space__domain__domain_id=domain_id,
        space__name=space_name,
        app_type="JupyterLab",
        status=AppStatus.IN_SERVICE,
    ).update(last_user_activity_at=timezone.now())
