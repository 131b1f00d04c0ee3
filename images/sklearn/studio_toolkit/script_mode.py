"""Script mode: run the user's entry script as the SageMaker SDK's SKLearn estimator does.

The platform places the user's code at `/opt/ml/code` (a directory, or a `sourcedir.tar.gz`
there) before the container starts; `sagemaker_submit_directory` is then only informational.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from studio_toolkit.environment import (
    JobConfig,
    Paths,
    decode_hyperparameters,
    script_mode_environment,
)
from studio_toolkit.errors import UserError

SOURCE_ARCHIVE = "sourcedir.tar.gz"
# SageMaker's FailureReason holds at most 1,024 characters.
MAX_REASON_CHARS = 1024
STDERR_TAIL_BYTES = 16 * 1024
TRACEBACK_LINES = 15


def run_script(paths: Paths, config: JobConfig) -> None:
    """Run `sagemaker_program` with the `SM_*` environment; raise UserError if it fails."""
    # The SDK JSON-encodes these ('"train.py"'); a hand-written job may not ("train.py").
    hyperparameters = decode_hyperparameters(config.hyperparameters)
    program = str(
        hyperparameters.get("sagemaker_program") or os.environ.get("SAGEMAKER_PROGRAM", "")
    )
    if not program:
        raise UserError(
            "Nothing to run: set the sagemaker_program hyperparameter to the entry script "
            "(script mode), or start the job with a built-in algorithm."
        )
    submit_dir = str(
        hyperparameters.get("sagemaker_submit_directory")
        or os.environ.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    )
    code_dir = prepare_code(paths, program, submit_dir)
    install_requirements(code_dir)

    env_vars, user_args = script_mode_environment(
        paths, config, program=program, module_dir=submit_dir or str(code_dir)
    )
    if program.endswith(".py"):
        command = [sys.executable, program, *user_args]
    elif program.endswith(".sh"):
        command = ["/bin/sh", program, *user_args]
    else:
        raise UserError(
            f"sagemaker_program {program!r} must be a Python (.py) or shell (.sh) script"
        )

    env = {**os.environ, **env_vars, "PYTHONUNBUFFERED": "1"}
    # Imports of the user's own modules work from any sub-directory of the code, as on SageMaker.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code_dir), os.environ.get("PYTHONPATH")]))
    print(f"Running {' '.join(command[1:])} in {code_dir}", flush=True)
    returncode, stderr_tail = _run_streaming(command, code_dir, env)
    if returncode != 0:
        raise UserError(_failure_reason(program, returncode, stderr_tail), _exit_code(returncode))


def prepare_code(paths: Paths, program: str, submit_dir: str) -> Path:
    """The directory holding `program`: /opt/ml/code, extracting a sourcedir.tar.gz when needed."""
    code_dir = paths.code_dir
    if (code_dir / program).is_file():
        return code_dir
    archive = code_dir / SOURCE_ARCHIVE
    local = _local_path(submit_dir)
    if not archive.is_file() and local is not None:
        if local.is_dir() and (local / program).is_file():
            return local
        if local.is_file():
            archive = local
    if archive.is_file():
        target = _extract(archive, code_dir)
        if not (target / program).is_file():
            raise UserError(f"sagemaker_program {program!r} is not in {archive.name}")
        return target
    where = f" (sagemaker_submit_directory is {submit_dir})" if submit_dir else ""
    raise UserError(f"sagemaker_program {program!r} was not found in {code_dir}{where}")


def _local_path(uri: str) -> Path | None:
    """A path for a `file://` URI or an absolute path; None for s3:// and the like, which only
    the platform can fetch (it places that code at /opt/ml/code)."""
    if uri.startswith("/"):
        return Path(uri)
    parsed = urlparse(uri)
    return Path(parsed.path) if parsed.scheme == "file" else None


def _extract(archive: Path, code_dir: Path) -> Path:
    print(f"Extracting {archive}", flush=True)
    try:
        with tarfile.open(archive) as tar:
            try:
                code_dir.mkdir(parents=True, exist_ok=True)
                tar.extractall(code_dir, filter="data")
                return code_dir
            except PermissionError:
                # The runtime may mount the code read-only; a private copy serves as well.
                target = Path(tempfile.mkdtemp(prefix="studio-code-"))
                tar.extractall(target, filter="data")
                return target
    except (tarfile.TarError, OSError) as exc:
        raise UserError(f"Cannot extract {archive.name}: {exc}") from exc


def install_requirements(code_dir: Path) -> None:
    """pip-install the code's requirements.txt, as SageMaker does, when the job may use pip.

    Jobs usually have no network here, so this happens only with STUDIO_ALLOW_PIP=1.
    """
    requirements = code_dir / "requirements.txt"
    if not requirements.is_file():
        return
    if os.environ.get("STUDIO_ALLOW_PIP") != "1":
        print(
            "Skipping pip install -r requirements.txt: set STUDIO_ALLOW_PIP=1 to allow it "
            "(jobs usually have no network access).",
            flush=True,
        )
        return
    command = [sys.executable, "-m", "pip", "install", "-r", str(requirements)]
    print(f"Running {' '.join(command)}", flush=True)
    returncode = subprocess.run(command, cwd=code_dir, stdin=subprocess.DEVNULL).returncode
    if returncode != 0:
        raise UserError(
            f"pip install -r requirements.txt failed with exit code {returncode} (see the log)"
        )


def _run_streaming(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, bytes]:
    """Run `command` with stdout passed straight through and stderr copied through as it comes,
    keeping stderr's tail for the failure reason. Stop signals are forwarded to the script."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
    )

    def forward(signum: int, _frame: object) -> None:
        process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    tail = bytearray()
    try:
        assert process.stderr is not None
        fd = process.stderr.fileno()
        while chunk := os.read(fd, 4096):
            sys.stderr.buffer.write(chunk)
            sys.stderr.buffer.flush()
            tail += chunk
            del tail[:-STDERR_TAIL_BYTES]
        returncode = process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return returncode, bytes(tail)


def _exit_code(returncode: int) -> int:
    # A script killed by a signal exits as a shell reports it: 128 + the signal number.
    return returncode if returncode > 0 else 128 - returncode


def _failure_reason(program: str, returncode: int, stderr_tail: bytes) -> str:
    lines = [line for line in stderr_tail.decode(errors="replace").splitlines() if line.strip()]
    if returncode < 0:
        name = signal.Signals(-returncode).name
        head = f"ExecuteUserScriptError: {program} was killed by {name}"
        if -returncode == signal.SIGKILL:
            head += " (often: it ran out of memory)"
    else:
        head = f"ExecuteUserScriptError: {program} exited with code {returncode}"
    if lines:
        head += f": {lines[-1].strip()}"
    head = head[:MAX_REASON_CHARS]
    # Then the end of stderr (the traceback), as much as fits.
    context: list[str] = []
    room = MAX_REASON_CHARS - len(head)
    for line in reversed(lines[-TRACEBACK_LINES:]):
        if len(line) + 1 > room:
            break
        context.insert(0, line)
        room -= len(line) + 1
    return "\n".join([head, *context])
