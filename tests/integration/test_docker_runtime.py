"""The docker backend on the real Docker Engine: least privilege, limits, labels, no pulls."""

import time

import pytest

from studio.core.runtime import ContainerError, ContainerSpec, State
from studio.core.runtime.base import LABEL_DEPLOYMENT, LABEL_KIND, LABEL_MANAGED
from tests.capabilities import need

IMAGE = "studio/sklearn:latest"


@pytest.fixture
def docker_runtime():
    from studio.core.runtime import docker_available, get_runtime

    need("docker", docker_available(), "no Docker Engine answers (start dockerd)")
    runtime = get_runtime("docker")
    need("docker", runtime.has_image(IMAGE), f"{IMAGE} is not built: run `make images`")
    started = []
    yield runtime, started
    for container_id in started:
        runtime.remove(container_id)


def spec(**overrides) -> ContainerSpec:
    values = {
        "name": f"rt-test-{time.monotonic_ns()}",
        "image": IMAGE,
        "command": ["python", "-c", "print('hello')"],
        "labels": {LABEL_KIND: "Test"},
    }
    values.update(overrides)
    return ContainerSpec(**values)


def test_a_container_runs_as_non_root_with_no_privileges_and_its_limits(docker_runtime):
    runtime, started = docker_runtime
    container_id = runtime.start(
        spec(
            command=["python", "-c", "import os; print(os.getuid(), os.getgid())"],
            cpus=1.0,
            memory_bytes=256 * 2**20,
        )
    )
    started.append(container_id)
    status = runtime.wait(container_id, timeout=60)
    assert (status.state, status.exit_code) == (State.EXITED, 0)
    assert list(runtime.logs(container_id)) == ["1000 100"]
    attrs = runtime.client.containers.get(container_id).attrs
    host = attrs["HostConfig"]
    assert host["CapDrop"] == ["ALL"] and not host["Privileged"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert host["NetworkMode"] == "none"
    assert host["Memory"] == host["MemorySwap"] == 256 * 2**20
    assert host["NanoCpus"] == 10**9
    labels = attrs["Config"]["Labels"]
    assert labels[LABEL_MANAGED] == "true" and labels[LABEL_KIND] == "Test"
    assert labels[LABEL_DEPLOYMENT]
    assert container_id in {c.id for c in runtime.list_managed()}


def test_a_missing_image_is_refused_without_asking_a_registry(docker_runtime):
    runtime, _ = docker_runtime
    # A pull would end in a registry error instead; this message comes only from the refusal.
    with pytest.raises(ContainerError, match="not on this host; build it with `studio images"):
        runtime.start(spec(image="studio/does-not-exist:latest"))
    assert not runtime.has_image("studio/does-not-exist:latest")


def test_stop_and_remove(docker_runtime):
    runtime, _ = docker_runtime
    container_id = runtime.start(spec(command=["sleep", "300"]))
    assert runtime.status(container_id).running
    runtime.stop(container_id, timeout=1)
    assert runtime.status(container_id).state == State.EXITED
    runtime.remove(container_id)
    assert runtime.status(container_id).state == State.MISSING
    assert list(runtime.logs(container_id)) == []


def test_tmp_and_shm_are_bounded_and_the_log_rotated(docker_runtime, settings):
    runtime, started = docker_runtime
    settings.STUDIO_TMPFS_BYTES = 8 * 2**20
    settings.STUDIO_CONTAINER_LOG_BYTES = 2 * 2**20
    script = "dd if=/dev/zero of=/tmp/fill bs=1M count=32 2>&1; echo rc=$?; df -k /tmp /dev/shm"
    container_id = runtime.start(spec(command=["sh", "-c", script]))
    started.append(container_id)
    assert runtime.wait(container_id, timeout=60).exit_code == 0
    out = "\n".join(runtime.logs(container_id))
    assert "No space left on device" in out and "rc=1" in out
    sizes = {line.split()[-1]: line.split()[1] for line in out.splitlines()[-2:]}
    assert sizes == {"/tmp": "8192", "/dev/shm": "8192"}  # KiB
    log_config = runtime.client.containers.get(container_id).attrs["HostConfig"]["LogConfig"]
    assert log_config == {"Type": "json-file", "Config": {"max-size": "1048576", "max-file": "2"}}


def test_a_line_without_newline_is_cut(docker_runtime):
    runtime, started = docker_runtime
    script = "import sys; sys.stdout.write('x' * 2**20); print(); print('after')"
    container_id = runtime.start(spec(command=["python", "-c", script]))
    started.append(container_id)
    assert runtime.wait(container_id, timeout=60).exit_code == 0
    lines = list(runtime.logs(container_id))
    assert lines[0] == "x" * 16 * 1024 + " [Studio: line cut at 16 KiB]"
    assert lines[1:] == ["after"]


def test_tail_reads_the_last_lines_from_the_end_of_a_long_log(docker_runtime):
    runtime, started = docker_runtime
    script = "import sys\nfor i in range(200000): print('line', i)\nprint('x' * 100000)"
    container_id = runtime.start(spec(command=["python", "-c", script]))
    started.append(container_id)
    runtime.wait(container_id, timeout=60)
    last = runtime.tail(container_id, 3)
    assert last[:2] == ["line 199998", "line 199999"]
    assert last[2].startswith("x" * 1000) and last[2].endswith("[Studio: line cut at 16 KiB]")
    assert runtime.tail("no-such-container", 3) == []
