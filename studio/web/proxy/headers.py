"""What crosses the proxy in each direction: header and query filtering, with no I/O.

Requests lose what belongs to the hop or to Studio (its session and CSRF cookies, the
client's own Authorization) and gain the server's token; responses lose hop-by-hop headers,
keep their cookies inside the space's prefix, and HTML may only be framed by the space's own
pages (it is served on the space's own origin: 'self' is the space, never Studio). Everything
but JupyterLab's own page is sandboxed too (`confine`), as defence in depth: what a space serves
is its users' content, and a file must not act even with the space's origin.
"""

import re
from collections.abc import Iterable
from urllib.parse import unquote_plus

Headers = list[tuple[bytes, bytes]]

# RFC 9110 §7.6.1, plus the Proxy-* family: they describe one connection, not the message.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)

# Set by the proxy from the connection it is on: a client's own values would be believed.
REPLACED_REQUEST = frozenset(
    {
        b"host",
        b"authorization",
        b"cookie",
        b"accept-encoding",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
    }
)

FRAME_ANCESTORS = b"frame-ancestors 'self'"
# What jupyter_server itself sends for /files/ and /nbconvert/: scripts may run, in an opaque
# origin of their own (no allow-same-origin): they cannot read Studio's pages, use its cookies,
# open windows, submit forms or navigate the page that frames them.
SANDBOX = b"sandbox allow-scripts"
# The JupyterLab application's pages, as jupyterlab_server routes them (its
# MASTER_URL_PATTERN, matched whole, as tornado does, against the path as sent): the only
# documents a space serves that run with the space's origin.
APPLICATION_PAGE = re.compile(r"(lab|doc)(/workspaces/[a-zA-Z0-9\-_]+)?(/tree/.*)?")


