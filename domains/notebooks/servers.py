"""The worker side of a JupyterLab app's lifecycle: start it (from the warm pool when a server
waits there, else by launching one), stop it, and reconcile apps with their containers after a
crash. Progress goes to the space's page as events."""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.utils import timezone

from domains.models import App, AppStatus
from domains.notebooks import credentials, warm_pool
from domains.notebooks.access import SOCKET_NAME, runtime_dir
from domains.notebooks.launcher import (
    START_LOST_AFTER,
    LaunchFailed,
    launch,
    launch_lock,
    release,
)
from studio.core import queue
from studio.core.errors import ConflictException
from studio.core.events import publish
from studio.core.lifecycle import transition
from studio.core.runtime import State, get_runtime, runtime_name
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME

log = logging.getLogger(__name__)

STOP_LOST_AFTER = timedelta(seconds=30)


def _progress(app: App, step: str, percent: int) -> None:
    publish(app.event("progress", step=step, percent=percent))


def _fail(app: App, reason: str) -> None:
    credentials.revoke(app)
    try:
        transition(app, AppStatus.FAILED, reason=reason)
    except ConflictException:
        log.info("app %s already left Pending", app.resource_id)


def start(app_pk: int) -> None:
    app = App.objects.select_related("space__domain", "space__owner").filter(pk=app_pk).first()
    if app is None or app.status != AppStatus.PENDING:
        return
    lock = launch_lock(app)
    if not lock.acquire():
        _fail(app, "The app was still being started by someone else; start it again.")
        return
    try:
        if not warm_pool.claim(app):
            runtime = get_runtime(app.runtime_state.get("runtime"))

            def record(state: dict) -> None:
                app.runtime_state = {**app.runtime_state, **state}
                app.save(update_fields=["runtime_state"])

            try:
                launch(app, runtime, record=record, progress=partial(_progress, app))
            except LaunchFailed as e:
                _fail(app, str(e))
                return
    finally:
        release(lock)
    _progress(app, "ready", 100)
    try:
        transition(app, AppStatus.IN_SERVICE)
    except ConflictException:
        # Deleted while starting: the stop task will find the container and remove it.
        log.info("app %s was deleted while starting", app.resource_id)


def stop(app_pk: int) -> None:
    app = App.objects.select_related("space__domain").filter(pk=app_pk).first()
    if app is None or app.status != AppStatus.DELETING:
        return
    runtime = get_runtime(app.runtime_state.get("runtime"))
    container_id = app.runtime_state.get("container")
    if container_id:
        runtime.stop(container_id, timeout=10)
        runtime.remove(container_id)
    # Unlinking removes whatever the name holds (a link, not its target).
    (runtime_dir(app.space) / SOCKET_NAME).unlink(missing_ok=True)
    credentials.revoke(app)
    app.runtime_state = {k: v for k, v in app.runtime_state.items() if k == "runtime"}
    app.save(update_fields=["runtime_state"])
    try:
        transition(app, AppStatus.DELETED)
    except ConflictException:
        log.info("app %s already deleted", app.resource_id)
        return
    if settings.STUDIO_WARM_POOL_SIZE > 0:
        # The app just stopped is now the most recently used stopped one: warm it again.
        queue.send("domains.tasks.refill_warm_pool")


def reconcile() -> dict[str, int]:
    now = timezone.now()
    counts = {"failed": 0, "resent": 0, "removed": 0, "keys_revoked": 0}
    apps = App.objects.select_related("space__domain").filter(
        status__in=[AppStatus.PENDING, AppStatus.IN_SERVICE, AppStatus.DELETING]
    )
    live_names = set()
    for app in apps:
        live_names.add(app.resource_id)
        runtime = get_runtime(app.runtime_state.get("runtime"))
        container_id = app.runtime_state.get("container")
        if app.status == AppStatus.IN_SERVICE:
            status = runtime.status(container_id) if container_id else None
            if status is None or status.state != State.RUNNING:
                code = "" if status is None else f" (exit code {status.exit_code})"
                if container_id:
                    runtime.remove(container_id)
                _fail(app, f"The server's container stopped{code}; start the app again.")
                counts["failed"] += 1
        elif app.status == AppStatus.PENDING and now - app.last_modified_at > START_LOST_AFTER:
            if container_id:
                runtime.remove(container_id)
            _fail(app, "The start was interrupted (the worker stopped); start the app again.")
            counts["failed"] += 1
        elif app.status == AppStatus.DELETING and now - app.last_modified_at > STOP_LOST_AFTER:
            queue.send("domains.tasks.stop_app", app.pk)
            counts["resent"] += 1
    counts["warm_forgotten"] = warm_pool.reconcile()
    warm = warm_pool.containers()
    runtimes = {runtime_name()} | {a.runtime_state.get("runtime") for a in apps} - {None}
    for name in sorted(runtimes):
        runtime = get_runtime(name)
        for container in runtime.list_managed():
            if container.labels.get(LABEL_KIND) != App.RESOURCE_TYPE or container.id in warm:
                continue
            if container.labels.get(LABEL_NAME) not in live_names:
                runtime.stop(container.id, timeout=2)
                runtime.remove(container.id)
                counts["removed"] += 1
    counts["keys_revoked"] = credentials.revoke_stopped()
    return counts
