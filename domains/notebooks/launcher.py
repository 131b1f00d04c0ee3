"""Launching one JupyterLab server: its container's spec and boot scripts, the start, the wait
until the server answers on its socket, and asking the server how it is. `servers` decides when
to launch and stop; the warm pool launches ahead of a click."""

import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from domains.models import AccessKeyStatus, App, StudioLifecycleConfig
from domains.notebooks import credentials, sdk_files
from domains.notebooks.access import SOCKET_NAME, boot_dir, proxy_prefix, runtime_dir, server_uid
from domains.notebooks.volumes import HOME_GID, create_home
from metering.catalog import InstanceType
from studio.core.api_socket import api_socket_dir
from studio.core.crypto import decrypt, encrypt
from studio.core.disk_usage import home_size_problem
from studio.core.health import redis_client
from studio.core.runtime import (
    ContainerError,
    ContainerSpec,
    Mount,
    State,
)
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME, Runtime
from studio.core.unix_socket import http_get

log = logging.getLogger(__name__)

READY_TIMEOUT = 90
# A start that has not finished in this long was lost with its worker.
START_LOST_AFTER = timedelta(seconds=2 * READY_TIMEOUT)
HOME = "/home/sagemaker-user"
RUNDIR = "/run/studio"  # the space's runtime directory (container-writable): the server's socket
BOOTDIR = "/run/studio-boot"  # read-only: the scripts the container runs before the server

# The server reads its configuration, extensions and kernel specs only from the image and from
# the read-only boot directory, never from the home, which every member of a shared space (and
# all their code) can write: a labextension or config file there would put that member's
# script into JupyterLab's page in every other member's browser. Settings, workspaces, the
# notebook trust database and kernels' connection files stay in the home, as before.
SERVER_ENV = {
    "JUPYTER_CONFIG_DIR": f"{BOOTDIR}/jupyter-config",
    "JUPYTER_DATA_DIR": f"{BOOTDIR}/jupyter-data",
    "JUPYTER_RUNTIME_DIR": f"{HOME}/.local/share/jupyter/runtime",
    "JUPYTERLAB_SETTINGS_DIR": f"{HOME}/.jupyter/lab/user-settings",
    "JUPYTERLAB_WORKSPACES_DIR": f"{HOME}/.jupyter/lab/workspaces",
    "PYTHONNOUSERSITE": "1",
}
# JupyterLab's HTML viewer renders a file in a frame with Studio's origin and runs its scripts
# there once the viewer clicks "Trust HTML": HTML files open as text instead, or in a new tab
# under /files/, sandboxed by the proxy.
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/htmlviewer-extension": True}}


def server_get(sock: Path, path: str, token: str, uid: int | None) -> tuple[int, bytes]:
    """GET `path` from the server behind `sock` (owned by `uid`), with its token: (status,
    body). Raises OSError when nothing answers, or when `sock` is not the server's socket."""
    return http_get(sock, path, uid, {"Authorization": f"token {token}"})


def server_answers(sock: Path, prefix: str, token: str, uid: int) -> bool:
    """Does the server behind `sock`, owned by `uid`, answer its status API?"""
    try:
        return server_get(sock, f"{prefix}api/status", token, uid)[0] == 200
    except OSError:
        return False


