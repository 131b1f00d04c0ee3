"""The notebook proxy: every request under /jupyter/<domain id>/<space name>/ goes, after
the Django session says who is asking, to that space's JupyterLab server on its Unix socket.

`with_notebook_proxy(app)` puts it in front of the rest of the ASGI application.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login

from domains.app_access import ProxyTarget
from studio.proxy import http, websocket
from studio.proxy.access import (
    ActivityRecorder,
    DecisionCache,
    decide,
    session_key,
    studio_cookies,
)
from studio.proxy.headers import same_origin, strip_token
from studio.proxy.http import ASGIApp, Receive, Scope, Send

PREFIX = "/jupyter/"
UNAUTHENTICATED_CLOSE = 4401
NOT_FOUND_CLOSE = 4404
# One answer for "no such space", "not yours" and "not running": nothing to tell them apart.
NOT_FOUND = "Not found."
CROSS_ORIGIN = "Cross-origin request refused."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

activity = ActivityRecorder()
decisions = DecisionCache()


def space_of(path: str) -> tuple[str, str] | None:
    """(domain id, space name) of a path under the prefix, or None."""
    parts = path[len(PREFIX) :].split("/", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def login_redirect(scope: Scope) -> str:
    query = strip_token(scope.get("query_string", b"")).decode("latin-1")
    return redirect_to_login(scope["path"] + (f"?{query}" if query else "")).url


async def notebook_proxy(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI application for HTTP and websocket scopes whose path starts with PREFIX."""
    if scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    else:
        await _http(scope, receive, send)


async def _http(scope: Scope, receive: Receive, send: Send) -> None:
    space = space_of(scope["path"])
    if scope["method"] not in SAFE_METHODS and not same_origin(
        scope["headers"], settings.CSRF_TRUSTED_ORIGINS
    ):
        await http.send_plain(send, 403, CROSS_ORIGIN)
        return
    if space is None:
        await http.send_plain(send, 404, NOT_FOUND)
        return
    session = _session(scope)
    key = (session or "", *space)
    remembered = decisions.get(key) if session else None
    target = remembered or await _decide(scope, send, session, space, key)
    if target is None:
        return
    activity.touch(*space)
    # A remembered server may have been replaced meanwhile (a restart: a new token); a request
    # that can be sent again is, once, after asking the database.
    outcome = await _forward(
        scope,
        receive,
        send,
        target,
        hold_refusal=remembered is not None and not http.has_body(scope["headers"]),
    )
    if outcome is http.Outcome.REFUSED:
        decisions.drop(key)
        target = await _decide(scope, send, session, space, key)
        if target is None:
            return
        outcome = await _forward(scope, receive, send, target)
    if outcome is http.Outcome.UNREACHABLE:
        # The app may have stopped or moved: the next request asks the database again.
        decisions.drop(key)


async def _decide(
    scope: Scope, send: Send, session: str | None, space: tuple[str, str], key: tuple
) -> ProxyTarget | None:
    """Ask the database where `space`'s server is for this session and remember it; or
    answer the browser (login, or the same 404 for every refusal) and return None."""
    decision = await decide(session, *space)
    if not decision.authenticated:
        location = login_redirect(scope).encode()
        await http.send_plain(send, 302, "Log in to use notebooks.", [(b"location", location)])
        return None
    if decision.target is None:
        await http.send_plain(send, 404, NOT_FOUND)
        return None
    decisions.put(key, decision.target)
    return decision.target


async def _forward(
    scope: Scope, receive: Receive, send: Send, target: ProxyTarget, hold_refusal: bool = False
) -> http.Outcome:
    return await http.forward(
        scope,
        receive,
        send,
        socket=target.socket,
        uid=target.uid,
        token=target.token,
        prefix=target.prefix,
        cookies=studio_cookies(),
        hold_refusal=hold_refusal,
    )


async def _websocket(scope: Scope, receive: Receive, send: Send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    space = space_of(scope["path"])
    if not same_origin(scope["headers"], settings.CSRF_TRUSTED_ORIGINS):
        await websocket.deny(scope, send, 403, CROSS_ORIGIN.encode(), 4403)
        return
    decision = await decide(_session(scope), *space) if space else None
    if decision is not None and not decision.authenticated:
        # Accepted only to say why it closes: a client can tell "log in again" from a 404.
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": UNAUTHENTICATED_CLOSE})
        return
    if decision is None or decision.target is None:
        await websocket.deny(scope, send, 404, NOT_FOUND.encode(), NOT_FOUND_CLOSE)
        return
    activity.touch(*space)
    await websocket.relay(
        scope,
        receive,
        send,
        socket=decision.target.socket,
        uid=decision.target.uid,
        token=decision.target.token,
        cookies=studio_cookies(),
        on_message=lambda: activity.touch(*space),
    )


def _session(scope: Scope) -> str | None:
    return session_key([v for n, v in scope["headers"] if n.lower() == b"cookie"])


def with_notebook_proxy(app: ASGIApp) -> ASGIApp:
    """`app`, with HTTP and websocket requests under PREFIX sent to the notebook proxy."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"].startswith(PREFIX):
            await notebook_proxy(scope, receive, send)
        else:
            await app(scope, receive, send)

    return route
