"""A lean HTTP/1.1 client for a notebook server's Unix socket, with keep-alive connections.

The proxy used httpx's transport for this, and its layers (httpcore, anyio, h11, header and
URL models) cost about half a millisecond per request: most of what the proxy added to one.
This client does only what a proxy on a local socket needs: one request at a time on each
connection, bodies streamed both ways, answers framed as RFC 9112 §6 says (no body,
Content-Length, chunked, or until the connection closes), and idle connections kept per
server socket and event loop (pools cannot cross loops). Each connection is made only to a
socket that is the server's (studio/core/unix_socket.py): the container can replace its path.
"""

import asyncio
import re
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

from studio.core.unix_socket import connect_async

Headers = list[tuple[bytes, bytes]]

# Only connecting has a deadline: kernels' long requests and large downloads take what they take.
CONNECT_TIMEOUT_S = 5.0
# Connections are opened as requests need them (long polls and parallel downloads must not
# queue for one); this many are kept idle per server, a few tabs' worth.
MAX_IDLE = 20
# Largest response head accepted, and the most bytes read at once from a body.
READ_LIMIT = 64 * 1024
# Methods whose failure on a reused connection before any answer is retried on a fresh one.
RETRIED = frozenset({b"GET", b"HEAD", b"OPTIONS"})
# Methods that frame an empty body with Content-Length: 0 (as httpx did), for strict servers.
EMPTY_BODY_LENGTH = frozenset({b"POST", b"PUT", b"PATCH"})
# What `_framing` says of a chunked body (otherwise: its length, or None for "until close").
CHUNKED = -1
# RFC 9110 §5.1 and §5.5: a field name is a token; a value has no control characters but tab.
# Checked as h11 did: what a user's own server sends must not smuggle headers to the browser.
_FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_FIELD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")

_pools: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Path, int | None], "Pool"]
] = weakref.WeakKeyDictionary()


class UpstreamError(Exception):
    """The server could not be reached, or broke off or garbled its answer."""


class _NoAnswer(Exception):
    """The connection ended before the server said anything."""


class Connection:
    """One connection to a server, carrying one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @property
    def usable(self) -> bool:
        """Whether an idle connection can take a request: the server has not closed it."""
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class Response:
    """A response's status and headers; its body comes from `read()`, and `close()` hands
    the connection back to its pool when the body was read to its end."""

    def __init__(
        self,
        pool: "Pool",
        conn: Connection,
        status: int,
        headers: Headers,
        length: int | None,
        keep_alive: bool,
    ):
        self.status = status
        self.headers = headers
        self._pool = pool
        self._conn = conn
        self._chunked = length == CHUNKED
        # Bytes left in the body (Content-Length) or in the current chunk; None: until close.
        self._left = 0 if self._chunked else length
        self._complete = length == 0
        self._reusable = keep_alive and length is not None

    async def read(self) -> bytes:
        """The next piece of the body, as it arrives; b"" at its end."""
        if self._complete:
            return b""
        reader = self._conn.reader
        try:
            if self._chunked and not self._left:
                self._left = await _chunk_size(reader)
                if not self._left:
                    # Trailers, if any, are dropped: the browser has had the headers already.
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    self._complete = True
                    return b""
            if self._left is None:
                chunk = await reader.read(READ_LIMIT)
                self._complete = not chunk
                return chunk
            chunk = await reader.read(min(self._left, READ_LIMIT))
            if not chunk:
                raise UpstreamError("the server closed the connection mid-answer")
            self._left -= len(chunk)
            if not self._left:
                if not self._chunked:
                    self._complete = True
                elif await reader.readexactly(2) != b"\r\n":
                    raise UpstreamError("a chunk did not end where its size said")
            return chunk
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise UpstreamError(f"reading the answer failed: {error!r}") from error

    def close(self) -> None:
        """Done with the response: its connection is kept if reusable, else closed."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._complete and self._reusable:
            self._pool.put_back(conn)
        else:
            conn.close()


class Pool:
    """Keep-alive connections to one server socket, owned by `uid` (None: any owner)."""

    def __init__(self, socket: Path, uid: int | None = None):
        self.socket = socket
        self.uid = uid
        self.idle: list[Connection] = []

    async def request(
        self,
        method: bytes,
        target: bytes,
        headers: Headers,
        body: AsyncIterator[bytes] | None,
    ) -> Response:
        """Send a request (`headers` complete but for body framing) and read the answer's
        head. A failure on a reused connection before any answer is retried once on a new
        connection, when nothing of the request was consumed and repeating it is safe."""
        head, chunked = _request_head(method, target, headers, body is not None)
        conn = self._idle()
        if conn is not None:
            try:
                return await self._exchange(conn, method, head, body, chunked)
            except _NoAnswer as error:
                if body is not None or method not in RETRIED:
                    raise UpstreamError(str(error)) from error
        try:
            return await self._exchange(await self._connect(), method, head, body, chunked)
        except _NoAnswer as error:
            raise UpstreamError(str(error)) from error

    def put_back(self, conn: Connection) -> None:
        if len(self.idle) < MAX_IDLE and conn.usable:
            self.idle.append(conn)
        else:
            conn.close()

    def _idle(self) -> Connection | None:
        """The most recently used idle connection still open, if any."""
        while self.idle:
            conn = self.idle.pop()
            if conn.usable:
                return conn
            conn.close()
        return None

    async def _connect(self) -> Connection:
        try:
            sock = await asyncio.wait_for(connect_async(self.socket, self.uid), CONNECT_TIMEOUT_S)
            reader, writer = await asyncio.open_unix_connection(sock=sock, limit=READ_LIMIT)
        except (OSError, TimeoutError) as error:
            raise UpstreamError(f"cannot connect to {self.socket}: {error}") from error
        return Connection(reader, writer)

    async def _exchange(
        self,
        conn: Connection,
        method: bytes,
        head: bytes,
        body: AsyncIterator[bytes] | None,
        chunked: bool,
    ) -> Response:
        try:
            conn.writer.write(head)
            if body is not None:
                await _send_body(conn.writer, body, chunked=chunked)
            response = await _read_head(self, conn, method)
        except BaseException:
            # Also when the browser left mid-upload: the request is half sent.
            conn.close()
            raise
        return response


