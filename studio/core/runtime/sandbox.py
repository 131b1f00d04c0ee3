"""The sandbox runtime: containers as bubblewrap sandboxes over a prepared image tree.

Each container is supervised by a detached shim process (`sandbox_shim.py`) that outlives the
Celery worker which started it. Everything known about a container lives in its state
directory, `$STUDIO_DATA_DIR/runtime/sandbox/<id>/`, so that any process (a fresh worker, the
reconciler) can report on it, stop it or remove it:

    spec.json     the ContainerSpec as given
    labels.json   its labels, plus Studio's managed and deployment labels
    launch.json   what the shim runs: the bwrap command, its options (handed to bwrap through
                  an inherited descriptor: they hold the environment, secrets included), the
                  mounts to stage, the limits
    pid           "<shim pid> <its start time>" (a reused pid is not mistaken for the shim)
    limits.json   how the limits were applied: cgroup-v1, cgroup-v2 or rlimit, and the groups
    started.json  when bwrap started, and its pid
    log           the container's stdout and stderr, up to STUDIO_CONTAINER_LOG_BYTES
    exit.json     exit code, OOM flag, finish time, error (written atomically at the end)

A state directory with neither a live shim nor `exit.json` is a container whose supervisor was
killed; it is reported as exited with an error rather than waited on forever.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from django.conf import settings

from studio.core.runtime import sandbox_shim as shim
from studio.core.runtime.base import (
    LABEL_DEPLOYMENT,
    LABEL_MANAGED,
    MAX_LINE_BYTES,
    TAIL_BYTES,
    ContainerError,
    ContainerSpec,
    ContainerStatus,
    ManagedContainer,
    Runtime,
    State,
    last_lines,
    sandbox_rootfs,
    split_lines,
    tmpfs_bytes,
)

# The image's own non-root user, `sagemaker-user` (as in the docker backend).
DEFAULT_UID, DEFAULT_GID = 1000, 100
DEFAULT_PATH = "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ID_PATTERN = re.compile(r"^sbx-[0-9a-f]{12}$")
POLL = 0.025
START_TIMEOUT = 10.0
SHIM_DIED = "sandbox supervisor died"


def parse_user(user: str | None) -> tuple[int, int]:
    """`"uid:gid"` (or `"uid"`, with the image's group) as numbers; never root."""
    if user is None:
        return DEFAULT_UID, DEFAULT_GID
    uid_s, _, gid_s = user.partition(":")
    try:
        uid, gid = int(uid_s), int(gid_s) if gid_s else DEFAULT_GID
    except ValueError:
        raise ContainerError(f"the sandbox runtime needs a numeric user, not {user!r}") from None
    if uid == 0:
        # bwrap would run as host root: the sandbox's files would be root's on the host.
        raise ContainerError("the sandbox runtime does not run containers as root")
    return uid, gid


def _home(rootfs: Path, uid: int) -> str:
    """The uid's home directory according to the image's /etc/passwd."""
    try:
        for line in (rootfs / "etc/passwd").read_text().splitlines():
            fields = line.split(":")
            if len(fields) > 5 and fields[2] == str(uid):
                return fields[5]
    except OSError:
        pass
    return "/"


def _root_layout(rootfs: Path, root_source: str, targets: list[str]) -> list[str]:
    """bwrap arguments that put the image tree at /, leaving room for every mount target.

    The tree is bound read-only, so bwrap cannot create a mount point missing from it. When
    a target is missing, the directories on its way (from /) become directories of bwrap's own
    root tmpfs, holding read-only binds of their original entries, and / is remounted
    read-only once the mounts are in place."""
    split: set[str] = set()
    for target in targets:
        parts = PurePosixPath(target).parts[1:]
        if os.path.lexists(rootfs.joinpath(*parts)):
            continue
        split.add("/")
        for i in range(1, len(parts)):
            host = rootfs.joinpath(*parts[:i])
            if host.is_symlink() or not host.is_dir():
                break
            split.add("/" + "/".join(parts[:i]))
    if not split:
        return ["--ro-bind", root_source, "/"]
    args: list[str] = []

    def fill(directory: str) -> None:
        for entry in sorted(os.listdir(rootfs / directory.lstrip("/"))):
            path = f"{directory.rstrip('/')}/{entry}"
            host = rootfs / path.lstrip("/")
            if path in split:
                args.extend(["--dir", path])
                fill(path)
            elif host.is_symlink():
                args.extend(["--symlink", os.readlink(host), path])
            else:
                args.extend(["--ro-bind", root_source + path, path])

    fill("/")
    return args


@dataclass
class BwrapCommand:
    """How the shim runs a spec: `prefix` (setpriv, then bwrap) is the command line, `options`
    reach bwrap through an inherited descriptor (`--args`), since they hold the environment
    and every host user can read a command line; then `--` and the container's `command`."""

    prefix: list[str]
    options: list[str]
    command: list[str]
    stage: list[list[str]]  # [source, staged path] pairs the shim binds under its stage


def bwrap_command(
    spec: ContainerSpec,
    rootfs: Path,
    *,
    bwrap: str = "bwrap",
    setpriv: str = "setpriv",
    stage: str = shim.STAGE,
) -> BwrapCommand:
    """What runs `spec` over the image tree `rootfs`, with the [source, staged path] pairs the
    shim must bind under `stage` for bwrap to reach them.

    bwrap runs as the container's uid, so that nothing runs as root and files written to
    mounted directories belong to that uid on the host."""
    uid, gid = parse_user(spec.user)
    root_source = f"{stage}/root"
    staged = [[str(rootfs), root_source]]
    mounts = sorted(spec.mounts, key=lambda m: len(PurePosixPath(m.target).parts))
    targets = ["/proc", "/dev", "/tmp", *(m.target for m in mounts)]
    if spec.workdir:
        targets.append(spec.workdir)

    prefix = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", bwrap]
    args = ["--unshare-all", "--unshare-user", "--disable-userns"]
    if spec.network == "host":
        args.append("--share-net")
    # --die-with-parent: the parent is the shim, so the container dies with its supervisor
    # (and is then reported as such), never with the worker that started it.
    args += ["--die-with-parent", "--new-session"]
    args += _root_layout(rootfs, root_source, targets)
    args += ["--proc", "/proc", "--dev", "/dev"]
    # Bounded: a full /tmp fails the container's write, never the host's memory.
    size = str(tmpfs_bytes(spec.memory_bytes))
    args += ["--size", size, "--tmpfs", "/dev/shm", "--size", size, "--tmpfs", "/tmp"]
    for i, mount in enumerate(mounts):
        source = f"{stage}/m{i}"
        staged.append([str(mount.source), source])
        args += ["--ro-bind" if mount.read_only else "--bind", source, mount.target]
    if "--dir" in args:
        args += ["--remount-ro", "/"]
    args += ["--hostname", spec.name[:63], "--chdir", spec.workdir or "/", "--clearenv"]
    env = {"PATH": DEFAULT_PATH, "HOME": _home(rootfs, uid), "HOSTNAME": spec.name[:63]}
    env.update(spec.env)
    for key, value in env.items():
        args += ["--setenv", key, value]
    return BwrapCommand(prefix, args, list(spec.command), staged)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _signal(pids: set[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # exited meanwhile
            os.kill(pid, sig)


def _is_sandbox_init(pid: int) -> bool:
    """bwrap's outer process (in our pid namespace) or its init (pid 1 of the container's).

    Stop sends SIGTERM past them: either dying kills the whole container at once, which
    would deny its processes the grace period."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                ns_pids = line.split()[1:]
                return len(ns_pids) == 1 or ns_pids[-1] == "1"
    except OSError:
        pass
    return False


def _descendants(root: int) -> set[int]:
    """`root` and every process below it (for containers without a cgroup)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


class SandboxRuntime(Runtime):
    name = "sandbox"

    def __init__(self, state_root: Path | None = None) -> None:
        self.root = state_root or Path(settings.DATA_DIR) / "runtime" / "sandbox"

    # -- state -------------------------------------------------------------------------------

    def _dir(self, container_id: str) -> Path:
        # The id becomes a path: anything but our own format would let a caller escape root.
        if not ID_PATTERN.match(container_id):
            raise ContainerError(f"not a sandbox container id: {container_id!r}")
        return self.root / container_id

    def _shim_alive(self, state: Path) -> bool:
        try:
            pid, start_time = (state / "pid").read_text().split()
        except (FileNotFoundError, ValueError):
            return False
        return str(shim.process_start_time(int(pid))) == start_time

    def _pids(self, state: Path) -> set[int]:
        """Every process of the container, from its cgroups or else its process tree."""
        limits = _read_json(state / "limits.json") or {}
        if limits.get("cgroups"):
            return shim.cgroup_pids(list(limits["cgroups"].values()))
        started = _read_json(state / "started.json")
        if started and self._shim_alive(state):
            return _descendants(started["bwrap_pid"])
        return set()

    def _claim_name(self, name: str, container_id: str) -> None:
        if not name or "/" in name or name in (".", ".."):
            raise ContainerError(f"invalid container name {name!r}")
        link = self.root / "names" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                os.symlink(container_id, link)
                return
            except FileExistsError:
                owner = os.readlink(link)
                if (self.root / owner).exists():
                    raise ContainerError(
                        f"a container named {name!r} already exists ({owner})"
                    ) from None
                link.unlink(missing_ok=True)  # its container was lost: the name is free
        raise ContainerError(f"could not claim the container name {name!r}")

    def _release_name(self, state: Path) -> None:
        spec = _read_json(state / "spec.json") or {}
        link = self.root / "names" / spec.get("name", "")
        if link.is_symlink() and os.readlink(link) == state.name:
            link.unlink(missing_ok=True)

    # -- the Runtime interface ---------------------------------------------------------------

    def start(self, spec: ContainerSpec) -> str:
        if spec.gpus:
            raise ContainerError("the sandbox runtime cannot give a container GPUs")
        if spec.network not in ("none", "host"):
            raise ContainerError(f"unknown network mode {spec.network!r}")
        if not self.has_image(spec.image):
            raise ContainerError(
                f"image {spec.image} is not built for the sandbox runtime "
                f"(no tree at {sandbox_rootfs(spec.image)}): run `studio images build`"
            )
        for mount in spec.mounts:
            if not Path(mount.source).exists():
                raise ContainerError(f"mount source {mount.source} does not exist")
        bwrap, setpriv = shutil.which("bwrap"), shutil.which("setpriv")
        if not bwrap or not setpriv:
            raise ContainerError("the sandbox runtime needs bwrap (bubblewrap) and setpriv")
        command = bwrap_command(
            spec, sandbox_rootfs(spec.image).resolve(), bwrap=bwrap, setpriv=setpriv
        )

        container_id = f"sbx-{secrets.token_hex(6)}"
        state = self._dir(container_id)
        self.root.mkdir(parents=True, exist_ok=True)
        self._claim_name(spec.name, container_id)
        state.mkdir(mode=0o700)
        labels = {
            **spec.labels,
            LABEL_MANAGED: "true",
            LABEL_DEPLOYMENT: settings.STUDIO_REDIS_PREFIX,
        }
        spec_data = asdict(spec)
        spec_data["mounts"] = [{**m, "source": str(m["source"])} for m in spec_data["mounts"]]
        (state / "spec.json").write_text(json.dumps(spec_data))
        (state / "labels.json").write_text(json.dumps(labels))
        launch = {
            **asdict(command),
            "memory_bytes": spec.memory_bytes,
            "cpus": spec.cpus,
            "log_bytes": settings.STUDIO_CONTAINER_LOG_BYTES,
        }
        (state / "launch.json").write_text(json.dumps(launch))

        with open(state / "log", "ab") as log:
            # -I -S: the shim needs only the standard library, and starts in milliseconds.
            launcher = subprocess.Popen(
                [sys.executable, "-I", "-S", shim.__file__, str(state)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            )
        launcher.wait()  # it forks the shim and exits at once
        self._await_start(container_id, state)
        return container_id

    def _await_start(self, container_id: str, state: Path) -> None:
        """Return once bwrap runs; raise (and clean up) if the shim could not start it."""
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.001
        while not (state / "started.json").exists():
            result = _read_json(state / "exit.json")
            failed = result["error"] if result else None
            if not failed and (state / "pid").exists() and not self._shim_alive(state):
                failed = SHIM_DIED
            if not failed and time.monotonic() > deadline:
                failed = f"the sandbox supervisor did not start bwrap in {START_TIMEOUT:.0f}s"
            if failed:
                log = "\n".join(self.logs(container_id))
                self.remove(container_id)
                raise ContainerError(f"{failed}\n{log}".strip())
            time.sleep(delay)
            delay = min(delay * 2, POLL)

    def status(self, container_id: str) -> ContainerStatus:
        try:
            state = self._dir(container_id)
        except ContainerError:
            return ContainerStatus(State.MISSING, error="no such container")
        if not state.is_dir():
            return ContainerStatus(State.MISSING, error="no such container")
        started = _read_json(state / "started.json") or {}
        started_at = _time(started.get("at"))
        result = _read_json(state / "exit.json")
        if result is None and self._shim_alive(state):
            return ContainerStatus(
                State.RUNNING if started else State.CREATED, started_at=started_at
            )
        # The shim may have finished between the two reads.
        result = result or _read_json(state / "exit.json")
        if result is None:
            if not (state / "pid").exists():
                return ContainerStatus(State.CREATED)
            # With its supervisor gone nothing would ever reap or report what is left of the
            # container (bwrap's --die-with-parent is not guaranteed across setpriv's exec):
            # it is dead, so make it so.
            for pid in self._pids(state):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return ContainerStatus(State.EXITED, started_at=started_at, error=SHIM_DIED)
        return ContainerStatus(
            State.EXITED,
            exit_code=result["exit_code"],
            oom_killed=result["oom_killed"],
            started_at=started_at,
            finished_at=_time(result["finished_at"]),
            error=result["error"],
        )

    def wait(self, container_id: str, timeout: float | None = None) -> ContainerStatus:
        deadline = None if timeout is None else time.monotonic() + timeout
        polls = 0
        while True:
            exited = (self._dir(container_id) / "exit.json").exists()
            # Reading exit.json is cheap; a full status (is the shim alive?) now and then
            # notices a supervisor that died without writing it.
            if exited or polls % 20 == 0:
                status = self.status(container_id)
                if status.state in (State.EXITED, State.MISSING):
                    return status
            if deadline is not None and time.monotonic() >= deadline:
                return self.status(container_id)
            time.sleep(POLL)
            polls += 1

    def stop(self, container_id: str, timeout: float = 10) -> None:
        state = self._dir(container_id)
        if not state.is_dir():
            return
        if self.status(container_id).running:
            _signal({p for p in self._pids(state) if not _is_sandbox_init(p)}, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.status(container_id).running and time.monotonic() < deadline:
                time.sleep(POLL)
        # Whatever remains, including processes that ignored SIGTERM and those forked since.
        deadline = time.monotonic() + 5
        while (pids := self._pids(state)) and time.monotonic() < deadline:
            _signal(pids, signal.SIGKILL)
            time.sleep(POLL)
        if pids:
            raise ContainerError(f"could not kill processes {sorted(pids)} of {container_id}")
        # Let the shim record the exit before callers ask for it.
        while self.status(container_id).running and time.monotonic() < deadline:
            time.sleep(POLL)

    def logs(self, container_id: str, follow: bool = False) -> Iterator[str]:
        # A container that is gone has no logs left, as with Docker: an empty stream.
        try:
            log = open(self._dir(container_id) / "log", "rb")  # noqa: SIM115 (closed by _tail)
        except (ContainerError, FileNotFoundError):
            return iter(())
        return self._tail(container_id, log, follow)

    def _tail(self, container_id: str, log, follow: bool) -> Iterator[str]:
        return split_lines(self._chunks(container_id, log, follow))

    def _chunks(self, container_id: str, log, follow: bool) -> Iterator[bytes]:
        with log:
            while True:
                # Checked before reading, so that output written just before the exit is read.
                done = not follow or self.status(container_id).state not in (
                    State.RUNNING,
                    State.CREATED,
                )
                chunk = log.read(65536)
                if chunk:
                    yield chunk
                elif done:
                    break
                else:
                    time.sleep(POLL * 2)

    def tail(self, container_id: str, lines: int) -> list[str]:
        try:
            with open(self._dir(container_id) / "log", "rb") as log:
                size = log.seek(0, os.SEEK_END)
                start = max(0, size - TAIL_BYTES)
                log.seek(start)
                data = log.read(TAIL_BYTES)
        except (ContainerError, FileNotFoundError):
            return []
        return last_lines(data, lines, cut_at_start=start > 0)

    def read_logs(self, container_id: str, cursor: dict, limit: int) -> tuple[list[str], dict]:
        offset, skipping = cursor.get("offset", 0), cursor.get("skipping", False)
        # Checked before reading, so that output written just before the exit is read.
        ended = self.status(container_id).state not in (State.RUNNING, State.CREATED)
        try:
            with open(self._dir(container_id) / "log", "rb") as log:
                log.seek(offset)
                data = log.read(limit)
        except (ContainerError, FileNotFoundError):
            return [], cursor
        if ended and len(data) < limit:  # all that is left: its last line is complete
            whole, rest = data if data.endswith(b"\n") or not data else data + b"\n", b""
            consumed = len(data)
        else:  # a line without its newline yet waits for the next read
            end = data.rfind(b"\n") + 1
            whole, rest, consumed = data[:end], data[end:], end
        lines = list(split_lines([whole]))
        if skipping and whole:  # the end of a line cut in an earlier read
            lines, skipping = lines[1:], False
        if skipping or len(rest) > MAX_LINE_BYTES:
            # A line's worth without a newline: cut it once, and drop the rest of it.
            if rest and not skipping:
                lines.append(next(split_lines([rest])))
            consumed, skipping = len(data), True
        return lines, {"offset": offset + consumed, "skipping": skipping}

    def remove(self, container_id: str) -> None:
        state = self._dir(container_id)
        if not state.is_dir():
            return
        self.stop(container_id, timeout=0)
        limits = _read_json(state / "limits.json") or {}
        cgroups = list(limits.get("cgroups", {}).values())
        deadline = time.monotonic() + 5
        while True:
            try:
                shim.remove_cgroups(cgroups)
                break
            except OSError:  # EBUSY while the last processes are being reaped
                if time.monotonic() > deadline:
                    raise
                time.sleep(POLL)
        self._release_name(state)
        shutil.rmtree(state, ignore_errors=True)

    def list_managed(self) -> list[ManagedContainer]:
        if not self.root.is_dir():
            return []
        found = []
        for state in sorted(self.root.iterdir()):
            if not ID_PATTERN.match(state.name):
                continue
            labels = _read_json(state / "labels.json")
            if not labels or labels.get(LABEL_DEPLOYMENT) != settings.STUDIO_REDIS_PREFIX:
                continue
            spec = _read_json(state / "spec.json") or {}
            found.append(
                ManagedContainer(
                    id=state.name,
                    name=spec.get("name", ""),
                    labels=labels,
                    status=self.status(state.name),
                )
            )
        return found

    def has_image(self, image: str) -> bool:
        rootfs = sandbox_rootfs(image)
        # lexists: in the tree these are often absolute symlinks, meaningful only inside it.
        return any(os.path.lexists(rootfs / p) for p in ("opt/venv/bin/python", "bin/sh"))
