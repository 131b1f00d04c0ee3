"""Handling what a container wrote, without the host ever following it (docs/security.md).

The rule: no host process running as root opens, copies, packs, unpacks or chowns a path a
container could have written. Every such operation is one call here, and each runs
`confined_helper.py` in a child process that drops to the job's uid and gid and reaches files
only below the job's tree, refusing links (so a link resolves as it would inside the container,
or not at all, and never on the host). What it reads comes back through a pipe: the host only
ever writes it into the artifact store, under names checked by `paths.relative_parts`.

Callers: the training workspace (failure file, model and output packing, checkpoints, script
mode's `sourcedir.tar.gz`), the processing runner (its message file and outputs), and next the
hosting of models (`model.tar.gz`).
"""

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from studio.core import storage
from studio.core.storage import confined_helper as helper
from studio.core.storage.paths import relative_parts

log = logging.getLogger(__name__)


class Refused(Exception):
    """The helper refused (a link, a name leaving the tree, an archive past its limits); the
    message says what, in words fit for a job's FailureReason."""


@dataclass(frozen=True)
class Tree:
    """A job's directory on the host, and whose it is. `root` itself must be a directory only
    root can rename (the container sees what is below it)."""

    root: Path
    uid: int
    gid: int


@contextlib.contextmanager
def _helper(tree: Tree, op: str, relative: str, *args: str, stdin=subprocess.DEVNULL):
    """The running helper: yields the process, whose stdout is the answer."""
    root_fd = os.open(tree.root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    ids = (tree.uid, tree.gid, root_fd)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", helper.__file__, op, *map(str, ids), relative, *args],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # The tree's descriptor and nothing else of the worker's: its environment holds
            # the database URL and the secret key.
            pass_fds=(root_fd,),
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
        )
    finally:
        os.close(root_fd)
    # Whatever the helper is stuck on (a hostile archive's headers), it ends in time.
    watchdog = threading.Timer(settings.STUDIO_CONFINED_TIMEOUT, proc.kill)
    watchdog.start()
    try:
        yield proc
    finally:
        watchdog.cancel()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _finish(proc: subprocess.Popen, what: str) -> int:
    """Wait for the helper; raise Refused with its reason, or return its exit code."""
    proc.wait()
    reason = proc.stderr.read(4096).decode(errors="replace").strip()
    if proc.returncode == -signal.SIGKILL:
        raise Refused(f"{what} took longer than {settings.STUDIO_CONFINED_TIMEOUT} s")
    if proc.returncode == helper.REFUSED:
        raise Refused(f"{what}: {reason}")
    if proc.returncode not in (0, helper.MISSING, helper.EMPTY):
        raise Refused(f"{what} failed (exit code {proc.returncode}): {reason[-500:]}")
    if reason:
        log.info("%s: %s", what, reason)
    return proc.returncode


def read_text(tree: Tree, relative: str, limit: int = 1024) -> str:
    """The start of a regular file in the tree (a failure or message file); "" when it is
    missing or refused (a link, a FIFO): the caller falls back to what it knows itself."""
    with _helper(tree, "read", relative, str(limit)) as proc:
        data = proc.stdout.read(limit)
        try:
            _finish(proc, relative)
        except Refused as refused:
            log.info("not reading %s of %s: %s", relative, tree.root, refused)
            return ""
    return data.decode(errors="replace").strip()


def pack(tree: Tree, relative: str, uri: str) -> str | None:
    """Store a tar.gz of the directory `relative` at `uri`; None when it is missing or empty.
    Links in it are stored as links, as SageMaker's own packing does."""
    with _helper(tree, "tar", relative, "pack") as proc:
        head = proc.stdout.read(1)
        if not head:
            _finish(proc, f"packing {relative}")
            return None
        store = storage.artifact_store()
        try:
            store.put(uri, _Joined(head, proc.stdout))
            _finish(proc, f"packing {relative}")
        except Refused:
            store.delete(uri)
            raise
    return uri


def upload(tree: Tree, relative: str, uri: str, field: str) -> list[str]:
    """Copy every regular file below the directory `relative` to `uri`/<its relative name>;
    links and special files are skipped. Returns the URIs written."""
    store = storage.artifact_store()
    written = []
    with _helper(tree, "tar", relative, "export") as proc:
        for name, content in _regular_files(proc.stdout):
            key = "/".join(relative_parts(name, field))
            written.append(store.put(storage.join(uri, key, field=field), content, field))
        _finish(proc, f"uploading {relative}")
    return written


def extract(tree: Tree, relative: str, archive: BinaryIO, what: str) -> None:
    """Unpack the tar(.gz) `archive` into the directory `relative`, within the archive
    limits; Refused says which entry or limit stopped it."""
    limits = (
        settings.STUDIO_ARCHIVE_MAX_BYTES,
        settings.STUDIO_ARCHIVE_MAX_ENTRIES,
        settings.STUDIO_ARCHIVE_MAX_RATIO,
    )
    with _helper(tree, "extract", relative, *map(str, limits), stdin=subprocess.PIPE) as proc:
        try:
            while chunk := archive.read(storage.CHUNK):
                proc.stdin.write(chunk)
        except BrokenPipeError:
            pass  # the helper stopped reading: it refused, and says why below
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        _finish(proc, what)


def _regular_files(stream: BinaryIO) -> Iterator[tuple[str, BinaryIO]]:
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if member.isfile():
                    yield member.name, archive.extractfile(member)
    except tarfile.TarError as e:
        raise Refused(f"the helper's answer was not a tar stream: {e}") from e


class _Joined:
    """`head` then the rest of `stream`, as one file-like object for copyfileobj."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self.head, self.stream = head, stream

    def read(self, n: int = -1) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head + self.stream.read(max(n - len(head), 0)) if n > 0 else head
        return self.stream.read(n)
