"""The sandbox runtime against real bubblewrap, cgroups and a Debian image tree.

The image tree is a debootstrap'ed Debian (minbase + python3, a `sagemaker-user` uid 1000),
built once into STUDIO_SANDBOX_TEST_ROOTFS (default /var/cache/studio/bookworm-minbase) and
linked where `sandbox_rootfs` looks for the test image.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from studio.core.runtime.base import (
    LABEL_DEPLOYMENT,
    LABEL_KIND,
    LABEL_MANAGED,
    ContainerError,
    ContainerSpec,
    Mount,
    State,
    sandbox_rootfs,
)
from studio.core.runtime.sandbox import SHIM_DIED, SandboxRuntime
from studio.core.runtime.sandbox_shim import cgroup_pids, process_start_time
from tests.capabilities import need

IMAGE = "studio/sandbox-test:latest"
TREE = Path(os.environ.get("STUDIO_SANDBOX_TEST_ROOTFS", "/var/cache/studio/bookworm-minbase"))
MIRROR = "http://deb.debian.org/debian"


def build_tree() -> None:
    """debootstrap a minimal Debian with python3 and the image's non-root user (~1-2 min)."""
    partial = TREE.with_name(TREE.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=python3", "bookworm", partial, MIRROR],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["chroot", partial, "useradd", "-u", "1000", "-g", "100", "-m", "sagemaker-user"],
        check=True,
    )
    (partial / "opt/venv/bin").mkdir(parents=True)
    (partial / "opt/venv/bin/python").symlink_to("/usr/bin/python3")
    partial.rename(TREE)


@pytest.fixture(scope="module")
def tree() -> Path:
    need("sandbox", shutil.which("bwrap") is not None, "bwrap (bubblewrap) is not installed")
    if not (TREE / "opt/venv/bin/python").is_symlink():
        need("sandbox", shutil.which("debootstrap") is not None, "no image tree, no debootstrap")
        build_tree()
    return TREE


@pytest.fixture
def runtime(tree: Path) -> SandboxRuntime:
    link = sandbox_rootfs(IMAGE)
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(tree)
    rt = SandboxRuntime()
    yield rt
    for container in rt.list_managed():
        rt.remove(container.id)
    assert rt.list_managed() == []


@pytest.fixture
def job_dir() -> Path:
    """A job's directory, writable by the container user as the jobs app will make it."""
    d = Path(settings.DATA_DIR) / "jobs" / f"j{time.monotonic_ns()}"
    d.mkdir(parents=True)
    os.chown(d, 1000, 100)
    return d


def spec(command: str, **kwargs) -> ContainerSpec:
    name = f"sbx-test-{time.monotonic_ns()}"
    return ContainerSpec(name=name, image=IMAGE, command=["sh", "-c", command], **kwargs)


def python(script: str, **kwargs) -> ContainerSpec:
    s = spec("", **kwargs)
    s.command = ["python", "-c", script]
    return s


def test_runs_a_command_with_its_exit_code_and_logs(runtime):
    started = time.monotonic()
    cid = runtime.start(spec("echo one; echo two >&2; printf three; exit 3", memory_bytes=2**28))
    latency = time.monotonic() - started
    print(f"sandbox start latency (start() returned, bwrap running): {latency * 1000:.0f} ms")
    assert cid.startswith("sbx-")

    status = runtime.wait(cid, timeout=10)
    assert status.state == State.EXITED
    assert status.exit_code == 3
    assert not status.oom_killed
    assert status.started_at <= status.finished_at
    assert list(runtime.logs(cid)) == ["one", "two", "three"]
    assert list(runtime.logs(cid, follow=True)) == ["one", "two", "three"]
    assert runtime.has_image(IMAGE) and not runtime.has_image("studio/nope:1")


def test_logs_follow_streams_until_exit(runtime):
    cid = runtime.start(spec("for i in 1 2 3; do echo line $i; sleep 0.2; done"))
    assert runtime.status(cid).running
    assert list(runtime.logs(cid, follow=True)) == ["line 1", "line 2", "line 3"]
    assert runtime.status(cid).exit_code == 0


ISOLATION = """
import json, os, socket, sys
out = {"uid": os.getuid(), "gid": os.getgid(), "hostname": socket.gethostname()}
for name, path in json.loads(sys.argv[1]).items():
    out[name] = os.path.exists(path)
out["canaries"] = {}
for path in json.loads(sys.argv[3]):
    directory, name = os.path.split(path)
    try:
        listed = name in os.listdir(directory)
    except OSError:
        listed = None  # the directory cannot be read: this probe proves nothing
    out["canaries"][path] = {"listed": listed, "exists": os.path.exists(path)}
open("/opt/ml/model/written", "w").write("x")
out["input"] = sorted(os.listdir("/opt/ml/input"))
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("127.0.0.1", int(sys.argv[2])))
    out["connected"] = True
except OSError:
    out["connected"] = False
print(json.dumps(out))
"""


@pytest.fixture
def tcp_server():
    server = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


