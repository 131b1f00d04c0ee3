"""Connecting, as root, to a Unix socket that a container created in a directory it can write,
without following anything the container planted there (docs/security.md, "Tenant code is
hostile").

A notebook's server binds `jupyter.sock` in the space's runtime directory, which its container
mounts read-write. The container can replace that name with a symlink to any host socket (the
Docker socket, PostgreSQL's, Redis's, the web's API socket), with a regular file or a FIFO, or
with a hard link to a socket it can see. A plain `connect(path)` by root would follow the
symlink. Here the last component is opened with O_PATH|O_NOFOLLOW (the directories above it
are created by root and a container cannot rename them: they are outside its mounts), the
descriptor is checked (a socket, with one name, owned by the server's uid), and the connection
goes through `/proc/self/fd/<fd>`, which names that very inode: a rename after the check
cannot redirect it.
"""

import asyncio
import http.client
import logging
import os
import socket
import stat
from pathlib import Path

log = logging.getLogger(__name__)


class UntrustedSocket(ConnectionRefusedError):
    """What is at the socket's path is not the server's socket. A ConnectionRefusedError, so
    that every caller treats it as it treats a server that is not listening."""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a socket"


def _open_verified(path: Path, uid: int | None) -> int:
    """An O_PATH descriptor of the socket at `path`, after checking it is a socket with a
    single name, owned by `uid` (any owner when None). Raises UntrustedSocket otherwise, and
    FileNotFoundError when nothing is there."""
    fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        why = _refusal(os.fstat(fd), uid)
    except BaseException:
        os.close(fd)
        raise
    if why is None:
        return fd
    os.close(fd)
    log.warning("refused to connect to %s: it %s", path, why)
    raise UntrustedSocket(f"{path} {why}: not connecting")


def _refusal(info: os.stat_result, uid: int | None) -> str | None:
    """Why the file described by `info` is not the server's socket, or None when it is."""
    if not stat.S_ISSOCK(info.st_mode):
        return f"is {_kind(info.st_mode)}"
    if info.st_nlink != 1:
        # A server's socket has the one name it was bound to: another one is a hard link.
        return f"has {info.st_nlink} names (a hard link)"
    if uid is not None and info.st_uid != uid:
        return f"belongs to uid {info.st_uid}, not the server's uid {uid}"
    return None


def _fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def connect(path: Path, uid: int | None, timeout: float | None = None) -> socket.socket:
    """A connected stream socket to the verified socket at `path` (blocking, with `timeout`)."""
    fd = _open_verified(path, uid)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(_fd_path(fd))
        except BaseException:
            sock.close()
            raise
        return sock
    finally:
        os.close(fd)


async def connect_async(path: Path, uid: int | None) -> socket.socket:
    """`connect` for asyncio: a connected non-blocking socket, for
    `asyncio.open_unix_connection(sock=...)` and the like."""
    fd = _open_verified(path, uid)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, _fd_path(fd))
        except BaseException:
            sock.close()
            raise
        return sock
    finally:
        os.close(fd)


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a server's Unix socket, connected only after checking that the socket is the
    server's (`connect`): a container can replace it with a link to a host socket. `uid`: the
    server's uid, which must own the socket (None: any owner)."""

    def __init__(self, path: Path, timeout: float = 2, uid: int | None = None):
        super().__init__("localhost", timeout=timeout)
        self.path = path
        self.uid = uid

    def connect(self) -> None:
        self.sock = connect(self.path, self.uid, self.timeout)


def http_get(
    path: Path, target: str, uid: int | None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """GET `target` from the server behind the socket `path` (owned by `uid`): (status, body).
    Raises OSError when nothing answers, or when `path` is not the server's socket."""
    connection = UnixHTTPConnection(path, uid=uid)
    try:
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
