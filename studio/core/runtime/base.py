"""The runtime seam: what the platform asks of a container backend (DESIGN.md §3.5).

Modelled on JupyterHub's Spawner, but synchronous, since its callers are Celery tasks: a
`ContainerSpec` says what to run; a backend starts it, reports on it, streams its logs, stops
and removes it, and lists what it runs by label so the reconciler can re-adopt or clean up
after a restart. Containers must outlive the worker that started them.
"""

import abc
import enum
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# Every container Studio starts carries these labels.
LABEL_MANAGED = "studio.managed"
LABEL_KIND = "studio.resource-type"  # "TrainingJob", "ProcessingJob", "App", ...
LABEL_NAME = "studio.resource-name"
LABEL_DEPLOYMENT = "studio.deployment"  # STUDIO_REDIS_PREFIX: which Studio owns it

# A longer line is cut here and the rest of it, up to its newline, dropped: a container that
# prints without newlines cannot make the worker buffer more than this.
MAX_LINE_BYTES = 16 * 1024
# The most a tail reads back from the end of a log, whatever the lines asked.
TAIL_BYTES = 256 * 1024
LINE_CUT = f" [Studio: line cut at {MAX_LINE_BYTES // 1024} KiB]"


@dataclass(frozen=True)
class Mount:
    source: Path
    target: str
    read_only: bool = False


@dataclass
class ContainerSpec:
    name: str  # unique among live containers; also the container's hostname
    image: str  # an image reference, e.g. "studio/sklearn:latest"
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    cpus: float | None = None
    memory_bytes: int | None = None
    gpus: int = 0
    network: str = "none"  # "none" or "host" (host networking, for loopback-bound servers)
    port: int | None = None
    user: str | None = None  # "uid:gid"; None means the image's own non-root user
    workdir: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


class State(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    MISSING = "missing"  # the backend has no such container (removed, or lost in a crash)


@dataclass
class ContainerStatus:
    state: State
    exit_code: int | None = None
    oom_killed: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str = ""  # what the backend knows of why it ended, beyond the exit code

    @property
    def running(self) -> bool:
        return self.state == State.RUNNING


@dataclass
class ManagedContainer:
    id: str
    name: str
    labels: dict[str, str]
    status: ContainerStatus


def _line(data: bytes) -> str:
    if len(data) > MAX_LINE_BYTES:
        return data[:MAX_LINE_BYTES].decode(errors="replace") + LINE_CUT
    return data.decode(errors="replace").rstrip("\r")


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Whole lines (without newlines) from arbitrary chunks of output, each at most
    MAX_LINE_BYTES (marked when cut); what is held between chunks never exceeds that."""
    pending = b""
    skipping = False  # past the cut of an over-long line, until its newline
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if not skipping:
                yield _line(pending + chunk[start : min(end, start + MAX_LINE_BYTES + 1)])
            pending, skipping, start = b"", False, end + 1
        if skipping:
            continue
        pending += chunk[start : start + MAX_LINE_BYTES + 1]
        if len(pending) > MAX_LINE_BYTES:
            yield _line(pending)
            pending, skipping = b"", True
    if pending:
        yield _line(pending)


def last_lines(data: bytes, lines: int, *, cut_at_start: bool) -> list[str]:
    """The last `lines` lines of `data`, the end of a log; with `cut_at_start` its first line is
    a part (the read began inside it) and is dropped."""
    found = list(split_lines([data]))
    if cut_at_start and found:
        found = found[1:]
    return found[-lines:] if lines > 0 else []


def tmpfs_bytes(memory_bytes: int | None) -> int:
    """The size of a container's /tmp (and of its /dev/shm): STUDIO_TMPFS_BYTES, or else half
    its memory, since tmpfs pages count against the memory limit of whoever writes them."""
    from django.conf import settings

    if settings.STUDIO_TMPFS_BYTES:
        return settings.STUDIO_TMPFS_BYTES
    return (memory_bytes or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) // 2


class ContainerError(Exception):
    """A backend could not do what was asked (image missing, engine down, ...)."""


def sandbox_rootfs(image: str) -> Path:
    """Where the sandbox runtime keeps the root file system of `image` (a directory tree)."""
    from django.conf import settings

    safe = image.replace("/", "_").replace(":", "_")
    return Path(settings.STUDIO_IMAGES_DIR) / "rootfs" / safe


class Runtime(abc.ABC):
    name: str

    @abc.abstractmethod
    def start(self, spec: ContainerSpec) -> str:
        """Start a container and return its id. Raise ContainerError naming what is wrong."""

    @abc.abstractmethod
    def status(self, container_id: str) -> ContainerStatus: ...

    @abc.abstractmethod
    def wait(self, container_id: str, timeout: float | None = None) -> ContainerStatus:
        """Block until the container exits (or `timeout` passes); return its status."""

    @abc.abstractmethod
    def stop(self, container_id: str, timeout: float = 10) -> None:
        """SIGTERM the container's processes, SIGKILL after `timeout` seconds."""

    @abc.abstractmethod
    def logs(self, container_id: str, follow: bool = False) -> Iterator[str]:
        """The container's output (stdout and stderr), line by line, without newlines."""

    @abc.abstractmethod
    def read_logs(self, container_id: str, cursor: dict, limit: int) -> tuple[list[str], dict]:
        """The lines after `cursor` ({} for the start), about `limit` bytes of them at most,
        and the cursor to continue from. Returns at once: a watcher reads a little on each
        short poll instead of following the output with a thread of its own. Lines are cut as
        `split_lines` cuts them; a last line without newline comes once the container ended."""

    @abc.abstractmethod
    def tail(self, container_id: str, lines: int) -> list[str]:
        """The container's last `lines` lines of output, read from the end (never the whole
        log, which a container can make large): what a FailureReason or a page shows."""

    @abc.abstractmethod
    def remove(self, container_id: str) -> None:
        """Forget a stopped container; a missing one is not an error."""

    @abc.abstractmethod
    def list_managed(self) -> list[ManagedContainer]:
        """Every container of this deployment (labelled `LABEL_DEPLOYMENT`)."""

    @abc.abstractmethod
    def has_image(self, image: str) -> bool: ...
