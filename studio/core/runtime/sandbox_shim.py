"""The supervisor of one sandbox container: `python -I -S sandbox_shim.py <state-dir>`.

`SandboxRuntime.start` launches it detached; it outlives the Celery worker that started it so
that the reconciler can re-adopt the container. It reads `launch.json` from the state
directory, then:

1. detaches (a second fork, so that init, not the worker, is its parent and reaps it) and
   records `pid` ("<pid> <start time>", so that a reused pid is not mistaken for it);
2. creates the container's cgroups and writes the limits (cgroup v1 or v2), or falls back to
   rlimits, recording which in `limits.json`;
3. in a private mount namespace of its own, bind-mounts the image tree and the mount sources
   under a world-traversable tmpfs, because bwrap runs as the unprivileged uid and could not
   reach them where they live (the data directory is private to root);
4. runs bwrap (through setpriv), entering the cgroups between fork and exec so that every
   process of the container is inside them; bwrap's options (the environment among them)
   reach it through an inherited memfd (`--args`), never its command line, which every host
   user can read;
5. copies the container's output from a pipe into `log` up to `log_bytes`, then reads and
   drops the rest, so that the file stops growing while the container's writes never block;
6. writes `exit.json` (exit code, OOM flag, finish time) atomically when bwrap ends.

Standard library only and run by path, not with `-m studio...`: importing the `studio`
package loads Celery, which would cost more than the whole start budget.
"""

import contextlib
import ctypes
import json
import os
import resource
import select
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# Where the shim exposes the image tree and mount sources to bwrap, inside its own mount
# namespace only (a tmpfs mounted over this empty host directory).
STAGE = "/run/studio-sandbox"
PIDS_MAX = 4096
CFS_PERIOD_US = 100_000
READ_BYTES = 65536
# After bwrap exits, how long output still in the pipe is read before giving up on it.
DRAIN_SECONDS = 2.0

_CLONE_NEWNS = 0x00020000
_MS_RDONLY = 0x1
_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_SLAVE = 0x80000


# -- small helpers shared with studio.core.runtime.sandbox ---------------------------------------


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def write_atomic(path: Path, text: str) -> None:
    """Readers see either no file or the whole file, never a partial one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def process_start_time(pid: int) -> int | None:
    """The start time (clock ticks after boot) of a live, non-zombie process, else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def cgroup_pids(cgroup_dirs: list[str]) -> set[int]:
    """Every process in the container's cgroups."""
    pids: set[int] = set()
    for d in cgroup_dirs:
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in Path(d, "cgroup.procs").read_text().split())
    return pids


