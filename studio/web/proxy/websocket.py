"""Websockets through the proxy (kernels, terminals, events): relayed message by message.

The upstream connection is opened before the browser's is accepted, so the browser gets the
subprotocol the server chose (kernels speak `v1.kernel.websocket.jupyter.org`) and a refused
upgrade is refused to the browser too.
"""

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from websockets.asyncio.client import ClientConnection, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from studio.core.unix_socket import connect_async
from studio.web.proxy.headers import request_headers, strip_token
from studio.web.proxy.http import Receive, Scope, Send

# The largest message relayed from a server: the web process is shared, so one kernel's
# output must not be able to take all its memory (uvicorn caps the other direction).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
OPEN_TIMEOUT_S = 10.0

# Close codes that describe a connection's end but may not be sent in a close frame.
_UNSENDABLE = {1005: 1000, 1006: 1011, 1015: 1011}

# The websocket library negotiates these itself with the server.
_OWN_HEADERS = frozenset(
    {
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"origin",
        b"user-agent",
    }
)


def sendable(code: int | None) -> int:
    if code is None:
        return 1000
    return _UNSENDABLE.get(code, code)


async def deny(scope: Scope, send: Send, status: int, body: bytes, close_code: int) -> None:
    """Refuse an upgrade with an HTTP answer where the server supports it, else a close."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": close_code})


async def relay(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    socket: Path,
    uid: int | None,
    token: str,
    cookies: frozenset[str],
    on_message: Callable[[], None],
) -> None:
    """Connect to the server on `socket` (owned by `uid`: anything else there is treated as
    no server at all) for an upgrade already authorized, then relay."""
    client = scope.get("client")
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in request_headers(
            scope["headers"],
            token=token,
            client_host=client[0] if client else None,
            scheme=scope.get("scheme", "ws"),
            studio_cookies=cookies,
        )
        if name.lower() not in _OWN_HEADERS and name != b"host"
    ]
    raw_path = scope.get("raw_path") or scope["path"].encode()
    query = strip_token(scope.get("query_string", b""))
    uri = "ws://localhost" + (raw_path + (b"?" + query if query else b"")).decode("latin-1")
    try:
        # Given a connected socket, the library cannot follow a redirect to somewhere else.
        sock = await asyncio.wait_for(connect_async(socket, uid), OPEN_TIMEOUT_S)
        upstream = await unix_connect(
            sock=sock,
            uri=uri,
            additional_headers=headers,
            subprotocols=scope.get("subprotocols") or None,
            user_agent_header=None,
            # Local socket: compressing costs CPU and saves nothing.
            compression=None,
            max_size=MAX_MESSAGE_BYTES,
            open_timeout=OPEN_TIMEOUT_S,
        )
    except InvalidStatus as refused:
        await deny(scope, send, refused.response.status_code, refused.response.body, 1011)
        return
    except ValueError as error:
        # A redirect: on a socket it was given the library follows none (that would mean
        # connecting by path again), and it is refused as it came.
        if not isinstance(error.__cause__, InvalidStatus):
            raise
        response = error.__cause__.response
        await deny(scope, send, response.status_code, response.body, 1011)
        return
    except (OSError, TimeoutError):
        await deny(scope, send, 502, b"The notebook server of this space is not answering.", 1011)
        return

    async with upstream:
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
        to_server = asyncio.create_task(_browser_to_server(receive, upstream, on_message))
        to_browser = asyncio.create_task(_server_to_browser(upstream, send))
        done, pending = await asyncio.wait(
            {to_server, to_browser}, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for task in done:
            # The browser leaving mid-send is an ordinary end; anything else is a bug to see.
            with contextlib.suppress(ConnectionClosed, OSError):
                task.result()


async def _browser_to_server(
    receive: Receive, upstream: ClientConnection, on_message: Callable[[], None]
) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            await upstream.close(
                code=sendable(message.get("code")), reason=message.get("reason") or ""
            )
            return
        if message["type"] != "websocket.receive":
            continue
        on_message()
        text = message.get("text")
        try:
            await upstream.send(text if text is not None else message.get("bytes") or b"")
        except ConnectionClosed:
            # The server has closed: the other task passes its close on to the browser, and
            # this one waits for the browser's disconnect, dropping what arrives meanwhile.
            continue


async def _server_to_browser(upstream: ClientConnection, send: Send) -> None:
    try:
        async for data in upstream:
            if isinstance(data, str):
                await send({"type": "websocket.send", "text": data})
            else:
                await send({"type": "websocket.send", "bytes": data})
    except ConnectionClosed:
        pass
    await send(
        {
            "type": "websocket.close",
            "code": sendable(upstream.close_code),
            "reason": upstream.close_reason or "",
        }
    )
