"""`studio images build-base` and `studio images build`: the steps, their caching, and which
runtime they build for."""

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from studio.core.images import (
    BASE_IMAGE,
    INPUT_HASH_LABEL,
    debian,
    docker_build,
    image_ref,
    images_source_dir,
    rootfs,
)
from studio.core.images.pip_settings import PipSettings, host_pip_settings
from studio.core.images.progress import Progress
from studio.core.runtime.base import sandbox_rootfs

# What the base image runs with, as the official python image sets it.
BASE_ENV = {"PATH": rootfs.DEFAULT_PATH, "LANG": "C.UTF-8"}


class BuildError(Exception):
    pass


@contextmanager
def build_lock() -> Iterator[None]:
    """One build at a time per images directory: two would share staging dirs and images.
    Staging left by a build that was killed is removed once the lock is held."""
    root = Path(settings.STUDIO_IMAGES_DIR)
    (root / "rootfs").mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for stale in (root / "rootfs").glob(".*"):
            shutil.rmtree(stale, ignore_errors=True)
        yield


def base_input_hash() -> str:
    text = f"{debian.SUITE}\0{','.join(debian.BASE_PACKAGES)}\0{sorted(BASE_ENV.items())}"
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def build_base(
    progress: Progress, *, use_docker: bool, force: bool = False, mirror: str | None = None
) -> None:
    """Debian bookworm with Python 3.11 from debootstrap: imported as BASE_IMAGE into Docker,
    or, without Docker, kept as the base tree of the sandbox runtime."""
    wanted = base_input_hash()
    tree_dest = sandbox_rootfs(BASE_IMAGE)
    if not force:
        if use_docker:
            labels = docker_build.image_labels(BASE_IMAGE)
            if labels is not None:
                progress.say(f"{BASE_IMAGE} exists; --force rebuilds it")
                return
        elif (rootfs.read_metadata(tree_dest) or {}).get("input_hash") == wanted:
            progress.say(f"{BASE_IMAGE} tree exists at {tree_dest}; --force rebuilds it")
            return
    mirror = mirror or debian.host_mirror()
    staged = rootfs.staging_dir(tree_dest)
    try:
        with progress.step(f"debootstrap {debian.SUITE} from {mirror}"):
            progress.run(debian.debootstrap_command(staged, mirror))
            debian.slim_tree(staged)
        if use_docker:
            changes = [f"ENV {k}={v}" for k, v in BASE_ENV.items()]
            changes += [f"LABEL {INPUT_HASH_LABEL}={wanted}", 'CMD ["/bin/bash"]']
            with progress.step(f"docker import as {BASE_IMAGE}"):
                docker_build.import_tree(staged, BASE_IMAGE, changes, progress)
        else:
            env = [f"{k}={v}" for k, v in BASE_ENV.items()]
            metadata = {"image": BASE_IMAGE, "input_hash": wanted, "built": _now(), "env": env}
            rootfs.install_tree(staged, tree_dest, metadata)
            progress.say(f"    base tree at {tree_dest}")
    finally:
        rootfs.remove_tree(staged)


def _pip_settings(progress: Progress) -> PipSettings:
    pip = host_pip_settings()
    passed = list(pip.env)
    if pip.cert:
        passed.append(f"certificates {pip.cert}")
    passed += [f"constraints {path}" for path in pip.constraints]
    progress.say(f"pip settings passed to the build: {', '.join(passed) or 'none'}")
    for skipped in pip.skipped:
        progress.say(f"    left out: {skipped}")
    return pip


def _context(name: str, pip: PipSettings, workdir: Path) -> Path:
    """A copy of images/<name>/ plus the host's pip files, as the build context."""
    context = workdir / name
    rootfs.copy_sources(images_source_dir() / name, context)
    pip.write_context(context)
    return context


