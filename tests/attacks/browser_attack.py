"""What the browser attack tests share: the attacker's script, a shared space with a running
app, and a Chromium login."""

import json

from domains.models import SharingType
from domains.services import create_app, create_space
from tests.conftest import settled
from tests.integration.notebooks import running

# Any script a tenant gets to run in another member's browser (a trusted notebook's JavaScript
# output, the page of a server a member replaced, an HTML file in a shared home) trying to act
# in Studio with the viewer's session. Each attempt records what it got, or "blocked: <error>".
EVIL_SCRIPT = """
async (studio) => {
  const out = {};
  const attempt = async (name, fn) => {
    try { out[name] = await fn(); } catch (e) { out[name] = 'blocked: ' + e.name; }
  };
  await attempt('cookie', async () => document.cookie);
  await attempt('keys_page', async () => {
    const text = await (await fetch(studio + '/keys/', {credentials: 'include'})).text();
    const token = text.match(/name="csrfmiddlewaretoken" value="([^"]+)"/);
    if (token) out.token = token[1];
    return 'READ ' + text.slice(0, 200);
  });
  await attempt('admin_page', async () => {
    const response = await fetch(studio + '/admin/', {credentials: 'include'});
    return 'READ ' + response.status + ' ' + (await response.text()).slice(0, 200);
  });
  const csrf = out.token || ((String(out.cookie).match(/csrftoken=([^;]+)/) || [])[1]) || '';
  await attempt('mint_key', async () => {
    const response = await fetch(studio + '/keys/', {
      method: 'POST', credentials: 'include',
      headers: {'X-CSRFToken': csrf, 'Content-Type': 'application/x-www-form-urlencoded'},
      body: 'csrfmiddlewaretoken=' + encodeURIComponent(csrf),
    });
    return 'SENT ' + response.status;
  });
  // A simple request needs no preflight: it is sent, and must still change nothing.
  await attempt('mint_key_no_cors', async () => {
    await fetch(studio + '/keys/', {
      method: 'POST', mode: 'no-cors', credentials: 'include',
      headers: {'Content-Type': 'application/x-www-form-urlencoded'},
      body: 'csrfmiddlewaretoken=' + encodeURIComponent(csrf),
    });
    return 'sent';
  });
  await attempt('opener', async () => String(window.opener && window.opener.location.href));
  await attempt('parent', async () => String(window.parent.document.cookie));
  await attempt('studio_frame', async () => {
    const frame = document.createElement('iframe');
    frame.src = studio + '/keys/';
    document.body.appendChild(frame);
    await new Promise((resolve) => { frame.onload = resolve; setTimeout(resolve, 5000); });
    return 'READ ' + frame.contentWindow.document.body.innerHTML.slice(0, 200);
  });
  return out;
}
"""


def evil_html(studio: str) -> str:
    """An HTML file that runs EVIL_SCRIPT against `studio` and writes what it got in #out."""
    run = f"({EVIL_SCRIPT.strip()})({json.dumps(studio)})"
    report = "document.getElementById('out').textContent = JSON.stringify(out)"
    return (
        '<!doctype html><html><body><pre id="out"></pre>'
        f"<script>{run}.then((out) => {{ {report}; }});</script>"
    )


def shared_space(member, bob_profile, name: str = "shared-lab"):
    settled(
        create_space(
            member.user,
            member.domain_id,
            name=name,
            sharing_type=SharingType.SHARED,
            members=[bob_profile.name],
        )
    )
    return running(create_app(member.user, member.domain_id, space_name=name))


def log_in(page, studio: str, user: str, password: str) -> None:
    page.goto(studio + "/login/?next=/keys/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(studio + "/keys/")
