"""Files below a directory, reached one component at a time and never through a link.

The artifact store holds what jobs wrote, and a job's container could have planted a link
anywhere below a bucket (docs/security.md). `O_NOFOLLOW` on the last component is not enough:
`bucket/link/x` follows `link` while resolving. Here every component is opened with
`O_NOFOLLOW` relative to its parent's descriptor, so a link anywhere on the way is refused
(ELOOP, or ENOTDIR for a link to a file) and its target never reached. The S3 endpoint reads
and writes objects only through these functions; names arrive checked by `paths.relative_parts`.
"""

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def open_dir(root: Path, parts: Iterable[str], *, create: bool = False) -> int:
    """A descriptor of `root/parts...` (the caller closes it), every part a real directory;
    with `create`, the missing ones are made. OSError (ENOENT, ENOTDIR, ELOOP) otherwise."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
            child = os.open(part, DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(root: Path, parts: tuple[str, ...]) -> int | None:
    """A read descriptor of the regular file `root/parts...`, or None when there is none
    there (nothing, a directory, a link, a FIFO...)."""
    try:
        parent = open_dir(root, parts[:-1])
    except OSError:
        return None
    try:
        fd = os.open(
            parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=parent
        )
    except OSError:
        return None
    finally:
        os.close(parent)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def stat_regular(root: Path, parts: tuple[str, ...]) -> os.stat_result | None:
    fd = open_regular(root, parts)
    if fd is None:
        return None
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def write(
    root: Path,
    parts: tuple[str, ...],
    chunks: Iterable[bytes],
    *,
    before_rename: Callable[[], None] | None = None,
) -> os.stat_result:
    """Write `chunks` to `root/parts...` atomically (beside it, then renamed into place):
    readers see the old file or the whole new one. If iterating `chunks` or `before_rename`
    raises, nothing changes: not even the directories made on the way (never followed if
    links) are left behind."""
    parent, fd, tmp = _create_beside(root, parts)
    written = False
    try:
        with os.fdopen(fd, "wb", closefd=False) as out:
            for chunk in chunks:
                out.write(chunk)
        if before_rename is not None:
            before_rename()
        os.rename(tmp, parts[-1], src_dir_fd=parent, dst_dir_fd=parent)
        written = True
        return os.fstat(fd)
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=parent)
        os.close(parent)
        if not written:
            _prune(root, parts)


def _create_beside(root: Path, parts: tuple[str, ...]) -> tuple[int, int, str]:
    """(the parent directory, a new temporary file in it, its name). The temporary file keeps
    its directory from being pruned as empty by a concurrent delete or failed write; one
    pruned between making it and creating the file is made again."""
    tmp = f".{parts[-1][:200]}.{secrets.token_hex(4)}.part"
    for _ in range(10):
        parent = open_dir(root, parts[:-1], create=True)
        fd = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o644,
            dir_fd=parent,
        )
        if _reachable(root, parts[:-1], parent):
            return parent, fd, tmp
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=parent)
        os.close(parent)
    raise OSError(f"the directory of {'/'.join(parts)} keeps being removed")


def _reachable(root: Path, parts: tuple[str, ...], fd: int) -> bool:
    """Whether `root/parts...` is still the directory `fd` is open on."""
    try:
        again = open_dir(root, parts)
    except OSError:
        return False
    try:
        mine, now = os.fstat(fd), os.fstat(again)
        return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
    finally:
        os.close(again)


def unlink(root: Path, parts: tuple[str, ...], *, trees: bool = False) -> bool:
    """Remove the file (or link: removing one follows nothing) `root/parts...` (with `trees`,
    a directory and all below it too, by descriptor, never through a link), and the
    directories above it it leaves empty (S3 has no directories). Whether one was there."""
    try:
        parent = open_dir(root, parts[:-1])
    except OSError:
        return False
    removed = False
    try:
        info = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            if trees:
                shutil.rmtree(parts[-1], dir_fd=parent, ignore_errors=True)
                removed = True
        else:
            os.unlink(parts[-1], dir_fd=parent)
            removed = True
    except OSError:
        removed = False
    finally:
        os.close(parent)
    _prune(root, parts)
    return removed


def _prune(root: Path, parts: tuple[str, ...]) -> None:
    """Remove the directories above `parts` that are empty now."""
    for depth in range(len(parts) - 1, 0, -1):
        try:
            above = open_dir(root, parts[: depth - 1])
        except OSError:
            break
        try:
            os.rmdir(parts[depth - 1], dir_fd=above)
        except OSError:
            break  # not empty, or not there
        finally:
            os.close(above)


def walk(root: Path, parts: tuple[str, ...]) -> Iterator[tuple[str, os.stat_result]]:
    """Every regular file below `root/parts...` as (its name relative to `root`, its stat),
    in no particular order. Links are neither listed nor entered; partial writes (`.part`
    files of `write`) are left out."""
    try:
        top = open_dir(root, parts)
    except OSError:
        return
    base = "/".join(parts)
    try:
        for directory, _, names, dir_fd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            for name in names:
                if name.startswith(".") and name.endswith(".part"):
                    continue
                try:
                    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    relative = os.path.normpath(os.path.join(directory, name))
                    yield (f"{base}/{relative}" if base else relative), info
    finally:
        os.close(top)
