"""The invocation router: sagemaker-runtime's `POST /endpoints/<EndpointName>/invocations`,
as a plain ASGI route in front of Django (DESIGN.md §7), so that
`boto3.client("sagemaker-runtime", endpoint_url=<Studio>)` works unchanged.

A request is read (at most STUDIO_INVOKE_MAX_BYTES), authenticated and authorized from a
short-lived cached decision (`caller`), routed from this process's routing table (`table`): a
variant by weight or X-Amzn-SageMaker-Target-Variant, then its InService instance with the
fewest requests in flight; and sent on a pooled keep-alive connection to the instance's Unix
socket, connected to only if it is the instance's own (studio/web/proxy/upstream.py). An
instance that cannot be reached (draining away during a blue/green update, or replaced) is
skipped for another of the variant's. Failures are answered in sagemaker-runtime's words
(`errors`); every answered invocation is counted (jobs/hosting/counters.py) and, when the
endpoint captures, sampled into the capture queue (`capture`).

Nothing here touches the ORM, a thread or the log on the way of a request that the caches
can answer.
"""

import asyncio
import logging
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from jobs.hosting import counters
from jobs.hosting.counters import tally
from jobs.hosting.routing import Route, Target, Variant
from studio.core.errors import StudioError
from studio.core.queue import enqueue
from studio.web.proxy.http import ASGIApp, ClientGone, Receive, Scope, Send
from studio.web.proxy.upstream import Headers, UpstreamError, pool_for
from studio.web.router import capture, eventstream, table
from studio.web.router.caller import grant_for
from studio.web.router.errors import (
    ModelError,
    ModelNotReady,
    ServiceUnavailable,
    Throttling,
    ValidationError,
    clip,
    send_error,
)

log = logging.getLogger(__name__)

PREFIX = "/endpoints/"
SUFFIX = "/invocations"
# InvokeEndpointWithResponseStream's: the same request, answered as an event stream.
STREAM_SUFFIX = "/invocations-response-stream"
NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
NAME_MAX = 63
# Statuses in which an endpoint answers: it keeps serving its current generation while an
# update (or a roll back) prepares the next.
SERVING = frozenset({"InService", "Updating", "SystemUpdating", "RollingBack"})
# The request headers the container gets (as SageMaker: the others are stripped).
FORWARDED = (
    b"content-type",
    b"accept",
    b"x-amzn-sagemaker-custom-attributes",
    b"x-amzn-sagemaker-inference-id",
)
RETURNED = frozenset({b"content-type", b"x-amzn-sagemaker-custom-attributes"})
STREAM_RETURNED = frozenset({b"x-amzn-sagemaker-custom-attributes"})
# How much of a container's error answer a streaming invocation reads for ModelError.
MESSAGE_READ = 64 * 1024
TARGET_VARIANT = b"x-amzn-sagemaker-target-variant"
# InvokeEndpointWithResponseStream sends its Accept in this header; the container gets it as
# Accept, as it does on SageMaker.
STREAM_ACCEPT = b"x-amzn-sagemaker-accept"
# Instances tried for one request before it is answered ServiceUnavailable.
MAX_ATTEMPTS = 3
# How often a request waiting for a cold start looks at the routing table again.
COLD_START_POLL_S = 0.05
WAKE_TASK = "jobs.tasks.wake_endpoint"
# A body refused as too large is read and dropped up to this many times the limit, so the
# client reads the refusal instead of a reset connection; beyond that the connection closes.
DRAIN_FACTOR = 8

_woken: dict[tuple[int, str], float] = {}


def is_invocation(scope: Scope) -> bool:
    path = scope["path"]
    return (
        scope["type"] == "http"
        and path.startswith(PREFIX)
        and (path.endswith(SUFFIX) or path.endswith(STREAM_SUFFIX))
        and scope["method"] == "POST"
    )


def with_invocation_router(app: ASGIApp) -> ASGIApp:
    """`app`, with InvokeEndpoint's path answered by the router."""

    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        if is_invocation(scope):
            await invoke(scope, receive, send)
        else:
            await app(scope, receive, send)

    return router


