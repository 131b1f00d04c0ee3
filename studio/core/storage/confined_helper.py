"""The confined helper: `python -I -S confined_helper.py <op> <uid> <gid> <tree fd> <path> ...`.

Everything Studio does with files a container wrote goes through this process (DESIGN.md §6,
docs/security.md "The rule"). It is started by root with the job's tree open as a descriptor,
and before it touches anything it drops to the job's own uid and gid; from then on it reaches
files only through descriptors below that tree, one component at a time, with O_NOFOLLOW: a
link the container planted is refused, never followed, and nothing outside the tree can be
named. Its answers go to stdout (file contents, tar streams); refusals to stderr with exit
code 3, "not there" is exit code 4, "empty directory" exit code 5.

Operations:
    read <relative> <limit>          the first <limit> bytes of a regular file
    tar <relative> pack              a tar.gz of a directory's contents: files, directories,
                                     and links stored as links (as `tar -C dir .` would)
    tar <relative> export            an uncompressed tar of a directory's regular files only
                                     (links and special files are skipped, and named on stderr)
    extract <relative> <max bytes> <max entries> <max ratio>
                                     unpack the tar(.gz) on stdin into a directory: files and
                                     directories, links only relative and inside; refused past
                                     the limits

Standard library only, and every module it needs is imported before privileges are dropped:
the interpreter's own files may not be readable by the job's uid.
"""

import bz2  # noqa: F401  (tarfile's "r|*" imports these lazily, after privileges are dropped)
import contextlib
import errno
import gzip  # noqa: F401
import io
import lzma
import os
import resource
import stat
import sys
import tarfile
import zlib

ROOT_FD = -1  # the tree's descriptor, from the command line
MAX_SKIPPED_NOTES = 20
REFUSED, MISSING, EMPTY = 3, 4, 5
CHUNK = 1024 * 1024
# A small archive may expand a lot (a file of zeros); the ratio is judged past this size.
RATIO_FLOOR = 16 * CHUNK
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


skipped = 0


class Refused(Exception):
    """What the helper will not do; the message says why, for the job's FailureReason."""


def drop_privileges(uid: int, gid: int) -> None:
    if uid == 0 or gid == 0:
        raise Refused("the confined helper never runs as root")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise Refused("could not drop privileges")


def components(relative: str) -> list[str]:
    """The names on the way to `relative`, refusing anything that could leave the tree."""
    if relative in ("", "."):
        return []
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if relative.startswith("/") or ".." in parts or "\x00" in relative:
        raise Refused(f"{relative!r} is not a path inside the job's directory")
    return parts


def open_dir(parent: int, name: str, root_dev: int) -> int:
    """A directory entry of `parent` as a descriptor, never through a link nor a mount."""
    fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    if os.fstat(fd).st_dev != root_dev:
        os.close(fd)
        raise Refused(f"{name!r} is on another file system")
    return fd


def make_dir(parent: int, name: str) -> None:
    """A directory entry of `parent`, made if missing (opening it checks it is no link)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)


READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def walk_to(relative: str, create: bool = False) -> int:
    """A descriptor of the directory `relative` below the tree (made if `create`)."""
    root_dev = os.fstat(ROOT_FD).st_dev
    fd = os.dup(ROOT_FD)
    for name in components(relative):
        if create:
            make_dir(fd, name)
        try:
            child = open_dir(fd, name, root_dev)
        finally:
            os.close(fd)
        fd = child
    return fd


def link_refused(error: OSError, relative: str) -> Refused:
    if error.errno in (errno.ELOOP, errno.ENOTDIR):
        return Refused(f"{relative!r} is a link or passes through one; links are not followed")
    return Refused(f"{relative!r}: {error.strerror}")


# -- read ------------------------------------------------------------------------------------


def read(relative: str, limit: int) -> None:
    *folders, name = components(relative) or [""]
    try:
        parent = walk_to("/".join(folders))
        # O_NONBLOCK: a FIFO planted in its place must not hang the open.
        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=parent
        )
    except FileNotFoundError:
        sys.exit(MISSING)
    except OSError as e:
        raise link_refused(e, relative) from e
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise Refused(f"{relative!r} is not a regular file")
    with os.fdopen(fd, "rb") as f:
        sys.stdout.buffer.write(f.read(limit))


# -- tar -------------------------------------------------------------------------------------


def _info(name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_tree(tar: tarfile.TarFile, fd: int, prefix: str, mode: str, root_dev: int) -> int:
    """Add what directory `fd` holds under `prefix`; return how many entries were added."""
    global skipped
    added = 0
    for name in sorted(os.listdir(fd)):
        path = f"{prefix}{name}"
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            child = open_dir(fd, name, root_dev)
            try:
                if mode == "pack":
                    tar.addfile(_info(path, st, tarfile.DIRTYPE))
                    added += 1
                added += _add_tree(tar, child, f"{path}/", mode, root_dev)
            finally:
                os.close(child)
        elif stat.S_ISREG(st.st_mode):
            try:
                file_fd = os.open(name, READ_FLAGS, dir_fd=fd)
            except OSError as e:
                raise link_refused(e, path) from e
            with os.fdopen(file_fd, "rb") as f:
                st = os.fstat(file_fd)
                if not stat.S_ISREG(st.st_mode):  # swapped since it was listed
                    raise Refused(f"{path!r} changed while it was read")
                info = _info(path, st, tarfile.REGTYPE)
                info.size = st.st_size
                tar.addfile(info, f)
            added += 1
        elif stat.S_ISLNK(st.st_mode) and mode == "pack":
            info = _info(path, st, tarfile.SYMTYPE)
            info.linkname = os.readlink(name, dir_fd=fd)
            tar.addfile(info)
            added += 1
        else:
            skipped += 1
            if skipped <= MAX_SKIPPED_NOTES:  # stderr is read only at the end: keep it short
                print(f"skipped {path!r}: not a regular file or directory", file=sys.stderr)
    return added


def tar(relative: str, mode: str) -> None:
    try:
        fd = walk_to(relative)
    except FileNotFoundError:
        sys.exit(MISSING)
    except OSError as e:
        raise link_refused(e, relative) from e
    if not os.listdir(fd):
        sys.exit(EMPTY)
    out = sys.stdout.buffer
    with tarfile.open(fileobj=out, mode="w|gz" if mode == "pack" else "w|") as archive:
        _add_tree(archive, fd, "", mode, os.fstat(ROOT_FD).st_dev)
    out.flush()


# -- extract ---------------------------------------------------------------------------------


class CountingReader(io.RawIOBase):
    """Counts the compressed bytes read, for the expansion ratio."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


