"""The production runtime: containers on a Docker Engine, through the Docker SDK."""

import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime

import docker
import requests
from django.conf import settings
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container

from studio.core.runtime.base import (
    LABEL_DEPLOYMENT,
    LABEL_MANAGED,
    TAIL_BYTES,
    ContainerError,
    ContainerSpec,
    ContainerStatus,
    ManagedContainer,
    Runtime,
    State,
    last_lines,
    split_lines,
    tmpfs_bytes,
)

_STATES = {
    "created": State.CREATED,
    "running": State.RUNNING,
    "restarting": State.RUNNING,
    "paused": State.RUNNING,
    "removing": State.EXITED,
    "exited": State.EXITED,
    "dead": State.EXITED,
}
# The image's own non-root user (SageMaker Studio's sagemaker-user), when a spec names none.
DEFAULT_USER = "1000:100"
LOG_FILES = 2  # the engine keeps STUDIO_CONTAINER_LOG_BYTES of output, in this many files


def _time(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-"):
        return None
    # Docker gives nanoseconds; Python parses at most microseconds.
    head, _, tail = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{tail[:6] or '0'}+00:00")


def _nanos(stamp: str) -> tuple[int, int]:
    """(seconds, nanoseconds) of one of the engine's RFC 3339 timestamps."""
    head, _, tail = stamp.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return seconds, int(tail.ljust(9, "0")[:9] or 0)


def _status(state: dict) -> ContainerStatus:
    """A ContainerStatus from the `State` of Docker's container inspection."""
    mapped = _STATES.get(state["Status"], State.EXITED)
    exited = mapped == State.EXITED
    return ContainerStatus(
        state=mapped,
        exit_code=state.get("ExitCode") if exited else None,
        oom_killed=bool(state.get("OOMKilled")),
        started_at=_time(state.get("StartedAt")),
        finished_at=_time(state.get("FinishedAt")) if exited else None,
        error=state.get("Error") or "",
    )


def deployment_labels() -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_DEPLOYMENT: settings.STUDIO_REDIS_PREFIX}


# How many log entries beyond the lines asked a tail reads (see `DockerRuntime.tail`).
TAIL_EXTRA_ENTRIES = 64