def hop_by_hop(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The fixed hop-by-hop names plus any the message names in its Connection header."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return HOP_BY_HOP | named


def strip_token(query_string: bytes) -> bytes:
    """The query without `token`, otherwise byte for byte as sent: a token the browser
    offers is never the one used."""
    if b"token" not in query_string.lower():
        return query_string
    kept = [
        part
        for part in query_string.split(b"&")
        if unquote_plus(part.split(b"=", 1)[0].decode("latin-1")) != "token"
    ]
    return b"&".join(kept)


def forward_cookies(values: Iterable[bytes], studio_cookies: frozenset[str]) -> bytes:
    """The browser's cookies minus Studio's own: the space's server (which its users can
    replace with their own code) must never see another member's Studio session."""
    kept = []
    for value in values:
        for part in value.split(b";"):
            part = part.strip()
            name = part.split(b"=", 1)[0].strip().decode("latin-1")
            if part and name not in studio_cookies:
                kept.append(part)
    return b"; ".join(kept)


def request_headers(
    headers: Iterable[tuple[bytes, bytes]],
    *,
    token: str,
    client_host: str | None,
    scheme: str,
    studio_cookies: frozenset[str],
) -> Headers:
    """Headers to send upstream for a browser request that arrived with `headers`."""
    headers = list(headers)
    drop = hop_by_hop(headers) | REPLACED_REQUEST
    out: Headers = [(name, value) for name, value in headers if name.lower() not in drop]
    original_host = next((v for n, v in headers if n.lower() == b"host"), b"")
    # Jupyter only answers Host names it thinks are local (allow_remote_access is off).
    out.append((b"host", b"localhost"))
    out.append((b"authorization", b"token " + token.encode()))
    cookies = forward_cookies((v for n, v in headers if n.lower() == b"cookie"), studio_cookies)
    if cookies:
        out.append((b"cookie", cookies))
    # Bodies must arrive uncompressed so the token scrubber can see them; on a Unix socket
    # compression saves nothing (and Jupyter does not compress by default anyway).
    out.append((b"accept-encoding", b"identity"))
    forwarded_for = [v for n, v in headers if n.lower() == b"x-forwarded-for"]
    if client_host:
        forwarded_for.append(client_host.encode())
    if forwarded_for:
        out.append((b"x-forwarded-for", b", ".join(forwarded_for)))
    if original_host:
        out.append((b"x-forwarded-host", original_host))
    out.append((b"x-forwarded-proto", b"https" if scheme in ("https", "wss") else b"http"))
    return out


def scope_cookie(value: bytes, prefix: str, studio_cookies: frozenset[str]) -> bytes | None:
    """A Set-Cookie from the server, confined to the space's prefix on this host; None when
    it would set one of Studio's own cookies."""
    parts = [p.strip() for p in value.split(b";")]
    name = parts[0].split(b"=", 1)[0].strip().decode("latin-1")
    if name in studio_cookies:
        return None
    attributes = []
    path = None
    for part in parts[1:]:
        key, _, val = part.partition(b"=")
        key = key.strip().lower()
        if key == b"domain":
            continue  # host-only: a space never sets cookies for a parent domain
        if key == b"path":
            path = val.strip().decode("latin-1")
            continue
        attributes.append(part)
    if path is None or not path.startswith(prefix):
        path = prefix
    return b"; ".join([parts[0], b"Path=" + path.encode("latin-1"), *attributes])


def response_headers(
    headers: Iterable[tuple[bytes, bytes]],
    *,
    prefix: str,
    studio_cookies: frozenset[str],
) -> Headers:
    """Headers to send the browser for a server response that arrived with `headers`."""
    headers = list(headers)
    drop = hop_by_hop(headers)
    html = any(
        n.lower() == b"content-type" and v.lower().startswith(b"text/html") for n, v in headers
    )
    out: Headers = []
    for name, value in headers:
        lname = name.lower()
        if lname in drop:
            continue
        if lname == b"content-security-policy" and html:
            continue
        if lname == b"set-cookie":
            scoped = scope_cookie(value, prefix, studio_cookies)
            if scoped is not None:
                out.append((name, scoped))
            continue
        out.append((name, value))
    if html:
        # JupyterLab runs in a tab of its own: only the space's own pages may frame its pages.
        out.append((b"content-security-policy", FRAME_ANCESTORS))
    return out


def confine(raw_path: bytes, prefix: str) -> Headers:
    """The headers that keep a response of the space's server from acting with an origin:
    a `sandbox` policy on everything but JupyterLab's application page (files, /view/,
    /nbconvert/, kernel spec resources, extension assets, API answers, error pages: a policy
    only matters for what a browser renders as a document, and the server, which a space's
    users can replace, decides nothing here), and no content sniffing. Added beside whatever
    policy the server sent: a browser enforces every policy it gets, so a server can only add
    restrictions."""
    out: Headers = [(b"x-content-type-options", b"nosniff")]
    path = raw_path.decode("latin-1")
    page = path.startswith(prefix) and APPLICATION_PAGE.fullmatch(path[len(prefix) :])
    if not page:
        out.append((b"content-security-policy", FRAME_ANCESTORS + b"; " + SANDBOX))
    return out


def same_origin(headers: Iterable[tuple[bytes, bytes]], trusted: Iterable[str]) -> bool:
    """Whether a browser request comes from a Studio page (or from no browser page at all).

    The token the proxy adds exempts requests from Jupyter's own XSRF and Origin checks, so
    the proxy makes the Origin check itself, as Django's CSRF middleware does: another site
    must not drive a user's kernels with that user's session cookie."""
    origin = host = None
    for name, value in headers:
        name = name.lower()
        if name == b"origin":
            origin = value.decode("latin-1").strip().lower()
        elif name == b"host":
            host = value.decode("latin-1").strip().lower()
    if origin is None:
        return True
    if origin in {o.lower() for o in trusted}:
        return True
    _, sep, netloc = origin.partition("://")
    return bool(sep) and host is not None and netloc == host