def oom_kills(limits: dict) -> int:
    """How many processes the kernel's OOM killer killed in the container's memory cgroup."""
    memory = limits.get("cgroups", {}).get("memory")
    if not memory:
        return 0
    name = "memory.oom_control" if limits["mechanism"] == "cgroup-v1" else "memory.events"
    try:
        for line in Path(memory, name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    except OSError:
        pass
    return 0


# -- cgroups ---------------------------------------------------------------------------------


def _cgroup_mounts() -> tuple[dict[str, tuple[str, str]], str | None]:
    """The cgroup v1 (mount point, mount root) of each controller, and the cgroup2 mount."""
    v1: dict[str, tuple[str, str]] = {}
    v2 = None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        pre, _, post = line.partition(" - ")
        fstype, _source, super_options = post.split(" ")[:3]
        mount_root, mount_point = pre.split(" ")[3:5]
        if fstype == "cgroup":
            for option in super_options.split(","):
                v1.setdefault(option, (mount_point, mount_root))
        elif fstype == "cgroup2" and v2 is None:
            v2 = mount_point
    return v1, v2


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup in each v1 controller ("" for the v2 hierarchy)."""
    own: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    return own


def _write(path: Path, value: object) -> None:
    path.write_text(str(value))


def _setup_v1(
    mounts: dict[str, tuple[str, str]], cid: str, memory: int | None, cpus: float | None
) -> dict:
    own = _own_cgroups()
    dirs: dict[str, str] = {}
    try:
        for controller in ("memory", "cpu", "pids"):
            if controller not in mounts:
                continue
            # Nested under our own cgroup, so that limits set on Studio's processes (a
            # service's slice, an outer container) still bound the containers it starts.
            mount_point, mount_root = mounts[controller]
            path = own.get(controller, "/")
            if mount_root != "/" and path.startswith(mount_root):  # a subtree mounted alone
                path = path[len(mount_root) :]
            d = Path(mount_point + path, "studio", cid)
            d.mkdir(parents=True)
            dirs[controller] = str(d)
        if "memory" not in dirs:
            raise OSError("no memory cgroup")
        mem = Path(dirs["memory"])
        if memory:
            _write(mem / "memory.limit_in_bytes", memory)
            # Without swap accounting a job could page past its limit instead of being killed.
            with contextlib.suppress(OSError):
                _write(mem / "memory.memsw.limit_in_bytes", memory)
        if cpus and "cpu" in dirs:
            _write(Path(dirs["cpu"], "cpu.cfs_period_us"), CFS_PERIOD_US)
            _write(Path(dirs["cpu"], "cpu.cfs_quota_us"), max(1000, int(cpus * CFS_PERIOD_US)))
        if "pids" in dirs:
            _write(Path(dirs["pids"], "pids.max"), PIDS_MAX)
    except OSError:
        remove_cgroups(list(dirs.values()))
        raise
    return {"mechanism": "cgroup-v1", "cgroups": dirs}


def _setup_v2(root: str, cid: str, memory: int | None, cpus: float | None) -> dict:
    available = set(Path(root, "cgroup.controllers").read_text().split())
    if "memory" not in available:
        raise OSError("cgroup2 has no memory controller")
    wanted = [c for c in ("memory", "cpu", "pids") if c in available]
    enable = " ".join(f"+{c}" for c in wanted)
    # At the top of the hierarchy: v2 forbids controllers on a group that holds processes,
    # so Studio's own (non-root) group cannot be the parent.
    parent = Path(root, "studio")
    parent.mkdir(exist_ok=True)
    _write(Path(root, "cgroup.subtree_control"), enable)
    _write(parent / "cgroup.subtree_control", enable)
    d = parent / cid
    d.mkdir()
    try:
        if memory:
            _write(d / "memory.max", memory)
            with contextlib.suppress(OSError):
                _write(d / "memory.swap.max", 0)
        if cpus and "cpu" in wanted:
            _write(d / "cpu.max", f"{max(1000, int(cpus * CFS_PERIOD_US))} {CFS_PERIOD_US}")
        if "pids" in wanted:
            _write(d / "pids.max", PIDS_MAX)
    except OSError:
        remove_cgroups([str(d)])
        raise
    return {"mechanism": "cgroup-v2", "cgroups": {c: str(d) for c in wanted}}


def setup_limits(cid: str, memory: int | None, cpus: float | None) -> dict:
    """Create the container's cgroups with its limits; rlimits when no cgroup is writable."""
    v1, v2 = _cgroup_mounts()
    attempts = []
    if "memory" in v1:
        attempts.append(lambda: _setup_v1(v1, cid, memory, cpus))
    if v2:
        attempts.append(lambda: _setup_v2(v2, cid, memory, cpus))
    errors = []
    for attempt in attempts:
        try:
            return attempt()
        except OSError as e:
            errors.append(str(e))
    return {"mechanism": "rlimit", "cgroups": {}, "why": "; ".join(errors) or "no cgroups"}


def remove_cgroups(dirs: list[str]) -> None:
    for d in dict.fromkeys(dirs):
        with contextlib.suppress(FileNotFoundError):
            os.rmdir(d)


# -- mounts ----------------------------------------------------------------------------------


def _libc_call(name: str, *args: object) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args}: {os.strerror(errno)}")


def _encode(s: str | None) -> bytes | None:
    return s.encode() if s is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    args = (_encode(source), _encode(target), _encode(fstype), ctypes.c_ulong(flags), _encode(data))
    _libc_call("mount", *args)


