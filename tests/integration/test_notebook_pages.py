"""What a person at a browser meets around a notebook, with a real JupyterLab server (the
studio/jupyter image) behind the proxy: the proxy's refusals are Studio pages for a browser's
navigation (JupyterLab's own requests keep the short text), and the image's JupyterLab neither
asks about "official Jupyter news" nor checks for updates."""

import re
from urllib.parse import urlsplit

import httpx

from tests.conftest import wait_for
from tests.e2e.conftest import asgi_server  # noqa: F401  (the live server fixture)
from tests.integration.notebooks import handoff, space_client, studio_session
from tests.integration.test_notebook_proxy import (  # noqa: F401  (fixtures)
    NOT_FOUND,
    _answers,
    docker_client,
    notebook,
    opened,
)

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
NOTIFICATION_SETTINGS = "@jupyterlab/apputils-extension:notification"


def assert_studio_page(response: httpx.Response, status: int, title: str, studio: str) -> str:
    """A standalone Studio page on the space's host: styled and linked from Studio's origin."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert f"<h1>{title}</h1>" in page
    assert f'<link rel="stylesheet" href="{studio}/static/studio/studio.css">' in page
    assert f'href="{studio}/spaces/"' in page
    return page


def test_jupyterlab_in_the_image_does_not_ask_about_news_or_check_for_updates(
    asgi_server,  # noqa: F811
    notebook,  # noqa: F811
    alice,
):
    with space_client(asgi_server, *opened(asgi_server, notebook, alice)) as client:
        response = client.get(f"{notebook.prefix}lab/api/settings/{NOTIFICATION_SETTINGS}")
    assert response.status_code == 200, response.text[:300]
    answer = response.json()
    # The image's overrides.json replaces the defaults (JupyterLab's own are "none", which asks
    # on first open, and true), and a new user has set nothing over them.
    defaults = {name: prop["default"] for name, prop in answer["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false"
    assert defaults["checkForUpdates"] is False
    assert answer["settings"] == {}


def test_a_browser_on_the_space_host_gets_studio_pages_for_refusals(
    asgi_server,  # noqa: F811
    notebook,  # noqa: F811
    alice,
):
    host, cookie = opened(asgi_server, notebook, alice)
    port = urlsplit(asgi_server).port
    with space_client(asgi_server, host, cookie) as client:
        # Not this space's path: Studio is guessed at the spaces domain (no pass to go by).
        elsewhere = client.get(f"/jupyter/{notebook.domain_id}/no-such-space/lab", headers=BROWSER)
        assert_studio_page(elsewhere, 404, "No running space here", f"http://localhost:{port}")
        # A used or forged ticket.
        refused = client.get("/_studio/enter?ticket=forged", headers=BROWSER)
        assert_studio_page(
            refused, 403, "This link to the space cannot be used", f"http://localhost:{port}"
        )
        assert refused.headers["referrer-policy"] == "no-referrer"
        # The server stops answering: the page says so and links to the Studio it came from.
        notebook.container.kill()
        wait_for(lambda: not _answers(notebook.socket), timeout=20, what="the server to stop")
        gone = client.get(f"{notebook.prefix}lab", headers=BROWSER)
        assert_studio_page(gone, 502, "The space is not answering", asgi_server)
        # JupyterLab's own requests keep the short text.
        api = client.get(f"{notebook.prefix}api/status", headers={"Accept": "application/json"})
    assert api.status_code == 502
    assert api.headers["content-type"] == "text/plain; charset=utf-8"
    assert "not answering" in api.text


def test_a_browser_on_studios_host_gets_the_404_page_with_the_navigation(
    asgi_server,  # noqa: F811
    notebook,  # noqa: F811
    alice,
    bob,
    bob_profile,
):
    with httpx.Client(
        base_url=asgi_server, cookies={"sessionid": studio_session(bob)}, trust_env=False
    ) as client:
        not_bobs = client.get(f"{notebook.prefix}lab", headers=BROWSER)
    assert not_bobs.status_code == 404
    page = not_bobs.text
    assert '<nav class="sidebar"' in page
    assert re.search(r"<h1>\s*No running space here\s*</h1>", page)
    assert 'href="/spaces/">Open Spaces</a>' in page
    # The same refusal to anything but a browser: the short text, as before.
    assert handoff(asgi_server, studio_session(bob), f"{notebook.prefix}lab").content == NOT_FOUND
