"""Enqueue Celery work once the transaction that asked for it has committed."""

import logging

from celery import Task
from django.db import transaction

log = logging.getLogger(__name__)


def enqueue(task: Task, *args) -> None:
    def send() -> None:
        try:
            task.delay(*args)
        except Exception:
            # The row is committed in its transient status; the reconciler re-sends the work.
            log.exception("could not enqueue %s%r; the reconciler will retry", task.name, args)

    transaction.on_commit(send)