def container_spec(app: App, token: str, key_environment: dict[str, str]) -> ContainerSpec:
    space = app.space
    cpus, memory = InstanceType.objects.get(
        name=app.resource_spec["InstanceType"]
    ).container_limits()
    prefix = proxy_prefix(space.domain.domain_id, space.name)
    server = [
        "jupyter",
        "lab",
        "--no-browser",
        f"--ServerApp.sock={RUNDIR}/{SOCKET_NAME}",
        "--ServerApp.sock_mode=0600",
        f"--ServerApp.base_url={prefix}",
        f"--ServerApp.root_dir={HOME}",
        f"--NotebookNotary.data_dir={HOME}/.local/share/jupyter",
    ]
    return ContainerSpec(
        name=f"{settings.STUDIO_REDIS_PREFIX}-app-{space.domain.domain_id}-{space.name}",
        image=app.runtime_state.get("image") or app.resource_spec["SageMakerImageArn"],
        command=_container_command(app, server),
        # Secrets travel in the environment, not the command line other tools display.
        env={
            "JUPYTER_TOKEN": token,
            "HOME": HOME,
            "SHELL": "/bin/bash",
            **SERVER_ENV,
            **key_environment,
            **sdk_files.environment(BOOTDIR),
        },
        mounts=[
            Mount(space.home_volume, HOME),
            Mount(runtime_dir(space), RUNDIR),
            Mount(boot_dir(space), BOOTDIR, read_only=True),
            Mount(api_socket_dir(), credentials.API_DIR_IN_CONTAINER, read_only=True),
            *sdk_files.mounts(boot_dir(space)),
        ],
        cpus=cpus,
        memory_bytes=memory,
        network="none",
        user=f"{space.home_uid}:{HOME_GID}",
        workdir=HOME,
        labels={LABEL_KIND: App.RESOURCE_TYPE, LABEL_NAME: app.resource_id},
    )


LCC_FILE = "lifecycle.sh"
LCC_FAILED = "studio: lifecycle configuration failed with exit code"


def _container_command(app: App, server: list[str]) -> list[str]:
    """The server command, after the API forwarder (in the background) and the app's
    lifecycle configuration when it has one: its output goes to the app's log, and its
    failure ends the start with that output."""
    steps = [credentials.forwarder_command(BOOTDIR)]
    if app.resource_spec.get("LifecycleConfigArn"):
        steps.append(
            f'bash {BOOTDIR}/{LCC_FILE} || {{ code=$?; echo "{LCC_FAILED} $code"; exit $code; }};'
        )
    return ["bash", "-c", " ".join([*steps, 'exec "$@"']), "studio", *server]


def _write_boot_dir(app: App) -> None:
    """Put the scripts the container runs (the API forwarder, the lifecycle configuration) and
    the server's configuration in the space's boot directory: root's, mounted read-only.
    Root never writes into a directory a container can write (the runtime directory, the
    home), where a link planted between two steps would send the write, or a chown, to any
    host file."""
    directory = boot_dir(app.space)
    for path in (directory / "jupyter-config" / "labconfig", directory / "jupyter-data"):
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    directory.chmod(0o755)
    files = {
        credentials.FORWARDER.name: credentials.FORWARDER.read_text(),
        "jupyter-config/labconfig/page_config.json": json.dumps(PAGE_CONFIG),
        # Tells jupyter_core not to move ~/.ipython's configuration into the (read-only) dir.
        "jupyter-config/migrated": "",
    }
    arn = app.resource_spec.get("LifecycleConfigArn")
    if arn:
        config = StudioLifecycleConfig.objects.get(name=arn.rsplit("/", 1)[-1])
        files[LCC_FILE] = config.content
    (directory / LCC_FILE).unlink(missing_ok=True)
    for name, content in files.items():
        path = directory / name
        path.write_text(content)
        # Root's and read-only: the server's uid reads them and can change none of them.
        path.chmod(0o644)
    sdk_files.write(app, directory)


def _start_container(runtime: Runtime, spec: ContainerSpec) -> str:
    try:
        return runtime.start(spec)
    except ContainerError:
        # An earlier run of this app that nobody removed may hold the name; listing is slow,
        # so it is only looked for when a start fails.
        stale = [c for c in runtime.list_managed() if c.name == spec.name]
        if not stale:
            raise
        for container in stale:
            runtime.remove(container.id)
        return runtime.start(spec)


class LaunchFailed(Exception):
    """The server did not come up; the message says why, for the app's FailureReason."""


