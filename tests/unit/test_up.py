"""`studio up`'s pieces that need no services: its command line, the commands it runs and the
supervisor (against real, tiny processes). The first admin, which needs the database, is in
tests/integration/test_first_admin.py."""

import os
import time
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from studio.web.management.commands.up import (
    Command,
    describe_exit,
    local_url,
    platform_commands,
    redis_command,
)
from studio.web.supervisor import Supervisor
from tests.conftest import wait_for


def parse(*argv: str):
    return Command().create_parser("studio", "up").parse_args(list(argv))


def test_defaults_listen_on_loopback_port_8000():
    options = parse()
    assert (options.host, options.port, options.data_dir) == ("127.0.0.1", 8000, None)


def test_port_host_and_data_dir_are_read():
    options = parse("--port", "8123", "--host", "0.0.0.0", "--data-dir", "/srv/studio")
    assert (options.host, options.port, options.data_dir) == ("0.0.0.0", 8123, "/srv/studio")


@pytest.mark.parametrize("port", ["0", "65536", "-1", "http", ""])
def test_bad_ports_are_refused_with_a_reason(port):
    with pytest.raises(CommandError, match="port"):
        parse("--port", port)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/"),
        ("0.0.0.0", "http://127.0.0.1:8000/"),
        ("::", "http://[::1]:8000/"),
        ("::1", "http://[::1]:8000/"),
        ("studio.example", "http://studio.example:8000/"),
    ],
)
def test_local_url_reaches_the_listening_address(host, url):
    assert local_url(host, 8000) == url


def test_redis_listens_only_on_its_socket_and_keeps_nothing(tmp_path):
    argv = redis_command("/usr/bin/redis-server", tmp_path / "redis.sock", tmp_path)
    options = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert options["--port"] == "0"
    assert options["--unixsocket"] == str(tmp_path / "redis.sock")
    assert options["--save"] == ""
    assert options["--appendonly"] == "no"


def test_platform_commands_serve_the_web_app_and_keep_beat_state_in_place():
    commands = platform_commands("127.0.0.1", 8123, "/data/celerybeat-schedule")
    assert set(commands) == {"web", "worker", "beat"}
    assert commands["web"][1:] == [
        "-m",
        "studio.web.server",
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
    ]
    assert commands["beat"][-2:] == ["--schedule", "/data/celerybeat-schedule"]


def test_describe_exit():
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-9) == "killed by SIGKILL"


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"  # dead, waiting for whoever adopted it to reap it


def test_stop_reaches_what_a_child_started_itself(tmp_path):
    supervisor = Supervisor(tmp_path / "logs", stop_timeout=5)
    pidfile = tmp_path / "grandchild"
    supervisor.start("parent", ["sh", "-c", f"sleep 300 & echo $! > {pidfile}; wait"], env={})
    grandchild = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip()))
    assert supervisor.stop() == []
    wait_for(lambda: gone(grandchild), timeout=5, what="the grandchild to die")


def test_stop_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path):
    supervisor = Supervisor(tmp_path / "logs", stop_timeout=0.5)
    child = supervisor.start("stubborn", ["sh", "-c", "trap '' TERM; sleep 300"], env={})
    time.sleep(0.2)  # let the shell install its trap
    started = time.monotonic()
    assert supervisor.stop() == ["stubborn"]
    assert time.monotonic() - started < 5
    assert child.process.returncode is not None
    # The shell's sleep was killed too; whoever adopted it reaps it a moment later.
    wait_for(lambda: not child.group_alive(), timeout=5, what="the group to be gone")


def test_exited_names_the_child_that_died_and_keeps_its_log(tmp_path):
    supervisor = Supervisor(tmp_path / "logs", stop_timeout=5)
    supervisor.start("steady", ["sleep", "300"], env={})
    supervisor.start("fragile", ["sh", "-c", "echo boom; exit 3"], env={})
    child = wait_for(supervisor.exited, timeout=5, what="a child to exit")
    assert child.name == "fragile"
    assert child.process.returncode == 3
    assert "boom" in child.log_tail()
    supervisor.stop()


def test_later_stages_stop_before_earlier_ones(tmp_path):
    """Web, worker and beat stop while the Redis they talk to (stage 0) still runs."""
    supervisor = Supervisor(tmp_path / "logs", stop_timeout=5)
    redis = supervisor.start("redis", ["sleep", "300"], env={}, stage=0)
    verdict = tmp_path / "verdict"
    script = f"trap 'kill -0 {redis.pid} && echo up > {verdict}; exit 0' TERM; sleep 300 & wait"
    supervisor.start("web", ["sh", "-c", script], env={"PATH": os.environ["PATH"]})
    time.sleep(0.2)
    supervisor.stop()
    assert verdict.read_text().strip() == "up"


def test_hurry_kills_without_waiting_for_the_timeout(tmp_path):
    supervisor = Supervisor(tmp_path / "logs", stop_timeout=60)
    supervisor.start("stubborn", ["sh", "-c", "trap '' TERM; sleep 300"], env={})
    time.sleep(0.2)
    supervisor.hurry = True  # as a second Ctrl-C does
    started = time.monotonic()
    assert supervisor.stop() == ["stubborn"]
    assert time.monotonic() - started < 5