def stage_mounts(stage: list[list[str]]) -> None:
    """Bind each [source, staged path] pair, in a mount namespace private to this process.

    Sources are opened before the tmpfs is mounted over STAGE, so that one lying under it
    is not hidden (root can bind an open file by its /proc/self/fd path), and after the
    unshare, since a bind's source must be a mount of the caller's namespace."""
    _libc_call("unshare", _CLONE_NEWNS)
    # Slave, not private: a file system the host unmounts must not stay pinned by us.
    _mount(None, "/", None, _MS_REC | _MS_SLAVE)
    fds = [os.open(source, os.O_PATH | os.O_CLOEXEC) for source, _ in stage]
    os.makedirs(STAGE, mode=0o755, exist_ok=True)
    _mount("tmpfs", STAGE, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=64k")
    for fd, (_, staged) in zip(fds, stage, strict=True):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.mkdir(staged)
        else:
            Path(staged).touch()
        _mount(f"/proc/self/fd/{fd}", staged, None, _MS_BIND | _MS_REC)
        os.close(fd)
    # Nothing is added under STAGE from now on.
    _mount(None, STAGE, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY)


# -- the supervisor --------------------------------------------------------------------------


def _enter(limits: dict, memory: int | None):
    """Runs in bwrap's process between fork and exec: join the cgroups, or set rlimits."""
    procs = [Path(d, "cgroup.procs") for d in dict.fromkeys(limits["cgroups"].values())]

    def enter() -> None:
        for path in procs:
            path.write_text(str(os.getpid()))
        if limits["mechanism"] == "rlimit":
            if memory:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_NPROC, (PIDS_MAX, PIDS_MAX))

    return enter


def _options_fd(options: list[str]) -> int:
    """bwrap's options, NUL-separated, in an anonymous memory file for `bwrap --args FD`."""
    fd = os.memfd_create("bwrap-args")
    with open(fd, "wb", closefd=False) as f:
        f.write(b"".join(option.encode() + b"\0" for option in options))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def copy_capped(source: int, log, cap: int, child: subprocess.Popen) -> None:
    """Copy the container's output to `log` until `cap` bytes, then drop (but keep reading)
    the rest; return at end of output, or DRAIN_SECONDS after `child` exited."""
    written = 0
    drain_until = None
    while True:
        if drain_until is None and child.poll() is not None:
            drain_until = time.monotonic() + DRAIN_SECONDS
        timeout = 0.5 if drain_until is None else max(0.0, drain_until - time.monotonic())
        ready, _, _ = select.select([source], [], [], timeout)
        if not ready:
            if drain_until is not None:
                return
            continue
        data = os.read(source, READ_BYTES)
        if not data:
            return
        if written < cap:
            kept = data[: cap - written]
            log.write(kept)
            log.flush()
            written += len(kept)
            if written >= cap:
                log.write(f"\n[Studio: output beyond {cap // 2**20} MiB was dropped]\n".encode())
                log.flush()


def supervise(state: Path) -> None:
    write_atomic(state / "pid", f"{os.getpid()} {process_start_time(os.getpid())}")
    launch = json.loads((state / "launch.json").read_text())
    limits: dict = {"mechanism": "none", "cgroups": {}}
    exit_code: int | None = None
    error = ""
    try:
        limits = setup_limits(state.name, launch["memory_bytes"], launch["cpus"])
        limits.update(memory_bytes=launch["memory_bytes"], cpus=launch["cpus"], pids=PIDS_MAX)
        write_atomic(state / "limits.json", json.dumps(limits))
        stage_mounts(launch["stage"])
        options = _options_fd(launch["options"])
        output, output_w = os.pipe()
        try:
            child = subprocess.Popen(
                [*launch["prefix"], "--args", str(options), "--", *launch["command"]],
                stdin=subprocess.DEVNULL,
                stdout=output_w,
                stderr=subprocess.STDOUT,
                close_fds=True,
                pass_fds=(options,),
                preexec_fn=_enter(limits, launch["memory_bytes"]),
            )
        finally:
            os.close(options)
            os.close(output_w)
        write_atomic(state / "started.json", json.dumps({"at": now_iso(), "bwrap_pid": child.pid}))
        with open(state / "log", "ab") as log:
            copy_capped(output, log, launch["log_bytes"], child)
        os.close(output)
        exit_code = child.wait()
        if exit_code < 0:  # bwrap itself killed by a signal: report it as a shell would
            exit_code = 128 - exit_code
    except Exception as e:
        error = f"sandbox setup failed: {e}"
        with open(state / "log", "a") as log:
            log.write(error + "\n")
    oom = oom_kills(limits) > 0
    if oom:
        error = f"killed: out of memory (limit {launch['memory_bytes'] // 2**20} MiB)"
    result = {"exit_code": exit_code, "oom_killed": oom, "finished_at": now_iso(), "error": error}
    write_atomic(state / "exit.json", json.dumps(result))


def main() -> None:
    state = Path(sys.argv[1])
    # Second fork: our parent (launched by the worker) exits at once and is reaped by it, so
    # we are reparented to init and never linger as the worker's zombie.
    if os.fork():
        os._exit(0)
    supervise(state)


if __name__ == "__main__":
    main()
