"""What the notebook proxy lets through in each direction, and how it masks the token."""

from studio.web.proxy import space_of
from studio.web.proxy.headers import (
    FRAME_ANCESTORS,
    request_headers,
    response_headers,
    same_origin,
    scope_cookie,
    strip_token,
)
from studio.web.proxy.scrub import TokenScrubber

STUDIO_COOKIES = frozenset({"sessionid", "csrftoken"})
PREFIX = "/jupyter/d-abc/alice/"
TOKEN = "0123456789abcdef0123456789abcdef"


def names(headers: list[tuple[bytes, bytes]]) -> list[bytes]:
    return [n.lower() for n, _ in headers]


def value(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    found = [v for n, v in headers if n.lower() == name]
    assert len(found) <= 1, f"{name!r} appears {len(found)} times"
    return found[0] if found else None


def forwarded(headers: list[tuple[bytes, bytes]], **kwargs) -> list[tuple[bytes, bytes]]:
    options = {
        "token": TOKEN,
        "client_host": "10.0.0.7",
        "scheme": "https",
        "studio_cookies": STUDIO_COOKIES,
    }
    return request_headers(headers, **{**options, **kwargs})


def test_request_hop_by_hop_headers_are_dropped():
    out = forwarded(
        [
            (b"Connection", b"keep-alive, X-Custom-Hop"),
            (b"Keep-Alive", b"timeout=5"),
            (b"Proxy-Authorization", b"Basic Zm9vOmJhcg=="),
            (b"Proxy-Connection", b"keep-alive"),
            (b"TE", b"trailers"),
            (b"Trailer", b"Expires"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Upgrade", b"h2c"),
            (b"X-Custom-Hop", b"named by Connection"),
            (b"Content-Type", b"application/json"),
            (b"Content-Length", b"12"),
        ]
    )
    hop = {
        b"connection",
        b"keep-alive",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"x-custom-hop",
    }
    assert not hop & set(names(out))
    assert value(out, b"content-type") == b"application/json"
    assert value(out, b"content-length") == b"12"


def test_the_clients_authorization_is_replaced_by_the_servers_token():
    out = forwarded([(b"Authorization", b"token someone-elses-token")])
    assert value(out, b"authorization") == f"token {TOKEN}".encode()


def test_host_is_rewritten_and_the_original_forwarded():
    out = forwarded([(b"host", b"studio.example.com"), (b"x-forwarded-for", b"192.0.2.1")])
    assert value(out, b"host") == b"localhost"
    assert value(out, b"x-forwarded-host") == b"studio.example.com"
    assert value(out, b"x-forwarded-for") == b"192.0.2.1, 10.0.0.7"
    assert value(out, b"x-forwarded-proto") == b"https"


def test_websocket_schemes_forward_as_http_protos():
    assert value(forwarded([], scheme="wss"), b"x-forwarded-proto") == b"https"
    assert value(forwarded([], scheme="ws"), b"x-forwarded-proto") == b"http"


def test_studio_cookies_never_reach_the_server_but_jupyters_do():
    out = forwarded(
        [(b"cookie", b"sessionid=secret; _xsrf=2|abc|def|1"), (b"cookie", b"csrftoken=c; x=1")]
    )
    assert value(out, b"cookie") == b"_xsrf=2|abc|def|1; x=1"
    assert b"cookie" not in names(forwarded([(b"cookie", b"sessionid=secret")]))


def test_responses_are_asked_for_uncompressed():
    assert value(forwarded([(b"accept-encoding", b"gzip, br")]), b"accept-encoding") == (
        b"identity"
    )


def test_token_query_parameter_is_stripped():
    assert strip_token(b"token=abc&session_id=1&x=") == b"session_id=1&x="
    assert strip_token(b"reset&token=abc&a=%2F") == b"reset&a=%2F"
    assert strip_token(b"%74oken=abc&tokens=1") == b"tokens=1"
    assert strip_token(b"token=abc") == b""
    assert strip_token(b"path=a%2Fb") == b"path=a%2Fb"  # untouched when there is no token


def test_response_hop_by_hop_headers_are_dropped():
    out = response_headers(
        [
            (b"Connection", b"close, X-Hop"),
            (b"Keep-Alive", b"timeout=5"),
            (b"Proxy-Authenticate", b"Basic"),
            (b"Trailer", b"Expires"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Upgrade", b"websocket"),
            (b"X-Hop", b"1"),
            (b"Content-Type", b"application/json"),
        ],
        prefix=PREFIX,
        studio_cookies=STUDIO_COOKIES,
    )
    assert names(out) == [b"content-type"]


def test_html_responses_may_only_be_framed_by_studio():
    jupyter_csp = b"frame-ancestors 'self'; report-uri /jupyter/d-abc/alice/api/security/csp"
    out = response_headers(
        [(b"Content-Type", b"text/html; charset=UTF-8"), (b"Content-Security-Policy", jupyter_csp)],
        prefix=PREFIX,
        studio_cookies=STUDIO_COOKIES,
    )
    assert value(out, b"content-security-policy") == FRAME_ANCESTORS


def test_non_html_responses_keep_their_policy():
    out = response_headers(
        [(b"Content-Type", b"application/json"), (b"Content-Security-Policy", b"default-src x")],
        prefix=PREFIX,
        studio_cookies=STUDIO_COOKIES,
    )
    assert value(out, b"content-security-policy") == b"default-src x"


def test_server_cookies_stay_under_the_spaces_prefix():
    assert scope_cookie(
        b"_xsrf=v; Path=/jupyter/d-abc/alice/; Expires=x", PREFIX, STUDIO_COOKIES
    ) == (b"_xsrf=v; Path=/jupyter/d-abc/alice/; Expires=x")
    assert scope_cookie(b"a=1; Path=/; Domain=example.com; HttpOnly", PREFIX, STUDIO_COOKIES) == (
        b"a=1; Path=/jupyter/d-abc/alice/; HttpOnly"
    )
    assert scope_cookie(b"a=1", PREFIX, STUDIO_COOKIES) == b"a=1; Path=/jupyter/d-abc/alice/"
    # Another space's prefix is not under this one.
    assert scope_cookie(b"a=1; Path=/jupyter/d-abc/bob/", PREFIX, STUDIO_COOKIES) == (
        b"a=1; Path=/jupyter/d-abc/alice/"
    )


def test_a_server_cannot_set_studios_own_cookies():
    assert scope_cookie(b"sessionid=forged; Path=/", PREFIX, STUDIO_COOKIES) is None
    out = response_headers(
        [(b"Set-Cookie", b"sessionid=forged"), (b"Set-Cookie", b"_xsrf=ok")],
        prefix=PREFIX,
        studio_cookies=STUDIO_COOKIES,
    )
    assert out == [(b"Set-Cookie", b"_xsrf=ok; Path=/jupyter/d-abc/alice/")]


def test_same_origin_requests_and_requests_without_origin_pass():
    host = (b"host", b"studio.example.com:8000")
    assert same_origin([host], [])
    assert same_origin([host, (b"origin", b"https://studio.example.com:8000")], [])
    assert same_origin([host, (b"origin", b"https://app.example.com")], ["https://app.example.com"])
    assert not same_origin([host, (b"origin", b"https://evil.example.net")], [])
    assert not same_origin([host, (b"origin", b"null")], [])


def test_token_is_masked_in_one_chunk_with_its_length_kept():
    body = f'{{"token": "{TOKEN}", "other": 1}}'.encode()
    scrubber = TokenScrubber(TOKEN)
    out = scrubber.feed(body) + scrubber.flush()
    assert TOKEN.encode() not in out
    assert len(out) == len(body)


def test_token_split_across_chunks_is_masked():
    body = f"<script>{{'token': '{TOKEN}'}}</script>".encode() * 3
    for size in (1, 5, 31, 32, 33, 64):
        scrubber = TokenScrubber(TOKEN)
        out = b"".join(scrubber.feed(body[i : i + size]) for i in range(0, len(body), size))
        out += scrubber.flush()
        assert TOKEN.encode() not in out, size
        assert len(out) == len(body)


def test_scrubber_holds_back_only_what_could_begin_the_token():
    scrubber = TokenScrubber(TOKEN)
    assert scrubber.feed(b"hello world") == b"hello world"
    assert scrubber.feed(b"ends with 0123") == b"ends with "
    assert scrubber.feed(b"X") == b"0123X"
    assert scrubber.flush() == b""


def test_paths_name_a_domain_and_a_space():
    assert space_of("/jupyter/d-abc/alice/lab") == ("d-abc", "alice")
    assert space_of("/jupyter/d-abc/alice/") == ("d-abc", "alice")
    assert space_of("/jupyter/d-abc/alice") == ("d-abc", "alice")
    assert space_of("/jupyter/d-abc/") is None
    assert space_of("/jupyter/") is None


def test_recent_decisions_are_reused_until_they_expire(monkeypatch):
    from pathlib import Path

    from domains.notebooks.access import ProxyTarget
    from studio.web.proxy import access

    clock = [100.0]
    monkeypatch.setattr(access.time, "monotonic", lambda: clock[0])
    cache = access.DecisionCache(ttl=5, max_entries=2)
    target = ProxyTarget(socket=Path("/run/s"), token=TOKEN, prefix=PREFIX)
    key = ("session", "d-abc", "alice")
    assert cache.get(key) is None
    cache.put(key, target)
    assert cache.get(key) is target
    clock[0] += 5
    assert cache.get(key) is None
    cache.put(key, target)
    cache.drop(key)
    assert cache.get(key) is None
    # Bounded: old entries go first, then everything if all are fresh.
    for n in range(3):
        cache.put((str(n), "d", "s"), target)
    assert len(cache.entries) <= 2
