"""`studio up`: the whole platform on one machine (DESIGN.md §1).

Migrates, creates a first administrator, starts a private redis-server on a Unix socket in the
data directory when no REDIS_URL is given, then web, worker and beat; prints the URL once
`/healthz` answers; Ctrl-C or SIGTERM stops everything it started.
"""

import argparse
import fcntl
import os
import secrets
import shutil
import signal
import socket
import string
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from domains.models import OneTimePassword
from studio.core.queue import worker_queues
from studio.web.supervisor import Child, Supervisor

ADMIN_USERNAME = "admin"
PASSWORD_ALPHABET = string.ascii_letters + string.digits
REDIS_MISSING = (
    "redis-server was not found on PATH. `studio up` runs a private Redis when REDIS_URL is "
    "not set: install it with `sudo apt-get install redis-server` (Debian/Ubuntu), or set "
    "REDIS_URL to a Redis you already run, e.g. REDIS_URL=redis://127.0.0.1:6379/0."
)
# sun_path in struct sockaddr_un holds 108 bytes, the terminating NUL included.
UNIX_SOCKET_PATH_MAX = 107
REDIS_START_TIMEOUT = 15.0
WEB_START_TIMEOUT = 90.0
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def port_number(value: str) -> int:
    """argparse type for --port. 0 is refused: the port uvicorn picked could not be printed."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {port}")
    return port


def local_url(host: str, port: int) -> str:
    """The address that reaches a server listening on host:port from this machine."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def allowed_hosts(host: str) -> str:
    """ALLOWED_HOSTS for a web process listening on `host`: the loopback names, and the name it
    serves (this machine's names when it listens on every address). An operator adds others
    (a proxy's public name) by setting ALLOWED_HOSTS."""
    hosts = settings.LOCAL_HOSTS.split(",")
    if host in ("", "0.0.0.0", "::"):
        hosts += [socket.gethostname(), socket.getfqdn()]
    else:
        hosts.append(f"[{host}]" if ":" in host else host)
    return ",".join(dict.fromkeys(hosts))


def redis_command(redis_server: str, unix_socket: Path, workdir: Path) -> list[str]:
    """A redis-server that listens only on `unix_socket` and keeps nothing on disk: the broker
    and channel layer of one `studio up` hold nothing that must outlive it."""
    return [
        redis_server,
        "--port", "0",
        "--unixsocket", str(unix_socket),
        "--unixsocketperm", "700",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
    ]  # fmt: skip


def worker_command(*, loglevel: str = "INFO", name: str | None = None) -> list[str]:
    """The Celery worker as Studio runs it (also the tests' and benchmarks' worker): threads
    (CELERY_WORKER_CONCURRENCY of them), as its tasks mostly wait on containers, reading the
    interactive queue before the rest (studio/core/queue.py); `name` when it must be told apart."""
    # Gossip and mingle only matter between several workers; skipping them starts faster.
    command = [
        sys.executable, "-m", "celery", "-A", "studio", "worker", "--pool=threads",
        "--without-gossip", "--without-mingle", f"--loglevel={loglevel}",
        "-Q", ",".join(worker_queues()),
    ]  # fmt: skip
    if name:
        command += ["-n", name]
    return command


