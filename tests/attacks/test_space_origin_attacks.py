"""Each space is served on an origin of its own (studio/web/proxy/origins.py, handoff.py): whatever
runs in JupyterLab's page (a trusted output, a replaced server's page) has the space's origin,
not Studio's. In a SHARED space alice (the attacker) runs script in bob's JupyterLab page and
tries to act in Studio as bob; she replays, forges and moves tickets and space cookies; and
Studio's own host serves nothing of a space. On both runtimes, against the live server."""

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from domains.models import AccessKey
from domains.notebooks.access import proxy_prefix
from domains.services import create_app, create_space
from studio.core import crypto
from studio.web.proxy import handoff as tickets
from tests.attacks.browser_attack import EVIL_SCRIPT, log_in, shared_space
from tests.conftest import settled
from tests.e2e.conftest import page, server_side  # noqa: F401  (Chromium, and the ORM off its loop)
from tests.integration.notebooks import (
    enter,
    handoff,
    open_space,
    running,
    space_client,
    studio_session,
)

pytestmark = pytest.mark.e2e


def test_script_in_a_shared_spaces_jupyterlab_cannot_act_in_studio_as_the_viewer(
    jupyter,
    member,
    bob,
    bob_profile,
    canaries,
    asgi_server,
    server_side,  # noqa: F811
    page,  # noqa: F811
):
    from playwright.sync_api import expect

    def prepare() -> str:
        app = shared_space(member, bob_profile)
        bob.is_staff = bob.is_superuser = True  # the worst case: the viewer is an admin
        bob.save(update_fields=["is_staff", "is_superuser"])
        return app.space.domain.domain_id

    def keys() -> int:
        return AccessKey.objects.filter(profile=bob_profile).count()

    domain_id = server_side(prepare)
    studio = asgi_server.replace("127.0.0.1", "localhost")
    log_in(page, studio, "bob", "bob-pass-1")
    # The control: the very same script on one of Studio's own pages reads /keys/ and /admin/.
    control = page.evaluate(EVIL_SCRIPT, studio)
    assert control["keys_page"].startswith("READ") and "token" in control, control
    assert control["admin_page"].startswith("READ 200"), control
    assert server_side(keys) > 0  # ... and mints keys
    keys_before = server_side(keys)

    page.goto(f"{studio}/spaces/shared-lab/")
    with page.context.expect_page() as opened:
        page.locator("#open-lab-tab").click()
    lab = opened.value
    expect(lab.locator(".jp-LauncherCard").first).to_be_visible(timeout=60_000)
    space_host = urlsplit(lab.url).netloc
    assert space_host.startswith("sp-") and space_host.endswith(
        f".localhost:{urlsplit(studio).port}"
    )
    assert urlsplit(lab.url).path.startswith(proxy_prefix(domain_id, "shared-lab"))

    out = lab.evaluate(EVIL_SCRIPT, studio)
    # Cross-origin: Studio's pages are not readable, its cookies are not sent (host-only,
    # SameSite=Lax, another site), so neither form nor token is ever seen.
    assert "sessionid" not in out["cookie"] and "csrftoken" not in out["cookie"], out
    assert out["keys_page"].startswith("blocked"), out
    assert out["admin_page"].startswith("blocked"), out
    assert out["mint_key"].startswith("blocked"), out
    assert out["opener"] == "null", out  # the tab was opened with noopener
    assert out["studio_frame"].startswith("blocked"), out  # framed or not, another origin
    assert "token" not in out, out

    assert server_side(keys) == keys_before, "the script minted a key as the viewer"
    canaries.assert_absent(json.dumps(out))


def expired(ticket: str) -> str:
    """The same ticket as if it had been minted a moment past its life."""
    fernet = crypto.fernet(tickets.PURPOSE)
    body = fernet.decrypt(ticket.encode())
    return fernet.encrypt_at_time(body, int(time.time()) - tickets.TICKET_TTL_S - 5).decode()


def ticket_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["ticket"][0]


def with_ticket(location: str, ticket: str) -> str:
    url = urlsplit(location)
    return f"http://{url.netloc}{url.path}?ticket={ticket}"