def launch_lock(app: App, blocking: bool = True) -> redis.lock.Lock:
    """One launcher per app at a time: a start and a warm-up must not share its socket."""
    return redis_client().lock(
        f"{settings.STUDIO_REDIS_PREFIX}:launch:{app.resource_id}",
        # Released by its holder; this covers a crash, and lapses when the reconciler gives
        # the start up for lost, so that starting the app again is not kept waiting.
        timeout=START_LOST_AFTER.total_seconds(),
        blocking=blocking,
        blocking_timeout=READY_TIMEOUT + 10,
    )


def release(lock: redis.lock.Lock) -> None:
    try:
        lock.release()
    except redis.exceptions.LockError:
        log.warning("a launch outlived its lock %s", lock.name)


def launch(
    app: App,
    runtime: Runtime,
    *,
    key_status: str = AccessKeyStatus.ACTIVE,
    record: Callable[[dict], None],
    progress: Callable[[str, int], None] = lambda step, percent: None,
) -> tuple[str, str]:
    """Start the app's server and wait until it answers: (container id, token). `record`
    keeps the token and then the container id as soon as each exists, so that a crash in
    between leaves something for the reconciler to find."""
    space = app.space
    progress("starting container", 10)
    rundir = runtime_dir(space)
    # No runtime limits a home's size: it is measured, and a start refused past the limit.
    if problem := home_size_problem(space.home_volume):
        raise LaunchFailed(problem)
    try:
        # The home and the runtime directory are the container's, but their names are in
        # directories only root writes: a container cannot swap either for a link.
        create_home(space.home_volume, space.home_uid)
        rundir.mkdir(parents=True, exist_ok=True)
        create_home(rundir, space.home_uid)
        # Unlinking removes whatever the name holds (a link, not its target).
        (rundir / SOCKET_NAME).unlink(missing_ok=True)
        _write_boot_dir(app)
        api_socket_dir().mkdir(parents=True, exist_ok=True)
    except (OSError, ObjectDoesNotExist) as e:
        raise LaunchFailed(f"Could not prepare the space's volume: {e}") from e
    token = secrets.token_urlsafe(32)
    # The uid the server runs as: the proxy connects only to a socket that uid owns.
    record({"token": encrypt(token), "uid": space.home_uid})
    key, secret = credentials.issue(app, status=key_status)
    spec = container_spec(app, token, credentials.environment(key, secret))
    try:
        container_id = _start_container(runtime, spec)
    except ContainerError as e:
        raise LaunchFailed(str(e)) from e
    record({"container": container_id})
    progress("starting server", 40)
    deadline = time.monotonic() + READY_TIMEOUT
    prefix = proxy_prefix(space.domain.domain_id, space.name)
    while not server_answers(rundir / SOCKET_NAME, prefix, token, space.home_uid):
        status = runtime.status(container_id)
        if status.state != State.RUNNING or time.monotonic() > deadline:
            tail = "\n".join(runtime.tail(container_id, 20))
            if LCC_FAILED in tail:
                name = app.resource_spec["LifecycleConfigArn"].rsplit("/", 1)[-1]
                why = f"Lifecycle configuration {name} failed (exit code {status.exit_code})"
            elif status.state != State.RUNNING:
                why = f"The server exited with code {status.exit_code}"
            else:
                why = f"The server did not answer within {READY_TIMEOUT} s"
            runtime.remove(container_id)
            raise LaunchFailed(f"{why}. Its last log lines:\n{tail}")
        time.sleep(0.02)  # an attempt is one connect() on a local socket: cheap
    return container_id, token


def activity(app: App) -> dict:
    """The server's own account of activity: its status (last_activity, connections) and its
    kernels (execution_state, last_activity). Raises OSError when it does not answer."""
    token = decrypt(app.runtime_state["token"])
    prefix = proxy_prefix(app.space.domain.domain_id, app.space.name)
    sock = runtime_dir(app.space) / SOCKET_NAME
    uid = server_uid(app)
    return {
        "status": json.loads(server_get(sock, f"{prefix}api/status", token, uid)[1]),
        "kernels": json.loads(server_get(sock, f"{prefix}api/kernels", token, uid)[1]),
    }