class DockerRuntime(Runtime):
    name = "docker"

    def __init__(self, client: docker.DockerClient | None = None):
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                try:
                    self._client = docker.from_env(timeout=30)
                except DockerException as e:
                    raise ContainerError(f"Docker Engine is not reachable: {e}") from e
            return self._client

    def _get(self, container_id: str) -> Container | None:
        try:
            return self.client.containers.get(container_id)
        except NotFound:
            return None

    def start(self, spec: ContainerSpec) -> str:
        tmp = tmpfs_bytes(spec.memory_bytes)
        kwargs = {
            "image": spec.image,
            "command": spec.command,
            "name": spec.name,
            "hostname": spec.name,
            "environment": spec.env,
            "labels": {**spec.labels, **deployment_labels()},
            "volumes": {
                str(m.source): {"bind": m.target, "mode": "ro" if m.read_only else "rw"}
                for m in spec.mounts
            },
            "network_mode": spec.network,
            "user": spec.user or DEFAULT_USER,
            "working_dir": spec.workdir,
            # Least privilege: no capabilities, no setuid escalation, a process cap, and a
            # tiny init that reaps zombies and forwards SIGTERM to the job.
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "pids_limit": 4096,
            "init": True,
            # Sizes the engine can enforce: /tmp and /dev/shm are bounded tmpfs, and the
            # engine's copy of the output is rotated (the container never blocks on it).
            "tmpfs": {"/tmp": f"size={tmp},mode=1777"},
            "shm_size": tmp,
            "log_config": docker.types.LogConfig(
                type="json-file",
                config={
                    "max-size": str(settings.STUDIO_CONTAINER_LOG_BYTES // LOG_FILES),
                    "max-file": str(LOG_FILES),
                },
            ),
        }
        if spec.cpus:
            kwargs["nano_cpus"] = int(spec.cpus * 1e9)
        if spec.memory_bytes:
            # No swap beyond the limit: an instance's memory is what it has.
            kwargs["mem_limit"] = spec.memory_bytes
            kwargs["memswap_limit"] = spec.memory_bytes
        if spec.gpus:
            kwargs["device_requests"] = [
                docker.types.DeviceRequest(count=spec.gpus, capabilities=[["gpu"]])
            ]
        try:
            # create + start, not run: `run` pulls a missing image from a registry, and here
            # there is none to ask (DESIGN.md §5); a missing image is the user's to build.
            container = self.client.containers.create(**kwargs)
        except ImageNotFound as e:
            raise ContainerError(
                f"Image {spec.image} is not on this host; build it with `studio images build`."
            ) from e
        except (APIError, requests.RequestException) as e:
            raise ContainerError(f"Docker could not create {spec.name}: {e}") from e
        try:
            container.start()
        except (APIError, requests.RequestException) as e:
            with contextlib.suppress(APIError, requests.RequestException):
                container.remove(force=True)
            raise ContainerError(f"Docker could not start {spec.name}: {e}") from e
        return container.id

    def status(self, container_id: str) -> ContainerStatus:
        container = self._get(container_id)
        if container is None:
            return ContainerStatus(State.MISSING)
        return _status(container.attrs["State"])

    def wait(self, container_id: str, timeout: float | None = None) -> ContainerStatus:
        container = self._get(container_id)
        if container is None:
            return ContainerStatus(State.MISSING)
        try:
            container.wait(timeout=timeout)
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            pass  # still running after `timeout`
        except NotFound:
            return ContainerStatus(State.MISSING)
        return self.status(container_id)

    def stop(self, container_id: str, timeout: float = 10) -> None:
        container = self._get(container_id)
        if container is None:
            return
        with contextlib.suppress(NotFound):
            container.stop(timeout=int(timeout))

    def logs(self, container_id: str, follow: bool = False) -> Iterator[str]:
        container = self._get(container_id)
        if container is None:
            return iter(())
        return split_lines(container.logs(stream=True, follow=follow))

    def tail(self, container_id: str, lines: int) -> list[str]:
        container = self._get(container_id)
        if container is None or lines <= 0:
            return []
        # The engine reads from the end itself, but counts its entries, and it keeps a long
        # line as several 16 KB entries: some entries more, and the bytes bounded here.
        stream = container.logs(stream=True, follow=False, tail=lines + TAIL_EXTRA_ENTRIES)
        data, cut = b"", False
        try:
            for chunk in stream:
                data += chunk
                if len(data) > TAIL_BYTES:
                    data, cut = data[-TAIL_BYTES:], True
        finally:
            stream.close()
        return last_lines(data, lines, cut_at_start=cut)

    def read_logs(self, container_id: str, cursor: dict, limit: int) -> tuple[list[str], dict]:
        container = self._get(container_id)
        if container is None:
            return [], cursor
        # The engine stamps each line (nanoseconds); `since` resumes after the last one read.
        last = tuple(cursor.get("last", (0, 0)))
        # A microsecond early, as a float rounds: what was read already is skipped below.
        since = {"since": last[0] + last[1] / 1e9 - 1e-6} if last[0] else {}
        stream = container.logs(stream=True, follow=False, timestamps=True, **since)
        lines: list[str] = []
        read = 0
        try:
            for stamped in split_lines(stream):
                stamp, _, line = stamped.partition(" ")
                at = _nanos(stamp)
                if at <= last:
                    continue  # `since` is inclusive, and rounded to a float
                lines.append(line)
                last = at
                read += len(stamped)
                if read >= limit:
                    break
        finally:
            stream.close()
        return lines, {"last": list(last)}

    def remove(self, container_id: str) -> None:
        container = self._get(container_id)
        if container is not None:
            with contextlib.suppress(NotFound):
                container.remove(force=True)

    def list_managed(self) -> list[ManagedContainer]:
        label = f"{LABEL_DEPLOYMENT}={settings.STUDIO_REDIS_PREFIX}"
        found = []
        # A container removed between the listing and its inspection (a job that just ended)
        # is simply not listed, instead of failing the whole listing.
        listed = self.client.containers.list(
            all=True, filters={"label": label}, ignore_removed=True
        )
        for container in listed:
            found.append(
                ManagedContainer(
                    id=container.id,
                    name=container.name,
                    labels=container.labels,
                    status=_status(container.attrs["State"]),
                )
            )
        return found

    def has_image(self, image: str) -> bool:
        try:
            self.client.images.get(image)
        except ImageNotFound:
            return False
        return True
