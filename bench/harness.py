"""What every benchmark needs: a scratch PostgreSQL database and data directory, a real Celery
worker, and a user with a profile in an InService domain. Used as a context manager:

    with Platform() as platform:
        ... platform.user, platform.domain, platform.data_dir ...
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def wait(condition, timeout: float, what: str, interval: float = 0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out waiting for {what}")


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}\nmachine: {os.cpu_count()} CPUs, {sys.platform}; seconds unless marked")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for row in rows:
        print(" | ".join(row))


def bare_command(
    runtime: str,
    image: str,
    command: list[str],
    *,
    binds: dict[str, str],
    env: dict[str, str] | None = None,
    workdir: str | None = None,
    tmpfs: tuple[str, ...] = (),
    docker_args: tuple[str, ...] = (),
) -> list[str]:
    """`image` run directly, without Studio in between, as the baselines need it: as uid 1000
    in group 100, with no network, `binds` (host path -> container path) mounted; with
    `docker run`, or bubblewrap over the same image's sandbox tree. `tmpfs` paths are mounted
    before the binds, so a bind may sit inside one."""
    from studio.core.runtime.base import sandbox_rootfs

    env = env or {}
    if runtime == "docker":
        return [
            "docker", "run", "--rm", *docker_args, "--network", "none", "--user", "1000:100",
            *(arg for name, value in env.items() for arg in ("-e", f"{name}={value}")),
            *(arg for source, target in binds.items() for arg in ("-v", f"{source}:{target}")),
            *(["-w", workdir] if workdir else []),
            image, *command,
        ]  # fmt: skip
    return [
        "setpriv", "--reuid=1000", "--regid=100", "--clear-groups",
        "bwrap", "--ro-bind", str(sandbox_rootfs(image)), "/",
        *(arg for path in tmpfs for arg in ("--tmpfs", path)),
        *(arg for source, target in binds.items() for arg in ("--bind", source, target)),
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "--unshare-all", "--die-with-parent",
        *(["--chdir", workdir] if workdir else []),
        "--setenv", "PATH", "/opt/venv/bin:/usr/bin:/bin",
        *(arg for name, value in env.items() for arg in ("--setenv", name, value)),
        *command,
    ]  # fmt: skip


def start_web() -> tuple[subprocess.Popen, str]:
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        # The web process as `studio up` runs it.
        [
            sys.executable,
            "-m",
            "studio.web.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    wait(up, 30, "the web process", interval=0.1)
    return proc, url


class Platform:
    def __init__(self) -> None:
        self.admin_url = os.environ.get("DATABASE_URL", "")
        if not self.admin_url.startswith("postgres"):
            sys.exit("Set DATABASE_URL to a PostgreSQL server (the benchmark makes a scratch DB).")
        self.db_name = f"studio_bench_{os.getpid()}"
        self.tag = f"studio-bench-{uuid.uuid4().hex[:8]}"
        self.data_dir = Path(tempfile.mkdtemp(prefix="studio-bench-"))
        self.worker: subprocess.Popen | None = None

    def __enter__(self) -> "Platform":
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        db_url = urlunparse(urlparse(self.admin_url)._replace(path=f"/{self.db_name}"))
        os.environ.update(
            DATABASE_URL=db_url,
            STUDIO_DATA_DIR=str(self.data_dir),
            STUDIO_CELERY_QUEUE=self.tag,
            STUDIO_REDIS_PREFIX=self.tag,
            DJANGO_SETTINGS_MODULE="studio.settings",
        )
        os.environ.setdefault("STUDIO_IMAGES_DIR", str(ROOT / "var" / "images"))
        import logging

        import django

        django.setup()
        # Benchmarks make thousands of requests; one log line each would drown the table.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        from django.core.management import call_command

        from studio.web.management.commands.up import worker_command

        call_command("migrate", verbosity=0)
        worker_name = f"{self.tag}@bench"
        self.worker = subprocess.Popen(
            worker_command(loglevel="WARNING", name=worker_name),
            cwd=ROOT,
            env={**os.environ, "C_FORCE_ROOT": "1"},
            stdout=subprocess.DEVNULL,
        )
        from studio.core.health import check_redis

        wait(lambda: worker_name in check_redis()[1], 60, "the worker")
        self._make_tenant()
        return self

    def _make_tenant(self) -> None:
        from django.contrib.auth import get_user_model

        from domains.models import Domain, UserProfile
        from domains.services import create_domain, create_user_profile

        self.user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
        domain = create_domain(self.user, name="bench")
        wait(lambda: Domain.objects.get(pk=domain.pk).status == "InService", 30, "the domain")
        profile = create_user_profile(self.user, domain.domain_id, name="bench", user=self.user)
        wait(
            lambda: UserProfile.objects.get(pk=profile.pk).status == "InService", 30, "the profile"
        )
        self.domain = Domain.objects.get(pk=domain.pk)
        self.profile = UserProfile.objects.get(pk=profile.pk)

    def _remove_containers(self) -> None:
        """Whatever this run left running (endpoints' serving containers outlive the worker)."""
        from studio.core.runtime import ContainerError, docker_available, get_runtime

        names = ["sandbox", *(["docker"] if docker_available() else [])]
        for runtime in map(get_runtime, names):
            try:
                for container in runtime.list_managed():
                    runtime.stop(container.id, timeout=1)
                    runtime.remove(container.id)
            except ContainerError as error:
                print(f"could not clean up {runtime.name}: {error}", file=sys.stderr)

    def __exit__(self, *exc) -> None:
        import shutil

        import psycopg
        from django.db import connections

        if self.worker is not None:
            self.worker.terminate()
            self.worker.wait(timeout=30)
        self._remove_containers()
        connections.close_all()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [self.db_name],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}"')
        shutil.rmtree(self.data_dir, ignore_errors=True)
