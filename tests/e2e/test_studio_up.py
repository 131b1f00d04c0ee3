"""`studio up` as a newcomer runs it: no DATABASE_URL and no REDIS_URL, so SQLite in a fresh data
directory and a private redis-server; it must come up healthy and leave nothing behind."""

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.capabilities import need
from tests.conftest import wait_for

pytestmark = pytest.mark.e2e

STUDIO = Path(sys.executable).with_name("studio")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def newcomer_env(**extra: str) -> dict[str, str]:
    """This environment without the services and per-test settings the test run configured."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL"} and not k.startswith("STUDIO_")
    }
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every live descendant of `root`, as pid -> start time (to tell a reused pid apart)."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))):
            children.setdefault(stat[1], []).append((int(entry.name), stat[2]))
    found: dict[int, int] = {}
    stack = [root]
    while stack:
        for pid, start in children.get(stack.pop(), []):
            found[pid] = start
            stack.append(pid)
    return found


def running(pid: int, start: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[2] == start and stat[0] != "Z"


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return ""


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


@dataclass
class Up:
    process: subprocess.Popen
    data_dir: Path
    output_path: Path
    url: str
    seen: dict[int, int] = field(default_factory=dict)

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


def wait_until_running(up: Up) -> None:
    wait_for(
        lambda: "Studio is running at" in up.output() or up.process.poll() is not None,
        timeout=120,
        what="`studio up` to print its URL",
    )
    assert up.process.poll() is None, f"studio up exited early:\n{up.output()}"


def admin_login(url: str, username: str, password: str) -> str:
    """Sign in to the admin console as a person would; the path it then lands on."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(url + "admin/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "the admin login page has no CSRF token"
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
    ).encode()
    response = opener.open(url + "admin/login/?next=/admin/", data=form, timeout=10)
    return urllib.parse.urlparse(response.geturl()).path


def assert_stops_cleanly(up: Up, sig: signal.Signals) -> None:
    up.seen.update(descendants(up.process.pid))
    names = sorted(command_name(pid) for pid in up.seen)
    assert "redis-server" in names, names
    assert len(up.seen) >= 4, names  # redis-server, web, worker, beat

    up.process.send_signal(sig)
    assert up.process.wait(timeout=60) == 0, up.output()
    left = [pid for pid, start in up.seen.items() if running(pid, start)]
    assert not left, f"children left running: {[command_name(p) for p in left]}"
    assert not (up.data_dir / "redis.sock").exists()
    assert "Stopped." in up.output()


@pytest.fixture
def studio_up(tmp_path: Path) -> Iterator[Up]:
    need("redis", shutil.which("redis-server") is not None, "redis-server is not installed")
    data_dir = tmp_path / "data"
    output_path = tmp_path / "output.txt"
    port = free_port()
    with output_path.open("wb") as out:
        process = subprocess.Popen(
            [str(STUDIO), "up", "--data-dir", str(data_dir), "--port", str(port)],
            cwd=tmp_path,
            env=newcomer_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    up = Up(process, data_dir, output_path, f"http://127.0.0.1:{port}/")
    try:
        yield up
    finally:
        # Whatever the test did, leave no platform running on this machine.
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid, start in {**up.seen, **descendants(process.pid)}.items():
            if running(pid, start):
                os.kill(pid, signal.SIGKILL)


def test_studio_up_serves_and_stops_cleanly_on_sigint(studio_up: Up) -> None:
    up = studio_up
    wait_until_running(up)
    assert f"Studio is running at {up.url}" in up.output()

    def healthy_with_worker() -> dict | None:
        status, body = up.get("healthz")
        state = json.loads(body)
        return state if status == 200 and state["worker"] == "ok" else None

    state = wait_for(healthy_with_worker, timeout=60, what="the worker heartbeat in /healthz")
    assert (state["database"], state["redis"], state["worker"]) == ("ok", "ok", "ok")

    status, _ = up.get("login/")
    assert status == 200
    # The socket notebook containers reach the API by answers too.
    api_socket = up.data_dir / "runtime" / "api" / "api.sock"
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(api_socket))) as client:
        assert client.get("http://localhost/healthz").status_code == 200

    match = re.search(r"password:\s+(\S+)", up.output())
    assert match, f"no one-time password in the output:\n{up.output()}"
    # It signs in, and the first admin must replace it before the console opens.
    assert admin_login(up.url, "admin", match.group(1)) == "/account/password/"

    assert_stops_cleanly(up, signal.SIGINT)


def test_studio_up_stops_cleanly_on_sigterm(studio_up: Up) -> None:
    wait_until_running(studio_up)
    assert_stops_cleanly(studio_up, signal.SIGTERM)


def test_studio_up_stops_everything_when_a_child_dies(studio_up: Up) -> None:
    up = studio_up
    wait_until_running(up)
    up.seen.update(descendants(up.process.pid))
    worker = next(pid for pid in up.seen if " worker " in command_line(pid))

    os.kill(worker, signal.SIGKILL)
    assert up.process.wait(timeout=60) != 0
    assert "worker exited unexpectedly (killed by SIGKILL)" in up.output()
    left = [pid for pid, start in up.seen.items() if running(pid, start)]
    assert not left, f"children left running: {[command_name(p) for p in left]}"


def test_studio_up_without_redis_server_says_how_to_install_it(tmp_path: Path) -> None:
    # Only the virtual environment's scripts are on PATH: no redis-server anywhere.
    bin_dir = STUDIO.parent
    assert not (bin_dir / "redis-server").exists()
    result = subprocess.run(
        [str(STUDIO), "up", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())],
        cwd=tmp_path,
        env=newcomer_env(PATH=str(bin_dir)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "redis-server" in message
    assert "apt-get install redis-server" in message
    assert "REDIS_URL" in message
    assert "Studio is running" not in message
