"""The session's Celery worker is a live process consuming this session's queue: work the
platform enqueues is done there, not in the test process."""

from studio.celery import app
from studio.core.health import check_redis

PROVISION = "domains.tasks.provision_domain"


def provisions_run_by(pid: int) -> int:
    """How many provision_domain tasks the worker process `pid` says it has run, asked over
    the broker: only a live worker consuming its control queue answers."""
    replies = app.control.inspect(destination=check_redis()[1], timeout=5).stats() or {}
    mine = [stats for stats in replies.values() if stats["pid"] == pid]
    assert len(mine) == 1, f"worker {pid} did not answer; replies came from {sorted(replies)}"
    return mine[0]["total"].get(PROVISION, 0)


def test_the_worker_provisions_a_new_domain(celery_worker, make_domain):
    before = provisions_run_by(celery_worker.proc.pid)
    domain = make_domain("smoke")
    assert domain.status == "InService"
    assert domain.home_volume.is_dir()
    assert provisions_run_by(celery_worker.proc.pid) == before + 1


def test_the_worker_reads_the_interactive_queue_first_with_the_configured_threads(celery_worker):
    from django.conf import settings

    hostname = next(h for h in check_redis()[1] if h.startswith(settings.CELERY_TASK_DEFAULT_QUEUE))
    inspect = app.control.inspect(destination=[hostname], timeout=5)
    queues = [queue["name"] for queue in inspect.active_queues()[hostname]]
    assert queues == [settings.STUDIO_INTERACTIVE_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE]
    pool = inspect.stats()[hostname]["pool"]
    assert pool["max-concurrency"] == settings.CELERY_WORKER_CONCURRENCY
