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
