"""Root file system trees for the sandbox runtime: content hashes, metadata, atomic
replacement, and the Docker-less build (an image's install.sh run inside bubblewrap)."""

import hashlib
import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from studio.core.images.progress import Progress

_IGNORED = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
# Where install.sh and its files sit during a build, in the Dockerfiles and in bubblewrap.
BUILD_DIR = "/tmp/studio-build"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def input_hash(directory: Path, extra: Iterable[str] = ()) -> str:
    """A hash of every file of `directory` (path, executable bit, content) and of `extra`
    (e.g. the base image's id): an image whose hash is unchanged needs no rebuild."""
    digest = hashlib.sha256()
    for item in extra:
        digest.update(f"extra:{item}\0".encode())
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if _IGNORED.intersection(relative.parts) or path.suffix == ".pyc" or path.is_dir():
            continue
        executable = os.access(path, os.X_OK)
        digest.update(f"file:{relative.as_posix()}:{int(executable)}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def copy_sources(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_IGNORED, "*.pyc"))


def metadata_path(rootfs: Path) -> Path:
    """The metadata of a tree lives beside it: `<tree>.json`."""
    return rootfs.with_name(rootfs.name + ".json")


def read_metadata(rootfs: Path) -> dict | None:
    """The metadata of an installed tree (input hash, env, user, ...), or None."""
    try:
        return json.loads(metadata_path(rootfs).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def staging_dir(rootfs: Path) -> Path:
    """An empty directory beside `rootfs` (same file system, so it can be renamed into place)."""
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{rootfs.name}.", dir=rootfs.parent))


def remove_tree(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)


def install_tree(staged: Path, rootfs: Path, metadata: Mapping) -> None:
    """Put `staged` in place of `rootfs` with two renames, so a runtime reading `rootfs`
    sees the old tree or the new one, never half of either."""
    os.chmod(staged, 0o755)  # mkdtemp made it 0700; the image's / must be world-readable
    old = None
    if rootfs.exists():
        old = rootfs.with_name(f".{rootfs.name}.old.{os.getpid()}")
        rootfs.rename(old)
    staged.rename(rootfs)
    # The metadata goes last: a tree without it is rebuilt rather than trusted.
    meta = metadata_path(rootfs)
    tmp = meta.with_name(f".{meta.name}.{os.getpid()}")
    tmp.write_text(json.dumps(dict(metadata), indent=2) + "\n")
    tmp.rename(meta)
    if old is not None:
        shutil.rmtree(old)


def dockerfile_config(dockerfile: Path, base_env: Iterable[str] = ()) -> dict:
    """ENV, USER, WORKDIR and CMD of a Dockerfile, for a tree built without Docker, over the
    base's environment (`KEY=value` strings).

    Only the simple forms the built-in images use (`ENV KEY=value ...`, exec-form CMD) are
    read; `$PATH` in an ENV value expands to the PATH so far.
    """
    env = {"PATH": DEFAULT_PATH, **dict(item.split("=", 1) for item in base_env)}
    config: dict = {"user": "", "workdir": "", "cmd": [], "entrypoint": []}
    for raw in dockerfile.read_text().splitlines():
        words = raw.strip().split(None, 1)
        if len(words) != 2:
            continue
        instruction, rest = words[0].upper(), words[1]
        if instruction == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value.replace("${PATH}", env["PATH"]).replace("$PATH", env["PATH"])
        elif instruction in ("USER", "WORKDIR"):
            config[instruction.lower()] = rest.strip()
        elif instruction in ("CMD", "ENTRYPOINT"):
            config[instruction.lower()] = json.loads(rest)
    config["env"] = [f"{k}={v}" for k, v in env.items()]
    return config


def bwrap_install(tree: Path, context: Path, env: Mapping[str, str], progress: Progress) -> None:
    """Run `context/install.sh` as root inside `tree` (bubblewrap, host network), as the
    Dockerfile's RUN does inside `docker build`."""
    inside = tree / BUILD_DIR.lstrip("/")
    remove_tree(inside)
    copy_sources(context, inside)
    command = [
        "bwrap",
        "--bind", str(tree), "/",
        "--proc", "/proc",
        "--dev", "/dev",
        # Host networking (as `docker build --network host`) and the host's resolver.
        "--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--die-with-parent",
        "--clearenv",
        "--setenv", "PATH", DEFAULT_PATH,
        "--setenv", "HOME", "/root",
        "--setenv", "LANG", "C.UTF-8",
    ]  # fmt: skip
    for key, value in env.items():
        command += ["--setenv", key, value]
    try:
        progress.run([*command, "--", "/bin/sh", f"{BUILD_DIR}/install.sh"])
    finally:
        remove_tree(inside)