def platform_commands(host: str, port: int, beat_schedule: str) -> dict[str, list[str]]:
    """The web, worker and beat processes, run with this interpreter so they use its venv."""
    python = sys.executable
    return {
        # uvicorn, on host:port and on the API socket notebook containers use
        # (studio/web/server.py).
        "web": [python, "-m", "studio.web.server", "--host", host, "--port", str(port)],
        "worker": worker_command(),
        "beat": [
            python, "-m", "celery", "-A", "studio", "beat", "--loglevel=INFO",
            "--schedule", beat_schedule,
        ],
    }  # fmt: skip


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived while starting up."""


class Command(BaseCommand):
    help = (
        "Run the whole platform on this machine: migrate, create a first admin, start Redis "
        "(when REDIS_URL is unset), web, worker and beat. Ctrl-C stops everything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument(
            "--port", type=port_number, default=8000, help="port to listen on (default 8000)"
        )
        # studio.cli applies it to STUDIO_DATA_DIR before settings load; declared here so it
        # is accepted and documented.
        parser.add_argument(
            "--data-dir", help="where the database, logs and secrets live (default ./var)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(settings.DATA_DIR)
        if options["data_dir"] and Path(options["data_dir"]).resolve() != data_dir:
            raise CommandError(
                "--data-dir must be given on the command line (studio up --data-dir DIR), "
                "before settings are loaded"
            )
        host, port = options["host"], options["port"]
        self._lock_data_dir(data_dir)

        redis_server = None
        unix_socket = data_dir / "redis.sock"
        if not os.environ.get("REDIS_URL"):
            redis_server = shutil.which("redis-server")
            if redis_server is None:
                raise CommandError(REDIS_MISSING)
            if len(os.fsencode(unix_socket)) > UNIX_SOCKET_PATH_MAX:
                raise CommandError(
                    f"the Redis socket path {unix_socket} is too long for a Unix socket; "
                    "choose a shorter --data-dir, or set REDIS_URL"
                )
        self._check_port(host, port)

        self._say(f"Data directory: {data_dir}")
        call_command("migrate", interactive=False, verbosity=0)
        # Served by ServeStatic from STATIC_ROOT; unchanged files are skipped on later starts.
        call_command("collectstatic", interactive=False, verbosity=0)
        self._announce_admin()

        self.supervisor = Supervisor(data_dir / "logs")
        self._signals = 0
        previous = {sig: signal.signal(sig, self._on_signal) for sig in SIGNALS}
        try:
            self._run(host, port, data_dir, redis_server, unix_socket)
        except _Interrupted:
            pass
        finally:
            self._say("Stopping ...")
            killed = self.supervisor.stop()
            if redis_server:
                # redis-server removes its socket when it shuts down, but not when killed.
                unix_socket.unlink(missing_ok=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._say(f"Stopped{' (killed: ' + ', '.join(killed) + ')' if killed else ''}.")

    def _run(
        self, host: str, port: int, data_dir: Path, redis_server: str | None, unix_socket: Path
    ) -> None:
        env = {
            **os.environ,
            "STUDIO_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "PYTHONUNBUFFERED": "1",
        }
        env.setdefault("ALLOWED_HOSTS", allowed_hosts(host))
        self._say(f"Answering for host names: {env['ALLOWED_HOSTS']} (set ALLOWED_HOSTS for more)")
        if redis_server:
            workdir = data_dir / "redis"
            workdir.mkdir(exist_ok=True)
            self.supervisor.start(
                "redis", redis_command(redis_server, unix_socket, workdir), env=env, stage=0
            )
            client = redis.Redis(unix_socket_path=str(unix_socket), socket_timeout=1)
            self._wait_until(lambda: _answers(client), REDIS_START_TIMEOUT, "redis-server")
            env["REDIS_URL"] = f"unix://{unix_socket}"
            self._say(f"Redis: private redis-server on {unix_socket}")

        commands = platform_commands(host, port, settings.CELERY_BEAT_SCHEDULE_FILENAME)
        for name, argv in commands.items():
            self.supervisor.start(name, argv, env=env, cwd=Path(settings.BASE_DIR))
        self._say(f"Started {', '.join(commands)}; logs in {self.supervisor.log_dir}")

        url = local_url(host, port)
        probe = HealthProbe(url + "healthz")
        self._wait_until(probe, WEB_START_TIMEOUT, probe.url, lambda: f"last answer: {probe.last}")
        self._say(self.style.SUCCESS(f"Studio is running at {url}  (Ctrl-C to stop)"))

        while not self._signals:
            self._check_children()
            time.sleep(0.2)

    def _wait_until(
        self,
        ready: Callable[[], bool],
        timeout: float,
        what: str,
        explain: Callable[[], str] = str,
    ) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self._signals:
                raise _Interrupted
            self._check_children()
            if time.monotonic() > deadline:
                detail = explain()
                raise CommandError(
                    f"timed out after {timeout:.0f}s waiting for {what}"
                    + (f" ({detail})" if detail else "")
                )
            time.sleep(0.2)

    def _check_children(self) -> None:
        child = self.supervisor.exited()
        if child is not None:
            raise CommandError(_exit_report(child), returncode=1)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._signals += 1
        if self._signals > 1:
            # A second Ctrl-C: the user does not want to wait for a graceful stop.
            self.supervisor.hurry = True

    def _lock_data_dir(self, data_dir: Path) -> None:
        # Two `studio up` on one data directory would fight over its Redis socket and database.
        self._lock = (data_dir / "up.lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandError(f"another `studio up` is already using {data_dir}") from None

    def _check_port(self, host: str, port: int) -> None:
        """Fail early, with advice, when web could not listen; uvicorn would only log it."""
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
            with socket.socket(family, kind, proto) as probe:
                # As uvicorn does: a port left in TIME_WAIT by a previous run is free.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
        except OSError as e:
            reason = getattr(e, "strerror", None) or str(e)
            raise CommandError(
                f"cannot listen on {host}:{port}: {reason}; choose another with --port"
            ) from None

    def _announce_admin(self) -> None:
        password = ensure_first_admin()
        if password:
            self._say(
                "Created the first administrator. Log in with\n"
                f"    user name: {ADMIN_USERNAME}\n"
                f"    password:  {password}\n"
                "This password is shown only once: Studio asks you to choose your own when "
                "you first sign in."
            )
        elif not get_user_model().objects.filter(is_superuser=True).exists():
            self.stderr.write(
                f"No superuser exists and the user name {ADMIN_USERNAME!r} is taken: "
                "create one with `studio createsuperuser`."
            )

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        # Whoever reads our output (a terminal, tee, a test) needs the URL and password now.
        self.stdout.flush()


def ensure_first_admin() -> str | None:
    """Create the superuser `admin` with a random one-time password (printed, so replaced at
    first sign-in) when there is no superuser at all; return the password, or None when
    nothing was created."""
    users = get_user_model().objects
    if users.filter(is_superuser=True).exists() or users.filter(username=ADMIN_USERNAME).exists():
        return None
    # Letters and digits only: a double-click selects all of it for copying.
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
    with transaction.atomic():
        admin = users.create_superuser(ADMIN_USERNAME, email="", password=password)
        OneTimePassword.objects.create(user=admin)
    return password


def _exit_report(child: Child) -> str:
    report = (
        f"{child.name} exited unexpectedly ({describe_exit(child.process.returncode)}); "
        f"its log is {child.log_path}"
    )
    tail = child.log_tail()
    return f"{report}, ending with:\n{tail}" if tail else report


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class HealthProbe:
    """Asks /healthz whether web is up with its database and Redis reachable; remembers the
    last answer so that a start that never becomes healthy can say why."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.last = "none"

    def __call__(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=2) as response:
                return response.status == 200
        except urllib.error.HTTPError as e:
            self.last = f"{e.code} {e.read().decode(errors='replace')}"
        except OSError as e:
            self.last = str(e)
        return False
