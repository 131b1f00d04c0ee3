"""Docker Engine, through its command-line client: import, build, inspect and export images.

The CLI rather than the SDK because a build's and an import's output is what the progress
display shows, and `docker export | tar` streams a whole file system without holding it.
"""

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from studio.core.images.progress import Progress


def docker_available() -> bool:
    """True when a Docker client is installed and its engine answers."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _build_env() -> dict[str, str]:
    # The classic builder: Debian's docker.io ships no buildx, and the classic builder needs
    # none. DOCKER_BUILDKIT=0 says so, and spares a deprecation notice on every build.
    return {**os.environ, "DOCKER_BUILDKIT": "0"}


def inspect_image(ref: str) -> dict | None:
    """`docker image inspect` of `ref`, or None when there is no such image."""
    result = subprocess.run(
        ["docker", "image", "inspect", ref], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)[0]


def image_labels(ref: str) -> dict[str, str] | None:
    info = inspect_image(ref)
    if info is None:
        return None
    return info.get("Config", {}).get("Labels") or {}


def import_tree(tree: Path, ref: str, changes: Sequence[str], progress: Progress) -> None:
    """`tar -C tree -c . | docker import`: a directory tree becomes image `ref`."""
    command = ["docker", "import"]
    for change in changes:
        command += ["--change", change]
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(tree), "-c", "."], stdout=subprocess.PIPE
    )
    assert tar.stdout is not None
    try:
        progress.run([*command, "-", ref], stdin=tar.stdout)
    finally:
        tar.stdout.close()
        if tar.wait() != 0:
            raise subprocess.CalledProcessError(tar.returncode, "tar")


def build(
    context: Path,
    ref: str,
    build_args: Mapping[str, str],
    labels: Mapping[str, str],
    progress: Progress,
) -> None:
    # Host networking: dockerd runs without a bridge here, and the build's pip needs the index.
    command = ["docker", "build", "--network", "host", "--force-rm", "-t", ref]
    for key, value in build_args.items():
        command += ["--build-arg", f"{key}={value}"]
    for key, value in labels.items():
        command += ["--label", f"{key}={value}"]
    progress.run([*command, str(context)], env=_build_env())


def export_filesystem(ref: str, target: Path, progress: Progress) -> None:
    """Unpack the file system of image `ref` into the empty directory `target`."""
    name = f"studio-export-{uuid.uuid4().hex[:12]}"
    subprocess.run(
        ["docker", "create", "--name", name, ref], check=True, capture_output=True, text=True
    )
    try:
        export = subprocess.Popen(["docker", "export", name], stdout=subprocess.PIPE)
        assert export.stdout is not None
        try:
            progress.run(["tar", "--numeric-owner", "-x", "-C", str(target)], stdin=export.stdout)
        finally:
            export.stdout.close()
            if export.wait() != 0:
                raise subprocess.CalledProcessError(export.returncode, "docker export")
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def run_config(info: dict) -> dict:
    """What the sandbox runtime needs of an image's configuration to run it as Docker would."""
    config = info.get("Config") or {}
    return {
        "env": config.get("Env") or [],
        "user": config.get("User") or "",
        "workdir": config.get("WorkingDir") or "",
        "entrypoint": config.get("Entrypoint") or [],
        "cmd": config.get("Cmd") or [],
    }
