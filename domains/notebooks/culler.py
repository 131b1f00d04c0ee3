"""Idle shutdown: stop JupyterLab apps nobody has used for longer than the IdleTimeoutInMinutes
in effect for their space's owner (the domain's default, the profile's override)."""

import logging
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from domains.models import App, AppStatus
from domains.notebooks import launcher
from domains.services.apps import stop_app_now
from domains.user_settings import idle_timeout_minutes, merge_user_settings
from studio.core.errors import StudioError

log = logging.getLogger(__name__)
IDLE = "idle"


def idle_timeout(app: App) -> timedelta | None:
    space = app.space
    settings = merge_user_settings(space.domain.default_user_settings, space.owner.user_settings)
    minutes = idle_timeout_minutes(settings)
    return None if minutes is None else timedelta(minutes=minutes)


def last_activity(app: App) -> datetime | None:
    """The latest sign of use: the server's own last_activity, each kernel's, and the proxy's
    record of the user's requests. None while a kernel is busy: running code is use."""
    reported = launcher.activity(app)
    moments = [app.last_user_activity_at, app.created_at]
    for kernel in reported["kernels"]:
        if kernel.get("execution_state") == "busy":
            return None
        moments.append(parse_datetime(kernel.get("last_activity") or ""))
    moments.append(parse_datetime(reported["status"].get("last_activity") or ""))
    return max(m for m in moments if m is not None)


def cull(now: datetime | None = None) -> list[str]:
    """Stop every idle app; return their resource ids. `now` is for tests that cannot wait an
    hour (SageMaker's shortest idle timeout)."""
    now = now or timezone.now()
    stopped = []
    apps = App.objects.filter(status=AppStatus.IN_SERVICE).select_related(
        "space__domain", "space__owner"
    )
    for app in apps:
        timeout = idle_timeout(app)
        if timeout is None:
            continue
        try:
            latest = last_activity(app)
        except OSError:
            continue  # not answering: the reconciler decides what happened to it
        if latest is not None and now - latest > timeout:
            try:
                stop_app_now(app, IDLE)
            except StudioError as e:
                log.info("could not stop idle app %s: %s", app.resource_id, e)
                continue
            stopped.append(app.resource_id)
    return stopped