class Limits:
    def __init__(self, max_bytes: int, max_entries: int, max_ratio: int, source: CountingReader):
        self.max_bytes, self.max_entries, self.max_ratio = max_bytes, max_entries, max_ratio
        self.source = source
        self.bytes = 0
        self.entries = 0

    def entry(self, name: str) -> None:
        self.entries += 1
        if self.entries > self.max_entries:
            raise Refused(f"the archive has more than {self.max_entries} entries")

    def wrote(self, n: int, name: str) -> None:
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise Refused(f"the archive expands to more than {self.max_bytes} bytes (at {name!r})")
        if self.bytes > RATIO_FLOOR and self.bytes > self.max_ratio * max(self.source.count, 1):
            raise Refused(
                f"the archive expands more than {self.max_ratio} times its size (at {name!r}): "
                "a compression bomb?"
            )


def _member_parts(member: tarfile.TarInfo) -> list[str]:
    try:
        parts = components(member.name)
    except Refused:
        raise Refused(f"entry {member.name!r} leaves the directory") from None
    if not parts:
        raise Refused(f"entry {member.name!r} has no name")
    return parts


def _inside(parts: list[str], target: str) -> bool:
    """Does a link at `parts` pointing at `target` stay inside the tree, lexically?"""
    if target.startswith("/") or "\x00" in target:
        return False
    depth = len(parts) - 1
    for piece in target.split("/"):
        if piece == "..":
            depth -= 1
            if depth < 0:
                return False
        elif piece not in ("", "."):
            depth += 1
    return True


def _replace(parent: int, name: str) -> None:
    """A later entry of the same name wins, as with tar; never through a link."""
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise Refused(f"entry {name!r} would replace a directory")
    os.unlink(name, dir_fd=parent)


def _extract_member(archive, member, top: int, limits: Limits) -> None:
    parts = _member_parts(member)
    limits.entry(member.name)
    if not (member.isdir() or member.isfile() or member.issym()):
        raise Refused(f"entry {member.name!r} is a hard link or special file, which is not allowed")
    parent = os.dup(top)
    root_dev = os.fstat(top).st_dev
    try:
        for name in parts[:-1]:
            make_dir(parent, name)
            child = open_dir(parent, name, root_dev)
            os.close(parent)
            parent = child
        last = parts[-1]
        if member.isdir():
            make_dir(parent, last)
            os.close(open_dir(parent, last, root_dev))  # a directory, not a link to one
        elif member.issym():
            if not _inside(parts, member.linkname):
                raise Refused(f"link {member.name!r} points outside the directory")
            _replace(parent, last)
            os.symlink(member.linkname, last, dir_fd=parent)
        else:
            _replace(parent, last)
            mode = 0o755 if member.mode & 0o111 else 0o644
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            out_fd = os.open(last, flags, mode, dir_fd=parent)
            source = archive.extractfile(member)
            with os.fdopen(out_fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    limits.wrote(len(chunk), member.name)
                    out.write(chunk)
    except OSError as e:
        raise link_refused(e, member.name) from e
    finally:
        os.close(parent)


def extract(relative: str, max_bytes: int, max_entries: int, max_ratio: int) -> None:
    try:
        top = walk_to(relative, create=True)
    except OSError as e:
        raise link_refused(e, relative) from e
    source = CountingReader(sys.stdin.buffer.raw)
    limits = Limits(max_bytes, max_entries, max_ratio, source)
    try:
        with tarfile.open(fileobj=io.BufferedReader(source, CHUNK), mode="r|*") as archive:
            for member in archive:
                _extract_member(archive, member, top, limits)
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as e:
        raise Refused(f"not a readable tar archive: {e}") from e


def main(argv: list[str]) -> None:
    global ROOT_FD
    op, uid, gid, root_fd, relative, *args = argv
    ROOT_FD = int(root_fd)
    drop_privileges(int(uid), int(gid))
    if op == "read":
        read(relative, int(args[0]))
    elif op == "tar" and args in (["pack"], ["export"]):
        tar(relative, args[0])
    elif op == "extract":
        extract(relative, *(int(a) for a in args))
    else:
        raise Refused(f"unknown operation {op!r}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Refused as refused:
        print(refused, file=sys.stderr)
        sys.exit(REFUSED)
    except OSError as error:  # one the operations did not expect: say what, not where
        print(f"{error.strerror}: {error.filename!r}", file=sys.stderr)
        sys.exit(REFUSED)