def build_image(name: str, progress: Progress, *, use_docker: bool, force: bool = False) -> None:
    source = images_source_dir() / name
    if not (source / "Dockerfile").is_file():
        raise BuildError(f"no image {name!r}: {source}/Dockerfile does not exist")
    ref = image_ref(name)
    if use_docker:
        _build_with_docker(name, ref, source, progress, force)
    else:
        _build_with_bwrap(name, ref, source, progress, force)


def _build_with_docker(name: str, ref: str, source: Path, progress: Progress, force: bool) -> None:
    base = docker_build.inspect_image(BASE_IMAGE)
    if base is None:
        build_base(progress, use_docker=True)
        base = docker_build.inspect_image(BASE_IMAGE)
        assert base is not None
    wanted = rootfs.input_hash(source, [f"base:{base['Id']}"])
    labels = docker_build.image_labels(ref)
    if not force and labels and labels.get(INPUT_HASH_LABEL) == wanted:
        progress.say(f"{ref} is up to date (inputs unchanged); --force rebuilds it")
    else:
        pip = _pip_settings(progress)
        with tempfile.TemporaryDirectory(prefix="studio-build-") as workdir:
            context = _context(name, pip, Path(workdir))
            with progress.step(f"docker build {ref} on {BASE_IMAGE}"):
                docker_build.build(
                    context,
                    ref,
                    {"BASE_IMAGE": BASE_IMAGE, **pip.env},
                    {INPUT_HASH_LABEL: wanted},
                    progress,
                )
    info = docker_build.inspect_image(ref)
    assert info is not None
    dest = sandbox_rootfs(ref)
    if not force and (rootfs.read_metadata(dest) or {}).get("image_id") == info["Id"]:
        progress.say(f"sandbox tree of {ref} is up to date at {dest}")
        return
    staged = rootfs.staging_dir(dest)
    try:
        with progress.step(f"export {ref} for the sandbox runtime to {dest}"):
            docker_build.export_filesystem(ref, staged, progress)
            metadata = {
                "image": ref,
                "image_id": info["Id"],
                "input_hash": wanted,
                "built": _now(),
                **docker_build.run_config(info),
            }
            rootfs.install_tree(staged, dest, metadata)
    finally:
        rootfs.remove_tree(staged)


def _build_with_bwrap(name: str, ref: str, source: Path, progress: Progress, force: bool) -> None:
    if shutil.which("bwrap") is None:
        raise BuildError("neither Docker nor bubblewrap (bwrap) is available to build images")
    base_tree = sandbox_rootfs(BASE_IMAGE)
    base_meta = rootfs.read_metadata(base_tree)
    if base_meta is None:
        build_base(progress, use_docker=False)
        base_meta = rootfs.read_metadata(base_tree)
        assert base_meta is not None
    wanted = rootfs.input_hash(source, [f"base:{base_meta['input_hash']}"])
    dest = sandbox_rootfs(ref)
    if not force and (rootfs.read_metadata(dest) or {}).get("input_hash") == wanted:
        progress.say(f"sandbox tree of {ref} is up to date at {dest}; --force rebuilds it")
        return
    pip = _pip_settings(progress)
    staged = rootfs.staging_dir(dest)
    try:
        with progress.step(f"copy the base tree {base_tree}"):
            subprocess.run(["cp", "-a", f"{base_tree}/.", str(staged)], check=True)
        with (
            tempfile.TemporaryDirectory(prefix="studio-build-") as workdir,
            progress.step(f"install {name} inside bubblewrap"),
        ):
            context = _context(name, pip, Path(workdir))
            rootfs.bwrap_install(staged, context, pip.env, progress)
        metadata = {
            "image": ref,
            "input_hash": wanted,
            "built": _now(),
            **rootfs.dockerfile_config(source / "Dockerfile", base_meta.get("env", [])),
        }
        rootfs.install_tree(staged, dest, metadata)
        progress.say(f"    sandbox tree at {dest}")
    finally:
        rootfs.remove_tree(staged)
