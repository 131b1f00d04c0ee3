"""HTTP through the proxy: any method, bodies streamed in both directions.

Requests go over the server's Unix socket on keep-alive connections (`upstream`), with the
headers exactly as `headers` makes them: no client defaults, and no cookie jar shared by
every user of that server.
"""

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from studio.web.proxy.headers import confine, request_headers, response_headers, strip_token
from studio.web.proxy.scrub import TokenScrubber
from studio.web.proxy.upstream import UpstreamError, pool_for

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# What Jupyter answers a request whose token is not its own.
TOKEN_REFUSED = frozenset({401, 403})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def refuses_token(status: int, headers: list[tuple[bytes, bytes]], prefix: str) -> bool:
    """Whether the server refused the token: 401/403 from its API, or, for a page, the
    redirect to its own login page that Jupyter answers instead."""
    if status in TOKEN_REFUSED:
        return True
    if status not in REDIRECTS:
        return False
    location = next((v for n, v in headers if n.lower() == b"location"), b"")
    return urlsplit(location.decode("latin-1")).path == f"{prefix}login"


class Outcome(enum.Enum):
    ANSWERED = "answered"  # whatever the server said reached the browser
    UNREACHABLE = "unreachable"  # nothing answered; nothing was sent: the caller answers
    REFUSED = "refused"  # the server refused the token; nothing was sent (hold_refusal)


class ClientGone(Exception):
    """The browser went away while its request body was still arriving."""


async def request_body(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as it arrives, chunk by chunk."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        name = name.lower()
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


async def send_body(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer the proxy's own response (never cached): a refusal, an error page."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_plain(
    send: Send, status: int, text: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    await send_body(send, status, text.encode(), b"text/plain; charset=utf-8", headers)


async def forward(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    socket: Path,
    uid: int | None,
    token: str,
    prefix: str,
    cookies: frozenset[str],
    hold_refusal: bool = False,
) -> Outcome:
    """Send one request to the server on `socket` (owned by `uid`: anything else there is
    treated as no server at all) and stream its answer back. With
    `hold_refusal`, a refusal of the token is not passed on (REFUSED): the caller's token may
    be a replaced server's, and it asks again."""
    client = scope.get("client")
    headers = request_headers(
        scope["headers"],
        token=token,
        client_host=client[0] if client else None,
        scheme=scope.get("scheme", "http"),
        studio_cookies=cookies,
    )
    raw_path = scope.get("raw_path") or scope["path"].encode()
    query = strip_token(scope.get("query_string", b""))
    try:
        response = await pool_for(socket, uid).request(
            scope["method"].encode(),
            raw_path + (b"?" + query if query else b""),
            headers,
            request_body(receive) if has_body(scope["headers"]) else None,
        )
    except ClientGone:
        return Outcome.ANSWERED
    except UpstreamError:
        return Outcome.UNREACHABLE
    if hold_refusal and refuses_token(response.status, response.headers, prefix):
        response.close()
        return Outcome.REFUSED

    scrubber = TokenScrubber(token)
    answer_headers = [
        (name, scrubber.header_value(value))
        for name, value in response_headers(response.headers, prefix=prefix, studio_cookies=cookies)
        if name.lower() != b"x-content-type-options"
    ]
    try:
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": answer_headers + confine(raw_path, prefix),
            }
        )
        while chunk := await response.read():
            out = scrubber.feed(chunk)
            if out:
                await send({"type": "http.response.body", "body": out, "more_body": True})
        await send({"type": "http.response.body", "body": scrubber.flush()})
    finally:
        response.close()
    return Outcome.ANSWERED
