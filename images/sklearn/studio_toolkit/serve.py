"""`serve`: the sklearn image's inference entry point (SageMaker's hosting container contract).

The model in `/opt/ml/model` (or `$STUDIO_ML_ROOT/model`) is loaded once, before the server
listens, so a successful connection and `GET /ping` mean it is ready. It listens on the Unix
socket `STUDIO_SERVE_SOCKET` (mode 0600) when set, as the platform runs it, else on TCP
0.0.0.0:`SAGEMAKER_BIND_TO_PORT` (8080). A model that cannot be loaded prints one line saying
why to stderr and exits 1; bad settings exit 2. docs/images.md ("Serving") has the details.
"""

from __future__ import annotations

import os
import socket
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from studio_toolkit.environment import Paths
from studio_toolkit.serving.errors import ModelLoadError

if TYPE_CHECKING:
    from studio_toolkit.serving.models import Model

SOCKET_ENV = "STUDIO_SERVE_SOCKET"
PORT_ENV = "SAGEMAKER_BIND_TO_PORT"
TIMEOUT_ENV = "SAGEMAKER_MODEL_SERVER_TIMEOUT"
WORKERS_ENV = "SAGEMAKER_MODEL_SERVER_WORKERS"
DEFAULT_PORT = 8080
DEFAULT_TIMEOUT_SECONDS = 60.0
MAX_WORKERS = 64
LISTEN_BACKLOG = 1024
MODEL_LOAD_EXIT_CODE = 1
SETTINGS_EXIT_CODE = 2


class SettingsError(Exception):
    """An environment variable `serve` reads has a value it cannot use."""


@dataclass(frozen=True)
class Settings:
    socket_path: str | None
    port: int
    timeout: float
    workers: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            socket_path=os.environ.get(SOCKET_ENV) or None,
            port=int(_number(PORT_ENV, DEFAULT_PORT, minimum=1, maximum=65535, integer=True)),
            timeout=_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_SECONDS, minimum=0.001, maximum=86400),
            workers=int(_number(WORKERS_ENV, 1, minimum=1, maximum=MAX_WORKERS, integer=True)),
        )


def _number(
    name: str, default: float, *, minimum: float, maximum: float, integer: bool = False
) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise SettingsError(f"{name}={text!r} is not {kind}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name}={text!r} must be between {minimum:g} and {maximum:g}")
    return value


def main() -> None:
    """Load the model, then serve it until SIGTERM."""
    sys.exit(run())


def run() -> int:
    # One OpenMP thread unless the model's Environment says otherwise: invocations are small
    # and come several at once, and a pool per prediction costs more than it gains (a 1-row
    # HistGradientBoosting prediction: 1.8 ms on one thread, 2.9 ms on two, and about 12 ms
    # when the threads contend for two CPUs). Set before numpy is first imported.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"serve: {exc}", file=sys.stderr, flush=True)
        return SETTINGS_EXIT_CODE
    model_dir = Paths.from_env().model_dir
    try:
        model = load(model_dir)
    except ModelLoadError as exc:
        reason = " ".join(str(exc).split())  # one line: it becomes the FailureReason
        print(f"serve: cannot serve the model: {reason}", file=sys.stderr, flush=True)
        return MODEL_LOAD_EXIT_CODE
    try:
        sock, where = listen(settings)
    except OSError as exc:
        print(f"serve: cannot listen: {exc}", file=sys.stderr, flush=True)
        return SETTINGS_EXIT_CODE

    import asyncio
    import warnings

    from studio_toolkit.serving.models import fast_predictions
    from studio_toolkit.serving.server import App, serve

    # Rows arrive as arrays; a model fitted on a DataFrame would warn on every request.
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    fast_predictions()

    async def main_loop() -> None:
        app = App(
            model, timeout=settings.timeout, workers=settings.workers, thread_setup=fast_predictions
        )
        await serve(app, sock, where)

    try:
        asyncio.run(main_loop())
    finally:
        if settings.socket_path:
            _unlink_socket(settings.socket_path)
    print("serve: stopped", flush=True)
    return 0


def load(model_dir: Path) -> Model:
    """The model to serve: the user's handlers when SAGEMAKER_PROGRAM is set, else the model
    directory's model.joblib (a built-in algorithm's when metadata.json says so)."""
    from studio_toolkit.serving.handlers import load_user_model, user_program
    from studio_toolkit.serving.models import load_model

    program = user_program()
    try:
        return load_user_model(model_dir, program) if program else load_model(model_dir)
    except ModelLoadError:
        raise
    except Exception as exc:  # whatever a strange model does while loading, say it in a line
        raise ModelLoadError(f"{type(exc).__name__}: {exc}") from exc


def listen(settings: Settings) -> tuple[socket.socket, str]:
    """A listening socket: the Unix socket path (mode 0600) or TCP on all interfaces."""
    if settings.socket_path:
        path = settings.socket_path
        _unlink_socket(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # The umask makes the socket 0600 from the moment it exists.
        previous = os.umask(0o177)
        try:
            sock.bind(path)
        finally:
            os.umask(previous)
        os.chmod(path, 0o600)
        sock.listen(LISTEN_BACKLOG)
        return sock, f"unix:{path}"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", settings.port))
    sock.listen(LISTEN_BACKLOG)
    return sock, f"0.0.0.0:{settings.port}"


def _unlink_socket(path: str) -> None:
    """Remove a socket left by an earlier run; anything else at the path is an error."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise OSError(f"{path} exists and is not a socket")
    os.unlink(path)


if __name__ == "__main__":
    main()