def test_tickets_replayed_expired_forged_or_moved_to_another_space_are_refused(
    jupyter, member, alice, bob, bob_profile, canaries, asgi_server
):
    shared = shared_space(member, bob_profile)
    settled(create_space(bob, member.domain_id, name="bob-private"))
    private = running(create_app(bob, member.domain_id, space_name="bob-private"))
    domain_id = member.domain_id
    shared_prefix = proxy_prefix(domain_id, shared.space.name)
    private_prefix = proxy_prefix(domain_id, private.space.name)
    alice_session = studio_session(alice)

    handed = handoff(asgi_server, alice_session, shared_prefix + "lab")
    assert handed.status_code == 302
    location = handed.headers["location"]
    first = enter(asgi_server, location)
    assert first.status_code == 302  # the control: the ticket opens the space once
    replayed = enter(asgi_server, location)

    stale = handoff(asgi_server, alice_session, shared_prefix + "lab").headers["location"]
    late = enter(asgi_server, with_ticket(stale, expired(ticket_of(stale))))

    # bob's private space: alice gets no ticket for it, and hers for the shared space does
    # not open it (a ticket is for the host of the space it names).
    for_private = handoff(asgi_server, alice_session, private_prefix + "lab")
    bob_session = studio_session(bob)
    bobs = handoff(asgi_server, bob_session, private_prefix + "lab").headers["location"]
    fresh = ticket_of(
        handoff(asgi_server, alice_session, shared_prefix + "lab").headers["location"]
    )
    moved = enter(asgi_server, with_ticket(bobs, fresh))

    forged_ticket = ticket_of(bobs)
    forged = [
        enter(asgi_server, with_ticket(bobs, forged_ticket[:-6] + "AAAAAA")),
        enter(asgi_server, with_ticket(bobs, "gAAAAAB" + "A" * 120)),
        enter(asgi_server, with_ticket(bobs, "")),
    ]
    # A ticket whose Studio session has ended (bob logged out) opens nothing.
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key=bob_session).delete()
    logged_out = enter(asgi_server, bobs)

    assert for_private.status_code == 404
    for refused in (replayed, late, moved, *forged, logged_out):
        assert refused.status_code == 403, refused.request.url
        assert "set-cookie" not in refused.headers
        canaries.assert_absent(refused.text, refused.headers)


def test_a_space_cookie_does_not_open_another_members_private_space(
    jupyter, member, alice, bob, bob_profile, canaries, asgi_server
):
    shared = shared_space(member, bob_profile)
    settled(create_space(bob, member.domain_id, name="bob-private"))
    private = running(create_app(bob, member.domain_id, space_name="bob-private"))
    domain_id = member.domain_id
    shared_host, alice_cookie = open_space(
        asgi_server, studio_session(alice), domain_id, shared.space.name
    )
    private_host, _ = open_space(asgi_server, studio_session(bob), domain_id, private.space.name)
    private_prefix = proxy_prefix(domain_id, private.space.name)
    shared_prefix = proxy_prefix(domain_id, shared.space.name)

    answers = []
    # Her cookie on bob's host, for bob's paths: it is not that space's cookie.
    with space_client(asgi_server, private_host, alice_cookie) as client:
        answers.append(client.get(f"{private_prefix}api/contents"))
        answers.append(client.get(f"{private_prefix}lab"))
    # Her cookie on her own space's host, asking for bob's paths: the host serves its own only.
    with space_client(asgi_server, shared_host, alice_cookie) as client:
        answers.append(client.get(f"{private_prefix}api/contents"))
        control = client.get(f"{shared_prefix}api/contents")
    assert control.status_code == 200  # the control: the cookie works where it belongs
    assert answers[0].status_code == answers[1].status_code == 302  # back to Studio, to log in
    assert answers[2].status_code == 404
    for answer in answers:
        assert "content" not in answer.text
        canaries.assert_absent(answer.text, answer.headers)


def test_studios_host_serves_nothing_of_a_space(
    jupyter, member, alice, bob_profile, canaries, asgi_server
):
    shared = shared_space(member, bob_profile)
    prefix = proxy_prefix(member.domain_id, shared.space.name)
    session = studio_session(alice)
    answers = [
        handoff(asgi_server, session, prefix + path)
        for path in ("lab", "files/x.html", "api/contents", "view/x.html", "static/lab/x.js")
    ]
    for answer in answers:
        # Only ever a redirect to the space's own host: no byte of the space on Studio's.
        assert answer.status_code == 302
        assert urlsplit(answer.headers["location"]).netloc.startswith("sp-")
        assert answer.text == "Opening the space."
        canaries.assert_absent(answer.text, answer.headers)
