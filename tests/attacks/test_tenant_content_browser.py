"""A member of a shared space (alice) leaves an HTML file in its home whose script tries to act
as whoever opens it with Studio's session: mint an access key at /keys/ and read /admin/. The
victim (bob, a member of the same space) opens it in Chromium, through the proxy, as a file: it
is served on the space's own host, never Studio's (studio/web/proxy/origins.py), and sandboxed
there besides, so the script runs in an opaque origin and gets nothing
(studio/web/proxy/headers.py `confine`)."""

import json

import pytest

from domains.models import AccessKey
from tests.attacks.browser_attack import evil_html, log_in, shared_space
from tests.e2e.conftest import page, server_side  # noqa: F401  (Chromium, and the ORM off its loop)
from tests.integration.notebooks import Server

pytestmark = pytest.mark.e2e


def report(frame) -> dict:
    frame.wait_for_function("document.getElementById('out').textContent !== ''", timeout=30_000)
    return json.loads(frame.locator("#out").text_content())


def assert_got_nothing(out: dict) -> None:
    assert out["cookie"].startswith("blocked"), out  # an opaque origin has no cookies
    assert out["keys_page"].startswith("blocked"), out
    assert out["admin_page"].startswith("blocked"), out
    assert out["mint_key"].startswith("blocked"), out
    assert out["parent"].startswith("blocked"), out
    assert "token" not in out, out


def test_a_shared_spaces_html_file_cannot_act_with_the_viewers_session(
    jupyter,
    member,
    bob,
    bob_profile,
    canaries,
    asgi_server,
    server_side,  # noqa: F811
    page,  # noqa: F811
):
    studio = asgi_server.replace("127.0.0.1", "localhost")

    def prepare() -> tuple[str, int]:
        app = shared_space(member, bob_profile)
        evil = {"type": "file", "format": "text", "content": evil_html(studio)}
        status, _ = Server(app).request("PUT", "api/contents/evil.html", evil)
        assert status == 201
        return app.space.domain.domain_id, AccessKey.objects.filter(profile=bob_profile).count()

    domain_id, keys_before = server_side(prepare)
    prefix = f"{studio}/jupyter/{domain_id}/shared-lab/"

    log_in(page, studio, "bob", "bob-pass-1")
    # The control: the same requests from one of Studio's own pages do read /keys/.
    assert "csrfmiddlewaretoken" in page.evaluate(
        "async () => (await fetch('/keys/', {credentials: 'include'})).text()"
    )

    # Opened as a file (JupyterLab's "Open in New Browser Tab"): Studio's host hands it over
    # to the space's own host, where it is served, sandboxed.
    response = page.goto(prefix + "files/evil.html")
    assert response.status == 200
    assert response.url.startswith("http://sp-") and "/files/evil.html" in response.url
    assert "sandbox allow-scripts" in response.headers["content-security-policy"]
    out = report(page.main_frame)
    assert_got_nothing(out)
    # jupyter_server's viewer page is the server's too, and as sandboxed: it has no cookies,
    # so the file it frames does not even load with the viewer's session.
    page.goto(prefix + "view/evil.html")
    cookie = "() => { try { return document.cookie } catch (e) { return e.name } }"
    assert page.evaluate(cookie) == "SecurityError"

    def keys_after() -> int:
        return AccessKey.objects.filter(profile=bob_profile).count()

    assert server_side(keys_after) == keys_before, "the file minted a key as the viewer"
    canaries.assert_absent(json.dumps(out))
