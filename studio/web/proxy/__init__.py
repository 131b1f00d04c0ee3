"""The notebook proxy. Each space is served on an origin of its own (studio/web/proxy/origins.py):
its host answers `/jupyter/<domain id>/<space name>/...` for that space only, from the space
cookie, and sends each request to the space's JupyterLab server on its Unix socket. Studio's
own host serves no space content: under `/jupyter/` it only checks the Studio session and
hands the browser over to the space's host (studio/web/proxy/handoff.py).

`with_notebook_proxy(app)` puts both in front of the rest of the ASGI application.
"""

from urllib.parse import parse_qs, quote

from channels.db import database_sync_to_async
from django.contrib.auth.views import redirect_to_login

from domains.notebooks.access import ProxyTarget, proxy_prefix
from studio.web.proxy import http, pages, websocket
from studio.web.proxy.access import (
    ActivityRecorder,
    Decision,
    DecisionCache,
    decide,
    session_key,
    studio_cookies,
)
from studio.web.proxy.handoff import (
    ENTER_PATH,
    Pass,
    cookie_value,
    mint_ticket,
    read_space_cookie,
    redeem_ticket,
    set_cookie_header,
    space_cookie,
)
from studio.web.proxy.headers import same_origin, strip_token
from studio.web.proxy.http import ASGIApp, Receive, Scope, Send
from studio.web.proxy.origins import (
    default_studio_origin,
    host_header,
    http_scheme,
    is_space_host,
    label_of,
    space_label,
    space_origin,
    studio_host,
)