def pool_for(socket: Path, uid: int | None = None) -> Pool:
    """The pool of connections to `socket`, owned by `uid`, in the running loop."""
    pools = _pools.setdefault(asyncio.get_running_loop(), {})
    pool = pools.get((socket, uid))
    if pool is None:
        pool = pools[socket, uid] = Pool(socket, uid)
    return pool


def _request_head(
    method: bytes, target: bytes, headers: Headers, has_body: bool
) -> tuple[bytes, bool]:
    """The request's head, and whether its body goes chunked (its length is not known)."""
    lines = [method, b" ", target, b" HTTP/1.1\r\n"]
    has_length = False
    for name, value in headers:
        has_length = has_length or name.lower() == b"content-length"
        lines += (name, b": ", value, b"\r\n")
    chunked = has_body and not has_length
    if chunked:
        lines.append(b"transfer-encoding: chunked\r\n")
    elif not has_length and method in EMPTY_BODY_LENGTH:
        lines.append(b"content-length: 0\r\n")
    lines.append(b"\r\n")
    return b"".join(lines), chunked


async def _send_body(
    writer: asyncio.StreamWriter, body: AsyncIterator[bytes], *, chunked: bool
) -> None:
    try:
        async for chunk in body:
            if not chunk:
                continue  # an empty chunk would end a chunked body
            writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        # The server stopped reading (it may have answered early, say with a 413): what it
        # said, if anything, is read next.
        pass


async def _read_head(pool: Pool, conn: Connection, method: bytes) -> Response:
    while True:
        try:
            raw = await conn.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise _NoAnswer("the server closed the connection without answering") from error
            raise UpstreamError("the server closed the connection mid-answer") from error
        except OSError as error:
            raise _NoAnswer(str(error)) from error
        except asyncio.LimitOverrunError as error:
            raise UpstreamError("the server's response head is too large") from error
        version, status, headers = _parse_head(raw)
        # Interim answers (100 Continue, 103 Early Hints) precede the real one.
        if status >= 200:
            break
    # An HTTP/1.0 connection closes after each answer unless it says otherwise.
    keep_alive = (
        _has_token(headers, b"connection", b"keep-alive")
        if version == b"HTTP/1.0"
        else not _has_token(headers, b"connection", b"close")
    )
    length = _framing(method, status, headers)
    return Response(pool, conn, status, headers, length, keep_alive)


def _parse_head(raw: bytes) -> tuple[bytes, int, Headers]:
    lines = raw[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise UpstreamError(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        value = value.strip(b" \t")
        # This also refuses whitespace before the colon and obsolete line folding (RFC 9112 §5).
        if not sep or not _FIELD_NAME.fullmatch(name) or _BAD_FIELD_VALUE.search(value):
            raise UpstreamError(f"malformed header line: {line[:100]!r}")
        headers.append((name, value))
    return version, int(code), headers


def _framing(method: bytes, status: int, headers: Headers) -> int | None:
    """How the body ends (RFC 9112 §6.3): its length, CHUNKED, or None (at close)."""
    if method == b"HEAD" or status in (204, 304):
        return 0
    if any(n.lower() == b"transfer-encoding" for n, _ in headers):
        return CHUNKED if _has_token(headers, b"transfer-encoding", b"chunked") else None
    lengths = {v for n, v in headers if n.lower() == b"content-length"}
    if not lengths:
        return None
    if len(lengths) > 1 or not next(iter(lengths)).isdigit():
        raise UpstreamError(f"invalid Content-Length: {sorted(lengths)!r}")
    return int(next(iter(lengths)))


async def _chunk_size(reader: asyncio.StreamReader) -> int:
    size = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
    # Hex digits only: int() would also take a sign, a 0x prefix or underscores.
    if not _CHUNK_SIZE.fullmatch(size):
        raise UpstreamError(f"invalid chunk size: {size[:20]!r}")
    return int(size, 16)


def _has_token(headers: Headers, name: bytes, token: bytes) -> bool:
    return any(
        t.strip().lower() == token for n, v in headers if n.lower() == name for t in v.split(b",")
    )
