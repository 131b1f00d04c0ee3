"""Send Celery work by task name, so that nothing below an app's `tasks.py` imports it: the
services and the code the tasks run enqueue, and only the tasks module depends on them.

`enqueue` sends once the transaction that asked for it has committed; `send` sends now.

Work a user waits for at the screen (starting and stopping JupyterLab, making a new space ready)
goes to a queue of its own, which workers read before the queue of everything else
(`worker_queues`, settings CELERY_TASK_ROUTES): a start never waits behind queued jobs, only
behind other starts. `wait_for` says where a sent task stands, for the page that waits on it."""

import json
import logging
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

from studio.core.health import check_redis, redis_client, running_tasks

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


def worker_queues() -> list[str]:
    """The queues a worker consumes, in the order it reads them (the broker's transport option
    `queue_order_strategy: priority` keeps that order instead of rotating it)."""
    return [settings.STUDIO_INTERACTIVE_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE]


@dataclass(frozen=True)
class Wait:
    """Where a sent task stands: `ahead` is how many messages leave its queue before it, None
    when it is not queued (a worker has taken it, or it has not been sent yet); `running` names
    the tasks the live workers are busy with; `slots` is how many they run at once in all."""

    ahead: int | None
    workers: int
    slots: int
    running: list[str]


def wait_for(task_name: str, *args: Any) -> Wait:
    """How the task `task_name(*args)` waits, read from the broker and the workers' heartbeats
    (a few Redis round trips, no broadcast)."""
    queue = current_app.amqp.router.route({}, task_name)["queue"].name
    client = redis_client()
    # kombu pushes on the left and workers pop on the right: the oldest message is last.
    messages = client.lrange(queue, 0, -1)
    wanted = repr(tuple(args))
    ahead = None
    for index in range(len(messages) - 1, -1, -1):
        headers = json.loads(messages[index]).get("headers", {})
        if headers.get("task") == task_name and headers.get("argsrepr") == wanted:
            ahead = len(messages) - 1 - index
            break
    _, workers = check_redis()
    return Wait(
        ahead=ahead,
        workers=len(workers),
        slots=len(workers) * settings.CELERY_WORKER_CONCURRENCY,
        running=running_tasks(workers),
    )
