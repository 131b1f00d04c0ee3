"""Shared fixtures: users alice and bob, a domain served by a real Celery worker, waiting.

`tests/env.py` (loaded first, as a plugin) gives each test process its own data directory,
Celery queue and Redis prefix.
"""

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.capabilities import need

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition: Callable[[], object], timeout: float = 20, what: str = "condition"):
    """Poll until `condition()` is truthy; return its value or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def redis_available() -> bool:
    from studio.core.health import check_redis

    return check_redis()[0] == "ok"


@pytest.fixture(scope="session")
def postgres(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """The test database, which must be PostgreSQL for tests that share it across processes."""
    from django.db import connection

    need("postgres", connection.vendor == "postgresql", "DATABASE_URL is not a PostgreSQL URL")
    yield connection.settings_dict
    # Threads of in-process servers keep their own connections; end them so that the test
    # database can be dropped.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )


@pytest.fixture(scope="session")
def redis_server() -> None:
    need("redis", redis_available(), "no Redis answers at REDIS_URL")


def database_url(settings_dict: dict) -> str:
    s = settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def service_env(settings_dict: dict) -> dict[str, str]:
    """Environment for a platform process (worker, web) that uses this session's test DB."""
    return {**os.environ, "DATABASE_URL": database_url(settings_dict)}


class WorkerProcess:
    """A real Celery worker process consuming this session's queue; tests may kill it."""

    def __init__(self, settings_dict: dict):
        self.env = {**service_env(settings_dict), "C_FORCE_ROOT": "1"}
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        from studio.core.health import check_redis
        from studio.web.management.commands.up import worker_command

        self.starts += 1
        # A fresh name each start: a killed worker's heartbeat outlives it for a while.
        hostname = f"{os.environ['STUDIO_CELERY_QUEUE']}-{self.starts}@test"
        self.proc = subprocess.Popen(
            worker_command(loglevel="WARNING", name=hostname),
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
        )
        proc = self.proc
        wait_for(
            lambda: hostname in check_redis()[1] or proc.poll() is not None,
            timeout=60,
            what="the Celery worker to start",
        )
        assert proc.poll() is None, "the Celery worker exited at start"

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no cleanup runs."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def celery_worker(postgres, redis_server) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(postgres)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def live(transactional_db, celery_worker) -> Iterator[None]:
    """Tests that need committed rows and the real worker acting on them.

    Jobs a test leaves running are stopped, and waited for, before the database is emptied
    for the next test: a worker still writing while the tables are truncated deadlocks."""
    yield
    from jobs.models import ProcessingJob, TrainingJob
    from jobs.tasks import WORKLOADS
    from studio.core.errors import ConflictException
    from studio.core.lifecycle import transition

    active = ["InProgress", "Stopping"]
    for model, task in WORKLOADS:
        for job in model.objects.filter(status__in=active):
            with contextlib.suppress(ConflictException):
                transition(job, "Stopping")
            # Rows a test made directly have no watcher yet; this one ends them.
            task.delay(job.pk)
    wait_for(
        lambda: (
            not any(
                m.objects.filter(status__in=active).exists() for m in (TrainingJob, ProcessingJob)
            )
        ),
        timeout=60,
        what="jobs left running by the test to stop",
    )
    _stop_apps_left_running()
    _delete_endpoints_left()


def _delete_endpoints_left() -> None:
    """The same for endpoints: every serving container stopped before the tables empty."""
    from jobs.hosting import deploy, scaling
    from jobs.models import Endpoint

    # Here, not through the worker: a deploy under way holds the endpoint's lock, and this
    # waits for it to end.
    for endpoint in Endpoint.objects.all():
        Endpoint.objects.filter(pk=endpoint.pk).update(status="Deleting")
        deploy.delete(endpoint.pk)
    # What beat's tend would remove: a container a task still running started for an
    # endpoint that is gone now.
    scaling.remove_orphans()


def _stop_apps_left_running() -> None:
    """The same for JupyterLab apps: let starts finish, then stop what runs."""
    from domains.models import App
    from domains.tasks import stop_app
    from studio.core.lifecycle import transition

    deadline = time.monotonic() + 20
    while App.objects.filter(status="Pending").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    # Still Pending now means a row the test made itself, which no worker is starting.
    for app in App.objects.filter(status__in=["Pending", "InService"]):
        transition(app, "Deleting")
    for app in App.objects.filter(status="Deleting"):
        stop_app.delay(app.pk)
    wait_for(
        lambda: not App.objects.filter(status="Deleting").exists(),
        timeout=60,
        what="apps left running by the test to stop",
    )
    from domains.models import WarmServer
    from domains.notebooks import warm_pool

    for warm in WarmServer.objects.select_related("app__space__domain"):
        warm_pool.discard(warm.app)


def settled(obj, status: str = "InService", timeout: float = 20):
    """Wait until the worker has moved `obj` to `status`; return it refreshed."""

    def reached():
        obj.refresh_from_db()
        return obj.status == status

    wait_for(reached, timeout, f"{obj.RESOURCE_TYPE} {obj.resource_id} to become {status}")
    return obj


def gone(model, pk: int, timeout: float = 20) -> None:
    wait_for(
        lambda: not model.objects.filter(pk=pk).exists(),
        timeout,
        f"{model.__name__} {pk} to be deleted",
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # PBKDF2 at Django's production cost takes ~0.5 s a user here; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-1")


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-pass-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-pass-1")


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.com", "carol-pass-1")


@pytest.fixture
def make_domain(live, root):
    """Create a domain through the service and wait until the worker puts it InService."""
    from domains.services import create_domain

    def make(name: str = "research", **kwargs):
        return settled(create_domain(root, name=name, **kwargs))

    return make


@pytest.fixture
def make_profile(live, root):
    from domains.services import create_user_profile

    def make(domain, user, name: str | None = None, **kwargs):
        profile = create_user_profile(
            root, domain.domain_id, name=name or user.username, user=user, **kwargs
        )
        return settled(profile)

    return make


@pytest.fixture
def domain(make_domain):
    return make_domain("research")


@pytest.fixture
def alice_profile(domain, alice, make_profile):
    return make_profile(domain, alice)


@pytest.fixture
def bob_profile(domain, bob, make_profile):
    return make_profile(domain, bob)
