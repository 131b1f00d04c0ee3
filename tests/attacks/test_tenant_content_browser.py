"""A member of a shared space (alice) leaves an HTML file in its home whose script tries to act
as whoever opens it with Studio's session: mint an access key at /keys/ and read /admin/. The
victim (bob, a member of the same space) opens it in Chromium, through the proxy, as a file: it
is served on the space's own host, never Studio's (studio/proxy/origins.py), and sandboxed
there besides, so the script runs in an opaque origin and gets nothing
(studio/proxy/headers.py `confine`)."""

import json

import pytest

from domains.models import AccessKey, SharingType
from domains.services import create_app, create_space
from tests.conftest import settled
from tests.e2e.conftest import page, server_side  # noqa: F401  (Chromium, and the ORM off its loop)
from tests.integration.notebooks import Server, running

pytestmark = pytest.mark.e2e

# What alice's file does in the browser of whoever opens it, and writes down in its own page.
EVIL_SCRIPT = """
(async () => {
  const out = {};
  const attempt = async (name, fn) => {
    try { out[name] = await fn(); } catch (e) { out[name] = 'blocked: ' + e.name; }
  };
  await attempt('cookie', async () => document.cookie);
  await attempt('keys_page', async () => {
    const text = await (await fetch(STUDIO + '/keys/', {credentials: 'include'})).text();
    const token = text.match(/name="csrfmiddlewaretoken" value="([^"]+)"/);
    if (token) out.token = token[1];
    return text.includes('csrfmiddlewaretoken') ? 'READ' : 'no form';
  });
  await attempt('admin_page', async () => {
    const response = await fetch(STUDIO + '/admin/', {credentials: 'include'});
    return 'READ ' + response.status + ' ' + (await response.text()).slice(0, 200);
  });
  const csrf = out.token || ((String(out.cookie).match(/csrftoken=([^;]+)/) || [])[1]) || '';
  await attempt('mint_key', async () => {
    const response = await fetch(STUDIO + '/keys/', {
      method: 'POST', credentials: 'include',
      headers: {'X-CSRFToken': csrf, 'Content-Type': 'application/x-www-form-urlencoded'},
      body: 'csrfmiddlewaretoken=' + encodeURIComponent(csrf),
    });
    return 'SENT ' + response.status;
  });
  // A simple request needs no preflight: it is sent, and must still change nothing.
  await attempt('mint_key_no_cors', async () => {
    await fetch(STUDIO + '/keys/', {
      method: 'POST', mode: 'no-cors', credentials: 'include',
      headers: {'Content-Type': 'application/x-www-form-urlencoded'},
      body: 'csrfmiddlewaretoken=' + encodeURIComponent(csrf),
    });
    return 'sent';
  });
  await attempt('parent', async () => String(window.parent.document.cookie));
  document.getElementById('out').textContent = JSON.stringify(out);
})();
"""


def evil_html(studio: str) -> str:
    script = EVIL_SCRIPT.replace("STUDIO", json.dumps(studio))
    return f'<!doctype html><html><body><pre id="out"></pre><script>{script}</script>'


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
        settled(
            create_space(
                member.user,
                member.domain_id,
                name="shared-lab",
                sharing_type=SharingType.SHARED,
                members=[bob_profile.name],
            )
        )
        app = running(create_app(member.user, member.domain_id, space_name="shared-lab"))
        evil = {"type": "file", "format": "text", "content": evil_html(studio)}
        status, _ = Server(app).request("PUT", "api/contents/evil.html", evil)
        assert status == 201
        return app.space.domain.domain_id, AccessKey.objects.filter(profile=bob_profile).count()

    domain_id, keys_before = server_side(prepare)
    prefix = f"{studio}/jupyter/{domain_id}/shared-lab/"

    page.goto(studio + "/login/?next=/keys/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("bob-pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(studio + "/keys/")
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