PREFIX = "/jupyter/"
UNAUTHENTICATED_CLOSE = 4401
NOT_FOUND_CLOSE = 4404
# One answer for "no such space", "not yours" and "not running": nothing to tell them apart.
NOT_FOUND = "Not found."
CROSS_ORIGIN = "Cross-origin request refused."
TICKET_REFUSED = (
    "This link to the space has expired or was already used. Open the space again from Studio."
)
BAD_HOST = "Invalid Host header."
UNREACHABLE = (
    "The notebook server of this space is not answering: it may be starting or stopping. "
    "Try again in a moment."
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NAVIGATION = frozenset({"GET", "HEAD"})
# The handoff's answers carry a ticket: never sent on as a Referer (and, as every plain answer
# of the proxy, never cached).
HANDOFF_HEADERS = [(b"referrer-policy", b"no-referrer")]

activity = ActivityRecorder()
decisions = DecisionCache()


def space_of(path: str) -> tuple[str, str] | None:
    """(domain id, space name) of a path under the prefix, or None."""
    if not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX) :].split("/", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def login_redirect(scope: Scope) -> str:
    query = strip_token(scope.get("query_string", b"")).decode("latin-1")
    return redirect_to_login(scope["path"] + (f"?{query}" if query else "")).url


def _path_and_query(scope: Scope) -> str:
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = strip_token(scope.get("query_string", b"")).decode("latin-1")
    return raw_path + (f"?{query}" if query else "")


# -- Studio's host: the handoff --------------------------------------------------------------


async def studio_handoff(scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """`/jupyter/...` on Studio's host: whoever may use the space is sent to its own host with
    a ticket for the same path; nothing of the space is served here. A refusal goes to `app`
    (Django) for a browser's navigation: see `_not_found_on_studio`."""
    if scope["type"] == "websocket":
        if (await receive())["type"] == "websocket.connect":
            await websocket.deny(scope, send, 404, NOT_FOUND.encode(), NOT_FOUND_CLOSE)
        return
    space = space_of(scope["path"])
    host = host_header(scope["headers"])
    if not studio_host(host):
        await http.send_plain(send, 400, BAD_HOST)
        return
    if scope["method"] not in NAVIGATION or space is None:
        await _not_found_on_studio(scope, receive, send, app)
        return
    session = _studio_session(scope)
    decision = await decide(session, *space)
    if not decision.authenticated:
        location = login_redirect(scope).encode()
        await http.send_plain(send, 302, "Log in to use notebooks.", [(b"location", location)])
        return
    if decision.target is None:
        await _not_found_on_studio(scope, receive, send, app)
        return
    scheme = http_scheme(scope)
    ticket = mint_ticket(session, *space, f"{scheme}://{host}", _path_and_query(scope))
    location = f"{space_origin(scheme, host, *space)}{ENTER_PATH}?ticket={quote(ticket)}"
    await http.send_plain(
        send,
        302,
        "Opening the space.",
        [(b"location", location.encode("latin-1")), *HANDOFF_HEADERS],
    )


async def _not_found_on_studio(scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """The one 404 of the handoff. A browser navigating here gets Studio's own 404 page, with
    the navigation and the user's session, from Django: it has no page under /jupyter/, so it
    can only answer that (studio.web.errors names the space in it). Anything else gets the
    short text."""
    if scope["method"] == "GET" and pages.wants_html(scope):
        await app(scope, receive, send)
    else:
        await http.send_plain(send, 404, NOT_FOUND)


def _studio_session(scope: Scope) -> str | None:
    return session_key([v for n, v in scope["headers"] if n.lower() == b"cookie"])


# -- a space's host --------------------------------------------------------------------------


async def space_host(scope: Scope, receive: Receive, send: Send) -> None:
    """Everything that comes to a host under the spaces domain."""
    if scope["type"] == "websocket":
        await _space_websocket(scope, receive, send)
        return
    label = label_of(host_header(scope["headers"]))
    if label is not None and scope["path"] == ENTER_PATH:
        await _enter(scope, send, label)
        return
    space = _own_space(scope, label)
    if space is None:
        await pages.send_error(scope, send, 404, NOT_FOUND, _studio_origin(scope, None))
        return
    # The token the proxy adds exempts requests from Jupyter's own XSRF and Origin checks:
    # only the space's own pages may make unsafe requests (not Studio's, not another space's).
    if scope["method"] not in SAFE_METHODS and not same_origin(scope["headers"], ()):
        await http.send_plain(send, 403, CROSS_ORIGIN)
        return
    granted = _granted(scope, space)
    if granted is None:
        await _back_to_studio(scope, send, None)
        return
    key = (granted.session, *space)
    remembered = decisions.get(key)
    target = remembered or await _decide(scope, send, granted, space, key)
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
        target = await _decide(scope, send, granted, space, key)
        if target is None:
            return
        outcome = await _forward(scope, receive, send, target)
    if outcome is http.Outcome.UNREACHABLE:
        # The app may have stopped or moved: the next request asks the database again.
        decisions.drop(key)
        await pages.send_error(scope, send, 502, UNREACHABLE, granted.studio_origin)


def _own_space(scope: Scope, label: str | None) -> tuple[str, str] | None:
    """The space a request on a space host is for, if the host is that space's."""
    space = space_of(scope["path"])
    if label is None or space is None or space_label(*space) != label:
        return None
    return space


def _granted(scope: Scope, space: tuple[str, str]) -> Pass | None:
    """The space cookie's pass, if the browser holds one for this space."""
    value = cookie_value([v for n, v in scope["headers"] if n.lower() == b"cookie"])
    granted = read_space_cookie(value) if value else None
    if granted is None or (granted.domain_id, granted.space_name) != space:
        return None
    return granted


async def _back_to_studio(scope: Scope, send: Send, granted: Pass | None) -> None:
    """No (live) space cookie: the same path on Studio's host, which checks the session (or
    asks to log in) and hands the browser back with a fresh ticket."""
    location = (_studio_origin(scope, granted) + _path_and_query(scope)).encode("latin-1")
    await http.send_plain(send, 302, "Open the space from Studio.", [(b"location", location)])


def _studio_origin(scope: Scope, granted: Pass | None) -> str:
    """Studio's origin as seen from a space's host: the one the pass came from, if any."""
    if granted is not None:
        return granted.studio_origin
    return default_studio_origin(http_scheme(scope), host_header(scope["headers"]))


async def _enter(scope: Scope, send: Send, label: str) -> None:
    """Redeem a ticket: set the space cookie and open the path the ticket names."""
    if scope["method"] not in NAVIGATION:
        await http.send_plain(send, 404, NOT_FOUND)
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    sealed = query.get("ticket", [""])[-1]
    granted = await database_sync_to_async(redeem_ticket)(sealed) if sealed else None
    if (
        granted is None
        or space_label(granted.domain_id, granted.space_name) != label
        or not granted.next.startswith(proxy_prefix(granted.domain_id, granted.space_name))
    ):
        refused = _studio_origin(scope, None)
        await pages.send_error(scope, send, 403, TICKET_REFUSED, refused, HANDOFF_HEADERS)
        return
    decision = await decide(granted.session, granted.domain_id, granted.space_name)
    if not decision.authenticated:
        origin = granted.studio_origin
        await pages.send_error(scope, send, 403, TICKET_REFUSED, origin, HANDOFF_HEADERS)
        return
    if decision.target is None:
        origin = granted.studio_origin
        await pages.send_error(scope, send, 404, NOT_FOUND, origin, HANDOFF_HEADERS)
        return
    cookie = set_cookie_header(
        space_cookie(granted), http_scheme(scope), host_header(scope["headers"])
    )
    await http.send_plain(
        send,
        302,
        "Opening the space.",
        [
            (b"location", granted.next.encode("latin-1")),
            (b"set-cookie", cookie),
            *HANDOFF_HEADERS,
        ],
    )


async def _decide(
    scope: Scope, send: Send, granted: Pass, space: tuple[str, str], key: tuple
) -> ProxyTarget | None:
    """Ask the database where `space`'s server is for the pass's session and remember it; or
    answer the browser (back to Studio, or the same 404 for every refusal) and return None."""
    decision = await decide(granted.session, *space)
    if not decision.authenticated:
        await _back_to_studio(scope, send, granted)
        return None
    if decision.target is None:
        await pages.send_error(scope, send, 404, NOT_FOUND, granted.studio_origin)
        return None
    decisions.put(key, decision.target)
    return decision.target


async def _forward(
    scope: Scope,
    receive: Receive,
    send: Send,
    target: ProxyTarget,
    hold_refusal: bool = False,
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


async def _space_websocket(scope: Scope, receive: Receive, send: Send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    space = _own_space(scope, label_of(host_header(scope["headers"])))
    if space is None:
        await websocket.deny(scope, send, 404, NOT_FOUND.encode(), NOT_FOUND_CLOSE)
        return
    if not same_origin(scope["headers"], ()):
        await websocket.deny(scope, send, 403, CROSS_ORIGIN.encode(), 4403)
        return
    granted = _granted(scope, space)
    decision = (
        await decide(granted.session, *space)
        if granted
        else Decision(authenticated=False, target=None)
    )
    if not decision.authenticated:
        # Accepted only to say why it closes: a client can tell "open it again" from a 404.
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": UNAUTHENTICATED_CLOSE})
        return
    if decision.target is None:
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


def with_notebook_proxy(app: ASGIApp) -> ASGIApp:
    """`app`, with every request to a space's host sent to that space's proxy, and Studio's
    `/jupyter/` paths to the handoff."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
        elif is_space_host(host_header(scope["headers"])):
            await space_host(scope, receive, send)
        elif scope["path"].startswith(PREFIX):
            await studio_handoff(scope, receive, send, app)
        else:
            await app(scope, receive, send)

    return route