async def invoke(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        if scope["path"].endswith(STREAM_SUFFIX):
            await _invoke(scope, receive, send, STREAM_SUFFIX)
        else:
            await _invoke(scope, receive, send, SUFFIX)
    except StudioError as error:
        await send_error(send, error)
    except ClientGone:
        pass
    except Exception:
        # A bug, not the caller's doing: answered as AWS does, and logged whole for us.
        log.exception("invocation %s failed", scope["path"])
        await send_error(send, StudioError("Studio failed on this invocation; its log says why."))


async def _invoke(scope: Scope, receive: Receive, send: Send, suffix: str) -> None:
    started = time.perf_counter()
    streaming = suffix == STREAM_SUFFIX
    name = scope["path"][len(PREFIX) : -len(suffix)]
    if len(name) > NAME_MAX or not NAME.fullmatch(name):
        raise ValidationError(
            f"EndpointName {clip(name)!r} is not an endpoint's name: up to 63 letters, digits "
            "and hyphens, starting and ending with a letter or digit."
        )
    headers = dict(scope["headers"])
    body = await _read_body(receive, headers)
    grant = await grant_for(scope, headers, body)
    key = (grant.domain_pk, name)
    route = await table.routes.get(key)
    if route is None:
        raise ValidationError(f"Endpoint {name} of account {grant.account_id} not found.")
    if route.status not in SERVING:
        raise ValidationError(
            f"Endpoint {name} of account {grant.account_id} is {route.status}: it answers "
            "invocations only when InService (or while an update is under way)."
        )
    variant = _variant(route, headers.get(TARGET_VARIANT))
    forwarded: Headers = [(b"host", b"localhost"), (b"content-length", b"%d" % len(body))]
    forwarded += [(n, headers[n]) for n in FORWARDED if n in headers]
    if streaming and STREAM_ACCEPT in headers:
        forwarded = [(n, v) for n, v in forwarded if n != b"accept"]
        forwarded.append((b"accept", headers[STREAM_ACCEPT]))

    busy = (route.endpoint_pk, variant.name)
    if (
        variant.max_concurrency is not None
        and table.variant_in_flight.get(busy, 0) >= variant.max_concurrency
    ):
        raise Throttling(
            f"Variant {variant.name} of endpoint {name} has {variant.max_concurrency} "
            "invocations in flight, its ServerlessConfig.MaxConcurrency: retry after a moment, "
            "or raise MaxConcurrency."
        )
    table.enter(table.variant_in_flight, busy)
    outcome = counters.FAILURE
    call = _streamer(send, variant.name, route.capture is not None) if streaming else _call
    try:
        status, answer_headers, answer = await _serve(key, route, variant, forwarded, body, call)
        outcome = counters.OK if status < 400 else counters.MODEL_ERROR if status < 500 else outcome
    finally:
        table.leave(table.variant_in_flight, busy)
        tally.record(
            route.endpoint_pk, variant.name, (time.perf_counter() - started) * 1e3, outcome
        )
    if status >= 400:
        raise _model_error(variant.name, status, answer)
    if streaming:
        content_type = _content_type(answer_headers)
    else:
        content_type = await _answer(send, variant.name, answer_headers, answer)
    if route.capture is not None and random.random() * 100 < route.capture.percent:
        _capture(route, variant, headers, body, content_type, answer)


async def _answer(send: Send, variant: str, answer_headers: Headers, answer: bytes) -> bytes:
    """InvokeEndpoint's answer: the container's body and content type; that type."""
    content_type = b"application/octet-stream"
    out: Headers = [
        (b"content-length", b"%d" % len(answer)),
        (b"x-amzn-invoked-production-variant", variant.encode()),
        (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
    ]
    for n, v in answer_headers:
        n = n.lower()
        if n == b"content-type":
            content_type = v
        elif n in RETURNED:
            out.append((n, v))
    out.append((b"content-type", content_type))
    await send({"type": "http.response.start", "status": 200, "headers": out})
    await send({"type": "http.response.body", "body": answer})
    return content_type


async def _read_body(receive: Receive, headers: dict[bytes, bytes]) -> bytes:
    """The whole body, refused (and never held) past STUDIO_INVOKE_MAX_BYTES: by its
    Content-Length before reading, or as it streams in."""
    limit = settings.STUDIO_INVOKE_MAX_BYTES
    length = headers.get(b"content-length")
    if length is not None:
        if not length.isdigit():
            raise ValidationError(
                f"Content-Length {clip(length.decode('latin-1'))!r} is not a number."
            )
        if int(length) > limit:
            await _drain(receive, limit)
            raise _too_large(limit, int(length))
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            if message.get("more_body", False):
                await _drain(receive, limit)
            raise _too_large(limit, None)
        if not message.get("more_body", False):
            if not chunks:
                return chunk
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)


async def _drain(receive: Receive, limit: int) -> None:
    dropped = 0
    while dropped <= limit * DRAIN_FACTOR:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _too_large(limit: int, length: int | None) -> ValidationError:
    sent = f" (this one is {length} bytes)" if length is not None else ""
    return ValidationError(
        f"Request payload exceeds {limit / 2**20:g} MB ({limit} bytes), the largest an "
        f"invocation may send{sent}; split the request into smaller batches."
    )


def _variant(route: Route, pinned: bytes | None) -> Variant:
    if pinned is not None:
        variant = route.variant(pinned.decode("latin-1"))
        if variant is None:
            names = ", ".join(v.name for v in route.variants)
            raise ValidationError(
                f"Target variant {clip(pinned.decode('latin-1'))!r} is not a variant of "
                f"endpoint {route.name}; its variants: {names}."
            )
        return variant
    variant = table.by_weight(route.variants)
    if variant is None:
        raise ValidationError(
            f"Every variant of endpoint {route.name} has weight 0: name one in "
            "X-Amzn-SageMaker-Target-Variant, or give one a weight."
        )
    return variant


Call = Callable[[Target, str, Headers, bytes], Awaitable[tuple[int, Headers, bytes]]]


async def _serve(
    key: table.RouteKey, route: Route, variant: Variant, headers: Headers, body: bytes, call: Call
) -> tuple[int, Headers, bytes]:
    """The answer of one of the variant's instances: the least busy that can be reached."""
    if not variant.targets:
        variant = await _instance_ready(key, route, variant)
    tried: set[int] = set()
    for _ in range(MAX_ATTEMPTS):
        target = table.least_busy(variant.targets, tried)
        if target is None:
            # All tried: the table may be a second old, and an update may have moved on.
            fresh = await table.routes.get(key, max_age=0)
            variant = (fresh.variant(variant.name) if fresh else None) or variant
            target = table.least_busy(variant.targets, tried) or table.least_busy(
                variant.targets, set()
            )
            if target is None:
                break
        tried.add(target.pk)
        table.enter(table.in_flight, target.pk)
        try:
            return await call(target, variant.name, headers, body)
        except UpstreamError:
            continue
        finally:
            table.leave(table.in_flight, target.pk)
    raise ServiceUnavailable(
        f"No instance of variant {variant.name} of endpoint {route.name} answered; the "
        "endpoint may be replacing them: try again in a moment."
    )


async def _call(
    target: Target, variant: str, headers: Headers, body: bytes
) -> tuple[int, Headers, bytes]:
    """Send the request to `target`. UpstreamError: it could not be reached or gave no answer
    (another instance may be tried); ModelError: it answered, but not within the timeout or
    not in full."""
    timeout = settings.STUDIO_INVOKE_TIMEOUT_S
    limit = settings.STUDIO_INVOKE_MAX_BYTES
    try:
        async with asyncio.timeout(timeout):
            response = await pool_for(target.socket, target.uid).request(
                b"POST", SUFFIX.encode(), headers, _once(body) if body else None
            )
            try:
                chunks = []
                size = 0
                while chunk := await response.read():
                    size += len(chunk)
                    if size > limit:
                        raise ModelError(
                            f"The model of variant {variant} answered more than {limit} bytes, "
                            "the largest answer an invocation returns.",
                            response.status,
                        )
                    chunks.append(chunk)
            except UpstreamError as error:
                raise ModelError(
                    f"The model of variant {variant} broke its answer off: {error}.",
                    response.status,
                ) from None
            finally:
                response.close()
    except TimeoutError:
        raise ModelError(
            f"The model of variant {variant} did not answer within {timeout:g} s "
            "(STUDIO_INVOKE_TIMEOUT_S): the invocation timed out."
        ) from None
    return response.status, response.headers, b"".join(chunks)


def _streamer(send: Send, variant_name: str, keep: bool) -> Call:
    """A `Call` for InvokeEndpointWithResponseStream: the container's answer goes to the
    caller as it arrives, each chunk a PayloadPart event (a container that does not stream
    gives one). An answer of 4xx or 5xx is read whole and answered as ModelError, as
    InvokeEndpoint's; one that breaks off, or stalls longer than the timeout between chunks,
    once the stream has begun, ends it with a ModelStreamError event. `keep`: what was sent
    is returned too (for data capture), up to the invocation limit."""

    async def call(
        target: Target, variant: str, headers: Headers, body: bytes
    ) -> tuple[int, Headers, bytes]:
        timeout = settings.STUDIO_INVOKE_TIMEOUT_S
        try:
            async with asyncio.timeout(timeout):
                response = await pool_for(target.socket, target.uid).request(
                    b"POST", SUFFIX.encode(), headers, _once(body) if body else None
                )
        except TimeoutError:
            raise ModelError(
                f"The model of variant {variant} did not answer within {timeout:g} s "
                "(STUDIO_INVOKE_TIMEOUT_S): the invocation timed out."
            ) from None
        try:
            if response.status >= 400:
                return response.status, response.headers, await _error_body(response)
            kept = await _stream(send, variant_name, response, keep)
        finally:
            response.close()
        return response.status, response.headers, kept

    return call


def _content_type(headers: Headers) -> bytes:
    for n, v in headers:
        if n.lower() == b"content-type":
            return v
    return b"application/octet-stream"


async def _error_body(response: Any) -> bytes:
    """The start of a container's error answer (its message is all ModelError repeats)."""
    chunks, size = [], 0
    try:
        while size < MESSAGE_READ and (chunk := await response.read()):
            chunks.append(chunk)
            size += len(chunk)
    except UpstreamError:
        pass
    return b"".join(chunks)


async def _stream(send: Send, variant: str, response: Any, keep: bool) -> bytes:
    content_type = _content_type(response.headers)
    out: Headers = [
        (b"content-type", eventstream.CONTENT_TYPE),
        (b"x-amzn-sagemaker-content-type", content_type),
        (b"x-amzn-invoked-production-variant", variant.encode()),
        (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
    ]
    out += [(n.lower(), v) for n, v in response.headers if n.lower() in STREAM_RETURNED]
    await send({"type": "http.response.start", "status": 200, "headers": out})
    timeout = settings.STUDIO_INVOKE_TIMEOUT_S
    limit = settings.STUDIO_INVOKE_MAX_BYTES
    kept: list[bytes] = []
    size = 0
    ending = b""
    while True:
        try:
            async with asyncio.timeout(timeout):
                chunk = await response.read()
        except TimeoutError:
            ending = eventstream.model_stream_error(
                eventstream.TIMED_OUT,
                f"The model of variant {variant} sent nothing for {timeout:g} s "
                "(STUDIO_INVOKE_TIMEOUT_S): the stream timed out.",
            )
            break
        except UpstreamError as error:
            ending = eventstream.model_stream_error(
                eventstream.BROKEN, f"The model of variant {variant} broke its answer off: {error}."
            )
            break
        if not chunk:
            break
        if keep and size + len(chunk) <= limit:
            kept.append(chunk)
        size += len(chunk)
        for part in eventstream.payload_parts(chunk):
            await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": ending})
    return b"".join(kept)


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


def _model_error(variant: str, status: int, answer: bytes) -> ModelError:
    original = clip(answer.decode("utf-8", "replace"))
    side = "client" if status < 500 else "server"
    return ModelError(
        clip(
            f"Received {side} error ({status}) from model of variant {variant} with message "
            f'"{original}".'
        ),
        status,
        original,
    )


async def _instance_ready(key: table.RouteKey, route: Route, variant: Variant) -> Variant:
    """The variant once it has an instance in service. A variant that scales to zero is woken
    and waited for (STUDIO_COLD_START_WAIT_S); any other is looked up once more."""
    if not variant.scales_to_zero:
        fresh = await table.routes.get(key, max_age=COLD_START_POLL_S)
        now = fresh.variant(variant.name) if fresh else None
        if now is not None and now.targets:
            return now
        raise ServiceUnavailable(
            f"Variant {variant.name} of endpoint {route.name} has no instance in service; "
            "try again in a moment."
        )
    await _wake(route.endpoint_pk, variant.name)
    wait = settings.STUDIO_COLD_START_WAIT_S
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        await asyncio.sleep(COLD_START_POLL_S)
        fresh = await table.routes.get(key, max_age=COLD_START_POLL_S)
        now = fresh.variant(variant.name) if fresh else None
        if now is None:
            raise ServiceUnavailable(f"Endpoint {route.name} changed while it was starting.")
        if now.targets:
            # Woken: the next time it scales to zero, the next request must wake it again.
            _woken.pop((route.endpoint_pk, variant.name), None)
            return now
    raise ModelNotReady(
        f"Variant {variant.name} of endpoint {route.name} had scaled to zero and is starting; "
        f"it was not ready within {wait:g} s (STUDIO_COLD_START_WAIT_S): try again shortly."
    )


async def _wake(endpoint_pk: int, variant: str) -> None:
    """Ask the worker to start an instance, once per wait bound from this process."""
    now = time.monotonic()
    if now - _woken.get((endpoint_pk, variant), -1e9) < settings.STUDIO_COLD_START_WAIT_S:
        return
    _woken[endpoint_pk, variant] = now
    await database_sync_to_async(enqueue)(WAKE_TASK, endpoint_pk, variant)


def _capture(
    route: Route,
    variant: Variant,
    headers: dict[bytes, bytes],
    body: bytes,
    content_type: bytes,
    answer: bytes,
) -> None:
    inference_id = headers.get(b"x-amzn-sagemaker-inference-id")
    capture.writer.offer(
        route.endpoint_pk,
        capture.Captured(
            config=route.capture,
            domain_id=route.domain_id,
            endpoint=route.name,
            variant=variant.name,
            at=time.time(),
            event_id=str(uuid.uuid4()),
            inference_id=inference_id.decode("latin-1") if inference_id else None,
            input_type=headers.get(b"content-type", b"application/octet-stream").decode("latin-1"),
            input_data=body,
            output_type=content_type.decode("latin-1"),
            output_data=answer,
        ),
    )
