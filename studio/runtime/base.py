"""The runtime seam: what the platform asks of a container backend (DESIGN.md §3.5).

Modelled on JupyterHub's Spawner, but synchronous, since its callers are Celery tasks: a
`ContainerSpec` says what to run; a backend starts it, reports on it, streams its logs, stops
and removes it, and lists what it runs by label so the reconciler can re-adopt or clean up
after a restart. Containers must outlive the worker that started them.
"""

import abc
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# Every container Studio starts carries these labels.
LABEL_MANAGED = "studio.managed"
LABEL_KIND = "studio.resource-type"  # "TrainingJob", "ProcessingJob", "App", ...
LABEL_NAME = "studio.resource-name"
LABEL_DEPLOYMENT = "studio.deployment"  # STUDIO_REDIS_PREFIX: which Studio owns it


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
    def remove(self, container_id: str) -> None:
        """Forget a stopped container; a missing one is not an error."""

    @abc.abstractmethod
    def list_managed(self) -> list[ManagedContainer]:
        """Every container of this deployment (labelled `LABEL_DEPLOYMENT`)."""

    @abc.abstractmethod
    def has_image(self, image: str) -> bool: ...
