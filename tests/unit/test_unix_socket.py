"""The verified Unix-socket connect: only the server's own socket, never what a container put
in its place (a link to another socket, a file, a FIFO, a hard link, another uid's socket)."""

import asyncio
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.unix_socket import UntrustedSocket, connect, connect_async


class Listener:
    """A listening Unix socket that says whether anyone connected."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        self.sock.setblocking(False)

    def connected(self) -> bool:
        try:
            self.sock.accept()[0].close()
        except BlockingIOError:
            return False
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def directory() -> Iterator[Path]:
    # Unix socket paths are short (108 bytes): pytest's tmp_path can be too long.
    path = Path(tempfile.mkdtemp(prefix="usock-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def elsewhere(directory) -> Iterator[Listener]:
    """Another socket on the host: what an attacker points the server's name at."""
    listener = Listener(directory / "other.sock")
    yield listener
    listener.close()


def test_the_servers_own_socket_is_connected(directory):
    server = Listener(directory / "jupyter.sock")
    try:
        client = connect(server.path, os.geteuid(), timeout=2)
        client.close()
        assert server.connected()
    finally:
        server.close()


def test_a_connection_goes_to_the_socket_checked_even_if_renamed_meanwhile(directory):
    """/proc/self/fd/<fd> names the inode opened, not the path: checked and used are one."""
    from studio.core import unix_socket

    server = Listener(directory / "jupyter.sock")
    opened = unix_socket._open_verified(server.path, None)
    try:
        server.path.rename(directory / "moved.sock")
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(unix_socket._fd_path(opened))
        client.close()
        assert server.connected()
    finally:
        os.close(opened)
        server.close()


def test_a_symlink_to_another_socket_is_refused_and_not_followed(directory, elsewhere):
    (directory / "jupyter.sock").symlink_to(elsewhere.path)
    with pytest.raises(UntrustedSocket, match="symbolic link"):
        connect(directory / "jupyter.sock", None, timeout=2)
    assert not elsewhere.connected()


def test_a_hard_link_to_another_socket_is_refused(directory, elsewhere):
    os.link(elsewhere.path, directory / "jupyter.sock")
    with pytest.raises(UntrustedSocket, match="hard link"):
        connect(directory / "jupyter.sock", None, timeout=2)
    assert not elsewhere.connected()


def test_a_regular_file_and_a_fifo_are_refused(directory):
    (directory / "file.sock").write_text("not a socket")
    os.mkfifo(directory / "fifo.sock")
    with pytest.raises(UntrustedSocket, match="regular file"):
        connect(directory / "file.sock", None, timeout=2)
    with pytest.raises(UntrustedSocket, match="FIFO"):
        connect(directory / "fifo.sock", None, timeout=2)


def test_a_socket_owned_by_another_uid_is_refused(directory):
    server = Listener(directory / "jupyter.sock")
    try:
        with pytest.raises(UntrustedSocket, match="not the server's uid"):
            connect(server.path, os.geteuid() + 1, timeout=2)
        assert not server.connected()
    finally:
        server.close()


def test_a_missing_socket_is_not_there_and_every_refusal_is_a_refused_connection(directory):
    """Callers treat a refusal as they treat a server that is not listening."""
    with pytest.raises(FileNotFoundError):
        connect(directory / "jupyter.sock", None)
    assert issubclass(UntrustedSocket, ConnectionRefusedError)


def test_the_asyncio_flavour_checks_the_same(directory, elsewhere):
    server = Listener(directory / "jupyter.sock")
    (directory / "link.sock").symlink_to(elsewhere.path)

    async def attempt() -> None:
        client = await connect_async(server.path, os.geteuid())
        assert not client.getblocking()
        client.close()
        with pytest.raises(UntrustedSocket):
            await connect_async(directory / "link.sock", None)

    try:
        asyncio.run(attempt())
        assert server.connected()
        assert not elsewhere.connected()
    finally:
        server.close()