# Host directories the image has too, which the container's uid may list: a host file put
# there is seen by the container if the sandbox shows it any of the host's tree. (Not /root:
# it is 0700 root on the host, so the container's uid could not look inside even then.)
CANARY_DIRS = ["/opt", "/srv", "/var/tmp", "/tmp"]


@pytest.fixture
def host_canaries() -> Iterator[list[str]]:
    """A world-readable file only the host has in each of CANARY_DIRS, removed afterwards."""
    name = f"studio-canary-{os.getpid()}-{time.monotonic_ns()}"
    paths = [Path(directory) / name for directory in CANARY_DIRS]
    try:
        for path in paths:
            path.write_text(name)
            path.chmod(0o644)
        yield [str(path) for path in paths]
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


@pytest.mark.parametrize("network", ["none", "host"])
def test_container_is_isolated(runtime, job_dir, tcp_server, host_canaries, network):
    (job_dir / "input").mkdir()
    (job_dir / "input" / "train.csv").write_text("1,2\n")
    (job_dir / "model").mkdir()
    os.chown(job_dir / "model", 1000, 100)
    sibling = job_dir.parent / f"{job_dir.name}-other"
    sibling.mkdir()
    (sibling / "secret").write_text("other job")
    probes = {
        "data_dir": str(settings.DATA_DIR),
        "sibling": str(sibling),
        "docker_sock": "/var/run/docker.sock",
        "repo": str(Path(__file__).resolve().parents[2]),
    }
    s = python(
        ISOLATION,
        network=network,
        mounts=[
            Mount(job_dir / "input", "/opt/ml/input", read_only=True),
            Mount(job_dir / "model", "/opt/ml/model"),
        ],
    )
    s.command += [json.dumps(probes), str(tcp_server), json.dumps(host_canaries)]
    cid = runtime.start(s)
    status = runtime.wait(cid, timeout=20)
    logs = list(runtime.logs(cid))
    assert status.exit_code == 0, logs

    seen = json.loads(logs[-1])
    assert (seen["uid"], seen["gid"]) == (1000, 100)
    assert seen["hostname"] == s.name
    assert not any(seen[name] for name in probes), seen
    # Each directory was read (listed is not None) and the host's file was not in it.
    assert seen["canaries"] == {
        path: {"listed": False, "exists": False} for path in host_canaries
    }, seen["canaries"]
    assert seen["input"] == ["train.csv"]
    assert seen["connected"] is (network == "host")
    written = job_dir / "model" / "written"
    assert (written.stat().st_uid, written.stat().st_gid) == (1000, 100)


def test_memory_hog_is_oom_killed(runtime):
    hog = "chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 2**20))"
    cid = runtime.start(python(hog, memory_bytes=64 * 2**20))
    status = runtime.wait(cid, timeout=20)
    assert status.state == State.EXITED
    assert status.exit_code != 0
    assert status.oom_killed, (status, list(runtime.logs(cid)))
    assert status.error == "killed: out of memory (limit 64 MiB)"


def container_pids(runtime: SandboxRuntime, cid: str) -> set[int]:
    limits = json.loads((runtime.root / cid / "limits.json").read_text())
    return cgroup_pids(list(limits["cgroups"].values()))


def all_gone(pids: set[int]) -> bool:
    return all(process_start_time(pid) is None for pid in pids)


@pytest.mark.parametrize("main_ignores_term", [False, True])
def test_stop_kills_the_whole_process_tree(runtime, main_ignores_term):
    trap = "trap '' TERM; " if main_ignores_term else ""
    # The background child ignores SIGTERM (an inherited SIG_IGN survives exec).
    cid = runtime.start(spec(f"{trap}(trap '' TERM; exec sleep 1000) & echo up; wait"))
    assert next(runtime.logs(cid, follow=True)) == "up"
    pids = container_pids(runtime, cid)
    assert len(pids) >= 3  # bwrap's init, sh, sleep

    began = time.monotonic()
    runtime.stop(cid, timeout=1)
    took = time.monotonic() - began
    status = runtime.status(cid)
    assert status.state == State.EXITED
    assert status.exit_code in (143, 137)
    assert container_pids(runtime, cid) == set()
    assert all_gone(pids)
    # Graceful when the main process obeys SIGTERM; killed after the timeout when it does not.
    assert (took >= 1) is main_ignores_term, took


def test_a_killed_supervisor_is_reported_not_waited_on(runtime):
    cid = runtime.start(spec("sleep 1000"))
    pids = container_pids(runtime, cid)
    shim_pid = int((runtime.root / cid / "pid").read_text().split()[0])
    os.kill(shim_pid, signal.SIGKILL)

    status = runtime.wait(cid, timeout=5)
    assert status.state == State.EXITED
    assert status.error == SHIM_DIED
    deadline = time.monotonic() + 5
    while not all_gone(pids) and time.monotonic() < deadline:  # bwrap --die-with-parent
        time.sleep(0.05)
    assert all_gone(pids)
    runtime.remove(cid)
    assert runtime.status(cid).state == State.MISSING


