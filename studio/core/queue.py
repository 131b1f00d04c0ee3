"""Send Celery work by task name, so that nothing below an app's `tasks.py` imports it: the
services and the code the tasks run enqueue, and only the tasks module depends on them.

`enqueue` sends once the transaction that asked for it has committed; `send` sends now."""

import logging
from typing import Any

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def send(task_name: str, *args: Any, countdown: float | None = None) -> None:
    current_app.send_task(task_name, args, countdown=countdown)


def enqueue(task_name: str, *args: Any) -> None:
    def send_committed() -> None:
        try:
            send(task_name, *args)
        except Exception:
            # The row is committed in its transient status; the reconciler re-sends the work.
            log.exception("could not enqueue %s%r; the reconciler will retry", task_name, args)

    transaction.on_commit(send_committed)
