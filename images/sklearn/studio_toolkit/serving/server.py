"""A lean HTTP/1.1 server on asyncio Protocols: GET /ping, POST /invocations,
GET /execution-parameters, keep-alive, Content-Length and chunked bodies.

Speed is the point (a one-row prediction is a fraction of a millisecond), so there is no
framework: the request head is parsed with bytes operations, and a prediction runs in the event
loop's own thread while the model answers small requests quickly. Large bodies, and every
request once one inline prediction has been slow, run in a worker thread instead, where
SAGEMAKER_MODEL_SERVER_TIMEOUT is enforced (504) and /ping keeps answering meanwhile.

SIGTERM stops accepting, closes idle connections, lets requests in flight finish and be
answered, then exits 0 (blue/green drains instances this way).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import signal
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from studio_toolkit.serving.errors import BadRequest
from studio_toolkit.serving.models import Model, Response

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 100 * 1024 * 1024
# Bodies up to this size are predicted in the loop's thread while the model is fast.
INLINE_MAX_BODY_BYTES = 64 * 1024
# An inline prediction slower than this sends every later one to the worker thread.
INLINE_SLOW_SECONDS = 0.1
# After SIGTERM, how long past the model timeout a half-sent request may keep the server.
DRAIN_GRACE_SECONDS = 5.0
EXECUTION_PARAMETERS = json.dumps(
    {"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}
).encode()
REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    413: b"Content Too Large",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    504: b"Gateway Timeout",
}
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: bytes
    path: bytes
    content_type: str
    accept: str
    keep_alive: bool


class App:
    """The state the connections share: the model, the worker thread, the drain on SIGTERM."""

    def __init__(
        self,
        model: Model,
        *,
        timeout: float,
        workers: int,
        thread_setup: Callable[[], None],
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="predict", initializer=thread_setup
        )
        self.inline = True
        self.connections: set[Connection] = set()
        self.closing = False
        self.stopping = asyncio.Event()
        self.drained = asyncio.Event()

    def invoke(self, body: bytes, request: Request) -> tuple[int, Response]:
        """POST /invocations, in whichever thread runs it; never raises."""
        try:
            return 200, self.model.invoke(body, request.content_type, request.accept)
        except BadRequest as exc:
            return exc.status, Response(str(exc).encode(), TEXT)
        except Exception as exc:
            traceback.print_exc()
            message = f"{type(exc).__name__}: {exc}"
            return 500, Response(message.encode(), TEXT)

    def forget(self, connection: Connection) -> None:
        self.connections.discard(connection)
        if self.closing and not self.connections:
            self.drained.set()

    def shut_down(self, server: asyncio.AbstractServer) -> None:
        if self.closing:
            return
        print("serve: stopping; finishing the requests in flight", flush=True)
        self.closing = True
        self.stopping.set()
        server.close()
        for connection in list(self.connections):
            if connection.idle():
                connection.close()
        if not self.connections:
            self.drained.set()


class Connection(asyncio.Protocol):
    """One client connection: requests one after another (keep-alive), no pipelining."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.request: Request | None = None
        self.length: int | None = None  # Content-Length of the current request
        self.chunks: list[tuple[int, int]] = []  # chunked body: (start, end) in buffer
        self.chunk_scan = 0  # where the next chunk-size line starts
        self.chunked_total = 0
        self.busy = False  # a prediction runs in the worker thread

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.app.connections.add(self)
        if self.app.closing:  # accepted just as SIGTERM came: nothing more is answered
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.app.forget(self)

    def idle(self) -> bool:
        return not self.busy and self.request is None and not self.buffer

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self.process()
        elif len(self.buffer) > MAX_HEAD_BYTES and self.transport is not None:
            # A client sending on while its request is predicted: hold it back until then.
            self.transport.pause_reading()

    def process(self) -> None:
        while self.transport is not None and not self.busy and self.buffer:
            if self.request is None and not self.read_head():
                return
            body = self.read_body()
            if body is None:
                return
            request, self.request = self.request, None
            assert request is not None
            self.dispatch(request, body)

    def read_head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                self.fail(431, "The request head is larger than 64 KiB")
            return False
        head = bytes(self.buffer[:end])
        del self.buffer[: end + 4]
        try:
            self.request = self.parse_head(head)
        except BadRequest as exc:
            self.fail(exc.status, str(exc))
            return False
        return True

    def parse_head(self, head: bytes) -> Request:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise BadRequest("The request line is not 'METHOD /path HTTP/1.1'")
        method, target, version = parts
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                raise BadRequest(f"Header line {line[:40]!r} has no colon")
            name = name.strip().lower()
            value = value.strip()
            if name in headers and name == b"content-length" and headers[name] != value:
                raise BadRequest("Two different Content-Length headers")
            headers[name] = value
        connection = headers.get(b"connection", b"").lower()
        if version == b"HTTP/1.1":
            keep_alive = b"close" not in connection
        else:
            keep_alive = b"keep-alive" in connection
        encoding = headers.get(b"transfer-encoding", b"").lower()
        self.length = None
        if encoding:
            if encoding != b"chunked":
                raise BadRequest("Transfer-Encoding other than chunked is not supported", 501)
            if b"content-length" in headers:
                raise BadRequest("Content-Length together with Transfer-Encoding")
            self.chunks, self.chunk_scan, self.chunked_total = [], 0, 0
        else:
            text = headers.get(b"content-length", b"0")
            if not text.isdigit():
                raise BadRequest(f"Content-Length {text[:20]!r} is not a number")
            self.length = int(text)
            if self.length > MAX_BODY_BYTES:
                raise BadRequest("The body is larger than 100 MB", 413)
        if headers.get(b"expect", b"").lower() == b"100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return Request(
            method=method,
            path=target.partition(b"?")[0],
            content_type=headers.get(b"content-type", b"").decode("latin-1"),
            accept=headers.get(b"accept", b"").decode("latin-1"),
            keep_alive=keep_alive,
        )

    def read_body(self) -> bytes | None:
        if self.length is not None:
            if len(self.buffer) < self.length:
                return None
            body = bytes(self.buffer[: self.length])
            del self.buffer[: self.length]
            return body
        return self.read_chunked()

    def read_chunked(self) -> bytes | None:
        buffer = self.buffer
        while True:
            line_end = buffer.find(b"\r\n", self.chunk_scan)
            if line_end < 0:
                if len(buffer) - self.chunk_scan > 1024:
                    self.fail(400, "A chunk-size line is longer than 1 KiB")
                return None
            size_text = bytes(buffer[self.chunk_scan : line_end]).partition(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                self.fail(400, f"Chunk size {size_text[:20]!r} is not hexadecimal")
                return None
            start = line_end + 2
            if size == 0:
                # Optional trailer lines, then the empty line that ends the body.
                if buffer[start : start + 2] == b"\r\n":
                    end = start + 2
                else:
                    found = buffer.find(b"\r\n\r\n", start)
                    if found < 0:
                        return None
                    end = found + 4
                body = b"".join(bytes(buffer[s:e]) for s, e in self.chunks)
                del buffer[:end]
                self.chunks = []
                return body
            if self.chunked_total + size > MAX_BODY_BYTES:
                self.fail(413, "The body is larger than 100 MB")
                return None
            if len(buffer) < start + size + 2:
                return None
            self.chunks.append((start, start + size))
            self.chunked_total += size
            self.chunk_scan = start + size + 2

    def dispatch(self, request: Request, body: bytes) -> None:
        path, method = request.path, request.method
        if path == b"/invocations":
            if method != b"POST":
                self.respond(request, 405, b"Use POST /invocations", TEXT)
            else:
                self.invoke(request, body)
        elif path == b"/ping":
            if method in (b"GET", b"HEAD"):
                self.respond(request, 200, b"", TEXT)
            else:
                self.respond(request, 405, b"Use GET /ping", TEXT)
        elif path == b"/execution-parameters" and method == b"GET":
            self.respond(request, 200, EXECUTION_PARAMETERS, "application/json")
        else:
            message = "Not found; this server answers GET /ping and POST /invocations"
            self.respond(request, 404, message.encode(), TEXT)

    def invoke(self, request: Request, body: bytes) -> None:
        app = self.app
        if app.inline and len(body) <= INLINE_MAX_BODY_BYTES:
            started = time.perf_counter()
            status, response = app.invoke(body, request)
            elapsed = time.perf_counter() - started
            if elapsed > INLINE_SLOW_SECONDS:
                # A slow model must not hold /ping and the other connections: from now on
                # predictions run in the worker thread, where the timeout is enforced too.
                app.inline = False
                if elapsed > app.timeout:
                    status, response = _timed_out(app.timeout)
            self.respond(request, status, response.body, response.content_type)
            return
        self.busy = True
        asyncio.get_running_loop().create_task(self.invoke_in_thread(request, body))

    async def invoke_in_thread(self, request: Request, body: bytes) -> None:
        app = self.app
        future = app.executor.submit(app.invoke, body, request)
        try:
            status, response = await asyncio.wait_for(
                asyncio.wrap_future(future), timeout=app.timeout
            )
        except TimeoutError:
            status, response = _timed_out(app.timeout)
        self.busy = False
        self.respond(request, status, response.body, response.content_type)
        if self.transport is not None:
            self.transport.resume_reading()
            self.process()

    def respond(self, request: Request, status: int, body: bytes, content_type: str) -> None:
        transport = self.transport
        if transport is None:
            return
        keep_alive = request.keep_alive and not self.app.closing
        head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (
            status,
            REASONS.get(status, b"Unknown"),
            content_type.encode("latin-1"),
            len(body),
        )
        if not keep_alive:
            head += b"Connection: close\r\n"
        transport.write(head + b"\r\n" + body)
        if not keep_alive:
            transport.close()
            self.transport = None

    def fail(self, status: int, message: str) -> None:
        """Refuse what cannot be read as a request, and close: the stream is out of step."""
        request = Request(b"", b"", "", "", keep_alive=False)
        self.buffer.clear()
        self.request = None
        self.respond(request, status, message.encode(), TEXT)


def _timed_out(timeout: float) -> tuple[int, Response]:
    message = f"The model did not answer within {timeout:g} s (SAGEMAKER_MODEL_SERVER_TIMEOUT)"
    return 504, Response(message.encode(), TEXT)


async def serve(app: App, sock: socket.socket, where: str) -> None:
    """Answer on `sock` (listening) until SIGTERM or SIGINT, then drain."""
    loop = asyncio.get_running_loop()
    if sock.family == socket.AF_UNIX:
        server = await loop.create_unix_server(lambda: Connection(app), sock=sock)
    else:
        server = await loop.create_server(lambda: Connection(app), sock=sock)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, app.shut_down, server)
    print(f"serve: {app.model.description} on {where}", flush=True)
    await app.stopping.wait()
    try:
        # Requests in flight end within the model timeout (504 at worst); a client that
        # never finishes sending its request does not hold the exit longer than that.
        await asyncio.wait_for(app.drained.wait(), timeout=app.timeout + DRAIN_GRACE_SECONDS)
    except TimeoutError:
        for connection in list(app.connections):
            connection.close()
    app.executor.shutdown(wait=False, cancel_futures=True)
