"""Space host names and the sealed handoff (studio/web/proxy/origins.py, handoff.py), without I/O
(ticket redemption, which claims a nonce in Redis, is proved against the live server in
tests/attacks/test_space_origin_attacks.py)."""

import time

import pytest
from django.conf import settings

from studio.core import crypto
from studio.web.proxy import handoff
from studio.web.proxy.origins import is_space_host, label_of, space_label, space_origin, studio_host

PASS = handoff.Pass("session-key", "d-abc", "lab", "http://localhost:8000")


def test_a_label_is_a_short_dns_label_of_its_own_per_space():
    label = space_label("d-abc", "lab")
    assert label == space_label("d-abc", "lab")
    assert len(label) <= 63 and label.startswith("sp-") and label.isascii()
    assert label != space_label("d-abc", "lab2") != space_label("d-abd", "lab")
    assert (
        space_origin("http", "127.0.0.1:8000", "d-abc", "lab") == f"http://{label}.localhost:8000"
    )


@pytest.mark.parametrize(
    "host, space, studio",
    [
        ("sp-0123456789abcdef0123.localhost:8000", True, False),
        ("SP-0123456789ABCDEF0123.LOCALHOST.", True, False),
        ("anything.localhost", True, False),
        ("a.b.localhost", True, False),
        ("localhost:8000", False, True),
        ("127.0.0.1:8000", False, True),
        ("evil.example.net", False, False),
    ],
)
def test_every_name_under_the_spaces_domain_is_a_space_host_never_studios(host, space, studio):
    assert is_space_host(host) is space
    assert studio_host(host) is studio


def test_only_a_well_formed_label_names_a_space():
    assert label_of("sp-0123456789abcdef0123.localhost:1") == "sp-0123456789abcdef0123"
    assert label_of("anything.localhost") is None
    assert label_of("x.sp-0123456789abcdef0123.localhost") is None


def test_a_cookie_is_not_a_ticket_and_a_ticket_is_not_a_cookie():
    cookie = handoff.space_cookie(PASS)
    assert handoff.read_space_cookie(cookie) == PASS
    assert handoff._open(handoff.TICKET, cookie, 60) is None
    ticket = handoff.mint_ticket("session-key", "d-abc", "lab", "http://localhost:8000", "/x")
    assert handoff.read_space_cookie(ticket) is None


def test_altered_and_expired_passes_are_refused():
    cookie = handoff.space_cookie(PASS)
    assert handoff.read_space_cookie(cookie[:-4] + "AAAA") is None
    assert handoff.read_space_cookie("not-a-pass") is None
    fernet = crypto.fernet(handoff.PURPOSE)
    old = fernet.encrypt_at_time(
        fernet.decrypt(cookie.encode()), int(time.time()) - settings.SESSION_COOKIE_AGE - 5
    )
    assert handoff.read_space_cookie(old.decode()) is None


def test_the_space_cookie_is_host_only_httponly_and_partitioned_where_browsers_allow():
    local = handoff.set_cookie_header("v", "http", "sp-1.localhost:8000").decode()
    assert local == "studio_space=v; Path=/; HttpOnly; SameSite=None; Secure; Partitioned"
    tls = handoff.set_cookie_header("v", "https", "sp-1.spaces.example.com").decode()
    assert tls.endswith("SameSite=None; Secure; Partitioned")
    plain = handoff.set_cookie_header("v", "http", "sp-1.spaces.example.com").decode()
    assert plain.endswith("HttpOnly; SameSite=Lax") and "domain" not in plain.lower()


def test_the_space_cookie_is_read_as_the_browser_sent_it():
    assert handoff.cookie_value([b"a=1; studio_space=x", b"studio_space=y"]) == "y"
    assert handoff.cookie_value([b"sessionid=s"]) is None