STARTER = """
import sys, time, django
django.setup()
from studio.core.runtime.base import ContainerSpec
from studio.core.runtime.sandbox import SandboxRuntime
spec = ContainerSpec(name=sys.argv[1], image=sys.argv[2], command=sys.argv[3:])
cid = SandboxRuntime().start(spec)
print(cid, flush=True)
time.sleep(60)
"""


def test_containers_outlive_the_worker_that_started_them(runtime):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "studio.settings"}
    command = ["sh", "-c", "sleep 0.5; echo still here"]
    worker = subprocess.Popen(
        [sys.executable, "-c", STARTER, "outliver", IMAGE, *command],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    cid = worker.stdout.readline().strip()
    worker.kill()  # SIGKILL, as the fault tests do to a Celery worker
    worker.wait()
    assert runtime.status(cid).running
    status = runtime.wait(cid, timeout=10)
    assert status.exit_code == 0
    assert list(runtime.logs(cid)) == ["still here"]


def test_a_fresh_runtime_re_adopts_running_containers(runtime):
    s = spec("sleep 1000", labels={LABEL_KIND: "TrainingJob"})
    cid = runtime.start(s)
    # Another deployment's container, sharing the directory, is not ours to list.
    foreign = runtime.root / "sbx-0123456789ab"
    foreign.mkdir()
    (foreign / "labels.json").write_text(json.dumps({LABEL_DEPLOYMENT: "someone-else"}))

    found = {c.id: c for c in SandboxRuntime().list_managed()}
    assert set(found) == {cid}
    adopted = found[cid]
    assert adopted.name == s.name
    assert adopted.status.state == State.RUNNING
    assert adopted.labels == {
        LABEL_KIND: "TrainingJob",
        LABEL_MANAGED: "true",
        LABEL_DEPLOYMENT: settings.STUDIO_REDIS_PREFIX,
    }
    with pytest.raises(ContainerError, match="already exists"):
        runtime.start(ContainerSpec(**vars(s)))

    SandboxRuntime().stop(cid, timeout=1)
    assert runtime.status(cid).state == State.EXITED
    shutil.rmtree(foreign)


def test_start_errors_name_what_is_wrong(runtime, tmp_path):
    with pytest.raises(ContainerError, match="not built for the sandbox"):
        runtime.start(ContainerSpec(name="x", image="studio/nope:1", command=["true"]))
    with pytest.raises(ContainerError, match="does not exist"):
        runtime.start(spec("true", mounts=[Mount(tmp_path / "missing", "/opt/ml/model")]))
    with pytest.raises(ContainerError, match="GPU"):
        runtime.start(spec("true", gpus=1))
    assert runtime.status("sbx-000000000000").state == State.MISSING
    runtime.remove("sbx-000000000000")


def test_secrets_in_the_environment_reach_the_container_but_no_command_line(runtime):
    secret = f"s3cr3t-{time.monotonic_ns()}"
    cid = runtime.start(
        spec('echo "seen=$AWS_SECRET_ACCESS_KEY"; sleep 30', env={"AWS_SECRET_ACCESS_KEY": secret})
    )
    lines = runtime.logs(cid, follow=True)
    assert next(lines) == f"seen={secret}"
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue  # exited meanwhile
            assert secret.encode() not in cmdline, f"the secret is on pid {entry.name}'s cmdline"
    runtime.stop(cid, timeout=0)


def test_tmp_is_a_bounded_tmpfs(runtime, settings):
    settings.STUDIO_TMPFS_BYTES = 8 * 2**20
    cid = runtime.start(
        spec("dd if=/dev/zero of=/tmp/fill bs=1M count=32 2>&1; echo rc=$?; df -k /tmp /dev/shm")
    )
    assert runtime.wait(cid, timeout=30).exit_code == 0
    out = "\n".join(runtime.logs(cid))
    assert "No space left on device" in out and "rc=1" in out
    sizes = {line.split()[-1]: line.split()[1] for line in out.splitlines()[-2:]}
    assert sizes == {"/tmp": "8192", "/dev/shm": "8192"}  # KiB


def test_the_log_stops_growing_at_its_cap_and_the_container_runs_on(runtime, settings):
    settings.STUDIO_CONTAINER_LOG_BYTES = 2**20
    cid = runtime.start(python("import sys\nsys.stdout.write('x' * 50 * 2**20)\nprint('done')"))
    assert runtime.wait(cid, timeout=60).exit_code == 0
    log = runtime.root / cid / "log"
    assert log.stat().st_size < 2**20 + 100
    lines = list(runtime.logs(cid))
    assert lines[0].endswith("[Studio: line cut at 16 KiB]") and len(lines[0]) < 17 * 1024
    assert lines[-1] == "[Studio: output beyond 1 MiB was dropped]"


def test_tail_reads_the_last_lines_from_the_end_of_a_long_log(runtime):
    cid = runtime.start(python("for i in range(200000): print('line', i)\nprint('x' * 100000)"))
    runtime.wait(cid, timeout=60)
    last = runtime.tail(cid, 3)
    assert last[:2] == ["line 199998", "line 199999"]
    assert last[2].startswith("x" * 1000) and last[2].endswith("[Studio: line cut at 16 KiB]")
    assert runtime.tail(cid, 0) == []
