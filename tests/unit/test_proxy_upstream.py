"""The proxy's HTTP/1.1 client, against a scripted server on a Unix socket: how it frames
what it sends, reads each kind of answer, and keeps (or drops) connections."""

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from studio.web.proxy.upstream import UpstreamError, pool_for

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: dropped\r\n\r\n"
)


class Server:
    """Answers the requests on each connection with `replies`, in order; a reply of None
    closes the connection instead. Keeps every request as received."""

    def __init__(self, path: Path, replies: list[bytes | None]):
        self.path = path
        self.replies = replies
        self.requests: list[bytes] = []
        self.connections = 0
        self.handlers: list[asyncio.Task] = []

    async def __aenter__(self) -> "Server":
        self.server = await asyncio.start_unix_server(self.handle, str(self.path))
        return self

    async def __aexit__(self, *exc) -> None:
        # The client's kept connections end first, so that every handler sees its end.
        pool = pool_for(self.path)
        while pool.idle:
            pool.idle.pop().close()
        self.server.close()
        await asyncio.wait_for(asyncio.gather(*self.handlers), timeout=5)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.handlers.append(asyncio.current_task())
        try:
            while self.replies:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head + await read_body(reader, head))
                reply = self.replies.pop(0)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if ends_connection(reply):
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()


def ends_connection(reply: bytes) -> bool:
    head = reply.split(b"\r\n\r\n")[0]
    framed = any(h in head for h in (b"Content-Length", b"chunked", b" 204 "))
    return not framed or b"Connection: close" in head or head.startswith(b"HTTP/1.0")


async def read_body(reader: asyncio.StreamReader, head: bytes) -> bytes:
    lower = head.lower()
    if b"content-length: " in lower:
        length = int(lower.split(b"content-length: ")[1].split(b"\r\n")[0])
        return await reader.readexactly(length)
    if b"transfer-encoding: chunked" in lower:
        body = b""
        while not body.endswith(b"0\r\n\r\n"):
            body += await reader.read(1024)
        return body
    return b""


@pytest.fixture
def socket_path() -> Iterator[Path]:
    # Unix socket paths are short (108 bytes): pytest's tmp_path can be too long.
    directory = Path(tempfile.mkdtemp(prefix="upstream-", dir="/tmp"))
    yield directory / "s.sock"
    shutil.rmtree(directory, ignore_errors=True)


async def fetch(
    path: Path, method: bytes = b"GET", headers=(), body: AsyncIterator[bytes] | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    response = await pool_for(path).request(
        method, b"/x?y=1", [(b"host", b"localhost"), *headers], body
    )
    try:
        content = b""
        while chunk := await response.read():
            content += chunk
        return response.status, response.headers, content
    finally:
        response.close()


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_content_length_answer_and_the_connection_is_kept(socket_path):
    async with Server(socket_path, [OK, OK]) as server:
        first = await fetch(socket_path)
        second = await fetch(socket_path)
    assert (
        first
        == second
        == (200, [(b"Content-Type", b"text/plain"), (b"Content-Length", b"5")], b"hello")
    )
    assert server.connections == 1
    assert server.requests[0] == b"GET /x?y=1 HTTP/1.1\r\nhost: localhost\r\n\r\n"


async def test_a_chunked_answer_is_decoded_and_the_connection_is_kept(socket_path):
    async with Server(socket_path, [CHUNKED, OK]) as server:
        assert (await fetch(socket_path))[2] == b"hello"
        assert (await fetch(socket_path))[2] == b"hello"
    assert server.connections == 1


async def test_an_answer_without_length_ends_with_its_connection(socket_path):
    until_close = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, until close"
    async with Server(socket_path, [until_close]) as server:
        assert (await fetch(socket_path))[2] == b"hello, until close"
        server.replies.append(OK)
        assert (await fetch(socket_path))[2] == b"hello"
    assert server.connections == 2


async def test_answers_without_a_body(socket_path):
    no_content = b"HTTP/1.1 204 No Content\r\n\r\n"
    not_modified = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
    head_only = OK[: -len(b"hello")]
    async with Server(socket_path, [head_only, no_content, not_modified, OK]) as server:
        # HEAD is answered with the GET's Content-Length, and nothing after the head.
        assert await fetch(socket_path, b"HEAD") == (
            200,
            [(b"Content-Type", b"text/plain"), (b"Content-Length", b"5")],
            b"",
        )
        assert (await fetch(socket_path))[::2] == (204, b"")
        assert (await fetch(socket_path))[::2] == (304, b"")
        assert (await fetch(socket_path))[::2] == (200, b"hello")
    assert server.connections == 1


async def test_interim_answers_are_skipped(socket_path):
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    async with Server(socket_path, [interim + OK]):
        assert (await fetch(socket_path))[::2] == (200, b"hello")


async def test_connection_close_is_honoured(socket_path):
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    http10 = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
    async with Server(socket_path, [closing]) as server:
        await fetch(socket_path)
        server.replies += [http10]
        await fetch(socket_path)
        server.replies += [OK]
        await fetch(socket_path)
    assert server.connections == 3


async def test_request_bodies_are_framed(socket_path):
    async with Server(socket_path, [OK, OK, OK]) as server:
        await fetch(socket_path, b"PUT", [(b"content-length", b"6")], chunks(b"abc", b"def"))
        await fetch(socket_path, b"POST", body=chunks(b"abc", b"", b"def"))
        await fetch(socket_path, b"POST")
    assert server.requests[0].endswith(b"content-length: 6\r\n\r\nabcdef")
    assert server.requests[1].endswith(
        b"transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
    )
    assert server.requests[2].endswith(b"content-length: 0\r\n\r\n")


async def test_a_connection_the_server_closed_while_idle_is_not_used(socket_path):
    async with Server(socket_path, [OK, None, OK]) as server:
        await fetch(socket_path)
        # The server drops the kept connection when it sees the next request (a race the
        # pool cannot see coming): a GET is repeated on a new connection.
        assert (await fetch(socket_path))[::2] == (200, b"hello")
    assert server.connections == 2


async def test_a_post_is_not_repeated(socket_path):
    async with Server(socket_path, [OK, None]):
        await fetch(socket_path)
        with pytest.raises(UpstreamError):
            await fetch(socket_path, b"POST")


async def test_no_server_or_a_broken_answer_is_an_upstream_error(socket_path):
    with pytest.raises(UpstreamError):
        await fetch(socket_path)
    for garbled in (
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        # A header hidden in another, or folded onto the next line, must not reach the browser.
        b"HTTP/1.1 200 OK\r\nX-A: 1\nSet-Cookie: sessionid=x\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n Set-Cookie: sessionid=x\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
        # Chunk sizes are hex digits: no sign, prefix or underscore int() would take.
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    ):
        async with Server(socket_path, [garbled, None]):
            with pytest.raises(UpstreamError):
                await fetch(socket_path)
    truncated = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 50\r\n\r\nonly this"
    async with Server(socket_path, [truncated]):
        with pytest.raises(UpstreamError):
            await fetch(socket_path)
