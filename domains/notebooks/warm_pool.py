"""The warm pool: JupyterLab servers started ahead of a click, for the stopped apps used most
recently, so that starting one of them again takes a fraction of a second.

Isolation is not traded for speed: a warm server is exactly the container a start would run
for that one app (its space's volume, its owner's uid, its own token and access key), only
started earlier. While it waits nobody can use it: the app is Deleted, so the proxy answers
404 for it, and its key is Inactive. A start hands it over (`claim`) when it was started with
what the start asks for, and starts afresh otherwise.

`STUDIO_WARM_POOL_SIZE` says how many apps get one (0, the default: none). Each holds its
instance type's memory while it waits; none of it is billed to the user, who is not using it.
"""

import hashlib
import json
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from domains.models import (
    AccessKeyStatus,
    App,
    AppStatus,
    StudioLifecycleConfig,
    StudioStatus,
    WarmServer,
)
from domains.notebooks import credentials
from domains.notebooks.access import SOCKET_NAME, proxy_prefix, runtime_dir
from domains.notebooks.launcher import (
    START_LOST_AFTER,
    LaunchFailed,
    launch,
    launch_lock,
    release,
    server_answers,
)
from domains.services.roles import execution_role
from studio.core.crypto import decrypt
from studio.core.queue import enqueue
from studio.core.runtime import State, get_runtime, runtime_name

log = logging.getLogger(__name__)


def fingerprint(app: App) -> str:
    """What a server for `app` would be started with: its resource spec, the content of its
    lifecycle configuration, the region its credentials name and the execution role its SDK
    files name (a role changed since makes a warm server stale)."""
    script = ""
    arn = app.resource_spec.get("LifecycleConfigArn")
    if arn:
        name = arn.rsplit("/", 1)[-1]
        script = (
            StudioLifecycleConfig.objects.filter(name=name)
            .values_list("content", flat=True)
            .first()
        ) or ""
    role = execution_role(app.space.owner)
    data = json.dumps([app.resource_spec, script, settings.STUDIO_REGION, role], sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def candidates(size: int) -> list[App]:
    """The `size` stopped apps used most recently whose space, owner and domain are in
    service (a suspended owner's apps get none)."""
    if size <= 0:
        return []
    return list(
        App.objects.select_related("space__domain", "space__owner")
        .filter(
            status=AppStatus.DELETED,
            space__status=StudioStatus.IN_SERVICE,
            space__domain__status=StudioStatus.IN_SERVICE,
            space__owner__status=StudioStatus.IN_SERVICE,
            space__owner__suspended_at=None,
        )
        .order_by("-last_user_activity_at", "-pk")[:size]
    )


def refill(size: int | None = None) -> dict[str, int]:
    """Make the pool hold a server for each candidate: start the missing ones (on the
    worker), drop those no longer wanted or started with something else."""
    size = settings.STUDIO_WARM_POOL_SIZE if size is None else size
    wanted = {app.pk: app for app in candidates(size)}
    counts = {"warming": 0, "discarded": 0}
    for warm in WarmServer.objects.select_related("app__space__domain"):
        stale = warm.ready and warm.fingerprint != fingerprint(warm.app)
        if (warm.app_id not in wanted or stale) and discard(warm.app, blocking=False):
            counts["discarded"] += 1

    for app in wanted.values():
        with transaction.atomic():
            _, created = WarmServer.objects.get_or_create(
                app=app, defaults={"runtime": runtime_name(), "fingerprint": fingerprint(app)}
            )
            if created:
                enqueue("domains.tasks.warm_up_app", app.pk)
                counts["warming"] += 1
    return counts


def warm_up(app_pk: int) -> None:
    """Start the server of a stopped app that refill put in the pool."""
    warm = WarmServer.objects.select_related("app__space__domain", "app__space__owner")
    warm = warm.filter(app_id=app_pk, ready=False).first()
    if warm is None:
        return
    app = warm.app
    lock = launch_lock(app, blocking=False)
    if not lock.acquire():
        # A start has the app: it starts afresh, and this server is not needed.
        warm.delete()
        return
    try:
        app.refresh_from_db(fields=["status"])
        if app.status != AppStatus.DELETED:
            warm.delete()
            return
        runtime = get_runtime(warm.runtime)

        def record(state: dict) -> None:
            # The uid is not kept: a warm server is always its space's uid (claim records it).
            fields = {"token_ciphertext": state["token"]} if "token" in state else state
            WarmServer.objects.filter(pk=warm.pk).update(**fields)

        try:
            launch(app, runtime, key_status=AccessKeyStatus.INACTIVE, record=record)
        except LaunchFailed as e:
            log.warning("warming %s failed: %s", app.resource_id, e)
            _remove(warm)
            return
        WarmServer.objects.filter(pk=warm.pk).update(ready=True)
    finally:
        release(lock)


def claim(app: App) -> bool:
    """Hand the app's warm server over to it, if it has one started with what this start
    asks for. The caller holds the app's launch lock. False: start afresh."""
    warm = WarmServer.objects.filter(app=app).first()
    if warm is None:
        return False
    if not _usable(warm, app):
        _remove(warm)
        return False
    credentials.activate(app)
    app.runtime_state = {
        **app.runtime_state,
        "container": warm.container,
        "token": warm.token_ciphertext,
        # launch() started it as this uid, which must own its socket.
        "uid": app.space.home_uid,
    }
    app.save(update_fields=["runtime_state"])
    warm.delete()
    return True


def _usable(warm: WarmServer, app: App) -> bool:
    if not warm.ready or warm.runtime != app.runtime_state.get("runtime"):
        return False
    if warm.fingerprint != fingerprint(app):
        return False
    if get_runtime(warm.runtime).status(warm.container).state != State.RUNNING:
        return False
    space = app.space
    socket = runtime_dir(space) / SOCKET_NAME
    prefix = proxy_prefix(space.domain.domain_id, space.name)
    return server_answers(socket, prefix, decrypt(warm.token_ciphertext), space.home_uid)


def discard(app: App, *, blocking: bool = True) -> bool:
    """Stop and forget the app's warm server. Without `blocking`, gives up (False) when a
    start or a warm-up holds the app, for the next refill to try again."""
    lock = launch_lock(app, blocking=blocking)
    if not lock.acquire():
        return False
    try:
        warm = WarmServer.objects.filter(app=app).first()
        if warm is not None:
            _remove(warm)
        return warm is not None
    finally:
        release(lock)


def _remove(warm: WarmServer) -> None:
    """Remove a warm server's container, key and row (its app is not running)."""
    if warm.container:
        runtime = get_runtime(warm.runtime)
        runtime.stop(warm.container, timeout=2)
        runtime.remove(warm.container)
    warm.app.refresh_from_db(fields=["status"])
    if warm.app.status not in (AppStatus.PENDING, AppStatus.IN_SERVICE):
        credentials.revoke(warm.app)
    warm.delete()


def reconcile() -> int:
    """Forget warm servers whose container died or whose warm-up was lost; how many."""
    forgotten = 0
    lost_before = timezone.now() - START_LOST_AFTER
    for warm in WarmServer.objects.select_related("app__space__domain"):
        if warm.ready:
            state = get_runtime(warm.runtime).status(warm.container).state
            gone = state != State.RUNNING
        else:
            gone = warm.created_at < lost_before
        if gone and discard(warm.app, blocking=False):
            forgotten += 1
    return forgotten


def containers() -> set[str]:
    """The ids of warm servers' containers: not orphans, though no app is running there."""
    return set(WarmServer.objects.exclude(container="").values_list("container", flat=True))
