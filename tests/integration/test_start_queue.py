"""JupyterLab starts wait only behind other starts, never behind jobs, and the space page can
say where a start stands: how many starts are ahead, or that no worker runs at all (issue 10,
item 4). With the real worker, Redis and runtime."""

import pytest
from django.conf import settings

from domains.models import App
from domains.services import create_app, create_space, describe_app_start_wait
from studio.core.errors import ResourceNotFound
from studio.core.health import redis_client
from studio.core.queue import send
from tests.conftest import settled, wait_for
from tests.integration.notebooks import running

# Queues do not depend on where the app runs: one runtime is enough.
pytestmark = [
    pytest.mark.usefixtures("live"),
    pytest.mark.parametrize("runtime", ["docker"], indirect=True),
]

QUEUED_JOBS = 400


def _queued(queue: str) -> int:
    return redis_client().llen(queue)


@pytest.fixture
def stopped_worker(celery_worker):
    """The session's worker, stopped for the test and started again after it."""
    celery_worker.stop()
    try:
        yield celery_worker
    finally:
        if celery_worker.proc is None or celery_worker.proc.poll() is not None:
            celery_worker.start()


def test_a_start_is_taken_before_the_jobs_queued_ahead_of_it(
    jupyter, alice, alice_profile, stopped_worker
):
    domain_id = alice_profile.domain.domain_id
    stopped_worker.start()
    settled(create_space(alice, domain_id, name="first-in-line"))
    stopped_worker.stop()
    for _ in range(QUEUED_JOBS):
        send("jobs.tasks.reconcile_jobs")
    app = create_app(alice, domain_id, space_name="first-in-line")
    assert _queued(settings.STUDIO_INTERACTIVE_QUEUE) == 1
    assert _queued(settings.CELERY_TASK_DEFAULT_QUEUE) == QUEUED_JOBS

    stopped_worker.start()
    wait_for(lambda: _queued(settings.STUDIO_INTERACTIVE_QUEUE) == 0, 30, "the start to be taken")
    # The worker took the start first: at most a slot's worth of jobs went before it.
    assert (
        _queued(settings.CELERY_TASK_DEFAULT_QUEUE)
        >= QUEUED_JOBS - settings.CELERY_WORKER_CONCURRENCY
    )
    running(app)
    wait_for(lambda: _queued(settings.CELERY_TASK_DEFAULT_QUEUE) == 0, 60, "the jobs to drain")


def test_a_waiting_start_knows_its_place_and_that_no_worker_runs(
    client, jupyter, alice, bob, alice_profile, bob_profile, stopped_worker
):
    domain_id = alice_profile.domain.domain_id
    stopped_worker.start()
    settled(create_space(alice, domain_id, name="alice-lab"))
    settled(create_space(bob, domain_id, name="bob-lab"))
    stopped_worker.stop()
    create_app(alice, domain_id, space_name="alice-lab")
    # Jobs queued between the two starts are not ahead of the second one.
    send("jobs.tasks.reconcile_jobs")
    bob_app = create_app(bob, domain_id, space_name="bob-lab")

    alice_wait = describe_app_start_wait(alice, domain_id, "alice-lab")
    bob_wait = describe_app_start_wait(bob, domain_id, "bob-lab")
    assert (alice_wait.ahead, bob_wait.ahead) == (0, 1)
    # A worker that stopped cleanly signed off at once.
    assert bob_wait.workers == 0
    # Another member's private space: its start is as invisible as the space.
    with pytest.raises(ResourceNotFound):
        describe_app_start_wait(alice, domain_id, "bob-lab")

    # The space page asks the same, in words a user can act on.
    client.force_login(alice)
    answer = client.get("/spaces/alice-lab/start-wait/").json()
    assert answer["state"] == "no-worker"
    assert "Ask your admin" in answer["text"]
    assert answer["ahead"] == 0
    assert client.get("/spaces/bob-lab/start-wait/").status_code == 404

    stopped_worker.start()
    running(bob_app)
    assert describe_app_start_wait(bob, domain_id, "bob-lab") is None
    running(App.objects.get(space__name="alice-lab"))
    assert client.get("/spaces/alice-lab/start-wait/").json()["state"] == "none"
