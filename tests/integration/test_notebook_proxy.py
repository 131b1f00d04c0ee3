"""The notebook proxy in front of a real JupyterLab server (a container on a Unix socket),
driven through the real ASGI application served by uvicorn, as a browser would use it: handed
over from Studio's host to the space's own host, and working there with the space cookie."""

import base64
import hashlib
import json
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection

from tests.capabilities import need
from tests.conftest import wait_for
from tests.e2e.conftest import asgi_server  # noqa: F401  (the live server fixture)
from tests.integration.notebooks import (
    enter,
    handoff,
    open_space,
    space_client,
    space_ws,
    studio_session,
)

JUPYTER_IMAGE = "studio/jupyter:latest"
KERNEL_PROTOCOL = "v1.kernel.websocket.jupyter.org"
NOT_FOUND = b"Not found."


@dataclass
class Notebook:
    """A running JupyterLab server for alice's space, and how to reach it through the proxy."""

    prefix: str
    token: str
    socket: Path
    app: object
    container: object

    @property
    def domain_id(self) -> str:
        return self.prefix.split("/")[2]


@pytest.fixture
def docker_client():
    from studio.core.runtime import docker_available

    need("docker", docker_available(), "no Docker Engine answers (start dockerd)")
    import docker

    client = docker.from_env()
    need(
        "docker",
        bool(client.images.list(name=JUPYTER_IMAGE)),
        f"{JUPYTER_IMAGE} is not built: run `studio images build jupyter`",
    )
    return client


def start_server(docker_client, space, home: Path) -> tuple[object, Path, str]:
    """A real JupyterLab on the space's socket, as the app-start task runs it."""
    from domains.notebooks.access import SOCKET_NAME, proxy_prefix, runtime_dir

    token = secrets.token_hex(24)
    rundir = runtime_dir(space)
    rundir.mkdir(parents=True, exist_ok=True)
    rundir.chmod(0o777)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, 1000, 100)
    prefix = proxy_prefix(space.domain.domain_id, space.name)
    container = docker_client.containers.run(
        JUPYTER_IMAGE,
        [
            "jupyter",
            "lab",
            "--no-browser",
            f"--ServerApp.sock=/run/studio/{SOCKET_NAME}",
            f"--ServerApp.base_url={prefix}",
            f"--IdentityProvider.token={token}",
            "--ServerApp.root_dir=/home/sagemaker-user",
        ],
        detach=True,
        network_mode="none",
        volumes={
            str(rundir): {"bind": "/run/studio", "mode": "rw"},
            str(home): {"bind": "/home/sagemaker-user", "mode": "rw"},
        },
        labels={"studio.test": "notebook-proxy"},
        name=f"studio-test-proxy-{uuid.uuid4().hex[:8]}",
    )
    socket = rundir / SOCKET_NAME

    def answers() -> bool:
        container.reload()
        assert container.status in ("created", "running"), container.logs().decode()[-3000:]
        if not socket.exists():
            return False
        transport = httpx.HTTPTransport(uds=str(socket))
        try:
            with httpx.Client(transport=transport, timeout=2) as client:
                response = client.get(
                    f"http://localhost{prefix}api/status",
                    headers={"Authorization": f"token {token}"},
                )
                return response.status_code == 200
        except httpx.TransportError:
            return False

    wait_for(answers, timeout=90, what="JupyterLab to answer on its socket")
    return container, socket, token


@pytest.fixture
def notebook(docker_client, alice_profile, tmp_path) -> Iterator[Notebook]:
    from domains.models import App, AppStatus, Space
    from domains.notebooks.access import proxy_prefix
    from studio.core.crypto import encrypt

    space = Space.objects.create(
        domain=alice_profile.domain, name="alice-space", owner=alice_profile, status="InService"
    )
    container, socket, token = start_server(docker_client, space, tmp_path / "home")
    try:
        app = App.objects.create(
            space=space,
            status=AppStatus.IN_SERVICE,
            runtime_state={"token": encrypt(token)},
        )
        yield Notebook(
            prefix=proxy_prefix(space.domain.domain_id, space.name),
            token=token,
            socket=socket,
            app=app,
            container=container,
        )
    finally:
        container.remove(force=True)
        # Files the server wrote belong to its uid; the test process may remove them as root.
        shutil.rmtree(socket.parent, ignore_errors=True)


def assert_no_token(notebook: Notebook, response: httpx.Response) -> None:
    assert notebook.token.encode() not in response.content, response.request.url
    for name, value in response.headers.items():
        assert notebook.token not in value, name


# -- v1 kernel websocket protocol (jupyter_server's serialize_msg_to_ws_v1) --------------------


def pack_v1(channel: str, msg: dict) -> bytes:
    parts = [
        json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")
    ]
    offsets = [8 * (len(parts) + 3)]
    for part in [channel.encode(), *parts]:
        offsets.append(offsets[-1] + len(part))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + channel.encode() + b"".join(parts)


def unpack_v1(data: bytes) -> tuple[str, dict]:
    count = int.from_bytes(data[:8], "little")
    offsets = [int.from_bytes(data[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    channel = data[offsets[0] : offsets[1]].decode()
    parts = [json.loads(data[offsets[i] : offsets[i + 1]]) for i in range(1, 5)]
    return channel, dict(
        zip(("header", "parent_header", "metadata", "content"), parts, strict=True)
    )


def execute(ws: ClientConnection, code: str) -> dict:
    """Run `code` in the kernel; return the execute_result's content."""
    msg_id = uuid.uuid4().hex
    request = {
        "header": {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "alice",
            "session": uuid.uuid4().hex,
            "date": "2024-01-01T00:00:00Z",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": {"code": code, "silent": False, "store_history": False},
    }
    ws.send(pack_v1("shell", request))
    while True:
        data = ws.recv(timeout=60)
        assert isinstance(data, bytes), "the v1 protocol speaks binary frames"
        _, msg = unpack_v1(data)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["header"]["msg_type"] == "execute_result":
            return msg["content"]
        assert msg["header"]["msg_type"] != "error", msg["content"]


# -- the owner uses their notebook ----------------------------------------------------------


def opened(server: str, notebook: Notebook, user) -> tuple[str, str]:
    """(space host, space cookie) of a browser logged in as `user` that opened the space."""
    return open_space(server, studio_session(user), notebook.domain_id, "alice-space")


def test_owner_writes_and_reads_a_notebook_through_the_proxy(asgi_server, notebook, alice):  # noqa: F811
    with space_client(asgi_server, *opened(asgi_server, notebook, alice)) as client:
        cells = [
            {
                "cell_type": "code",
                "source": "1+1",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ]
        model = {
            "type": "notebook",
            "format": "json",
            "content": {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
        }
        created = client.put(f"{notebook.prefix}api/contents/analysis.ipynb", json=model)
        assert created.status_code == 201, created.text
        read = client.get(f"{notebook.prefix}api/contents/analysis.ipynb")
        assert read.status_code == 200
        assert read.json()["content"]["cells"][0]["source"] == "1+1"
        for response in (created, read):
            assert_no_token(notebook, response)


def test_owner_runs_code_in_a_kernel_over_the_websocket(asgi_server, notebook, alice):  # noqa: F811
    host, cookie = opened(asgi_server, notebook, alice)
    with space_client(asgi_server, host, cookie) as client:
        kernel = client.post(f"{notebook.prefix}api/kernels", json={"name": "python3"})
        assert kernel.status_code == 201, kernel.text
        kernel_id = kernel.json()["id"]
    path = f"{notebook.prefix}api/kernels/{kernel_id}/channels"
    with space_ws(asgi_server, host, path, cookie, subprotocols=[KERNEL_PROTOCOL]) as ws:
        assert ws.subprotocol == KERNEL_PROTOCOL
        result = execute(ws, "1+1")
    assert result["data"]["text/plain"] == "2"


def test_terminal_speaks_text_and_its_end_closes_the_websocket(asgi_server, notebook, alice):  # noqa: F811
    host, cookie = opened(asgi_server, notebook, alice)
    with space_client(asgi_server, host, cookie) as client:
        terminal = client.post(f"{notebook.prefix}api/terminals")
        assert terminal.status_code == 200, terminal.text
        name = terminal.json()["name"]
    with space_ws(asgi_server, host, f"{notebook.prefix}terminals/websocket/{name}", cookie) as ws:
        assert ws.subprotocol is None  # none asked for, none given
        ws.send(json.dumps(["stdin", "echo proxied-$((6*7))\r"]))
        output = ""
        while "proxied-42" not in output:
            kind, *payload = json.loads(ws.recv(timeout=30))
            if kind == "stdout":
                output += payload[0]
        ws.send(json.dumps(["stdin", "exit\r"]))
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=30)
        # The server ended it (a close frame without a code, which is passed on as 1000).
        assert ws.close_code == 1000


def test_large_upload_and_download_stream_through(asgi_server, notebook, alice):  # noqa: F811
    # 50 MB of text (the contents API takes a file's bytes inside a JSON body).
    line = b"".join(b"%08d studio notebook proxy\n" % i for i in range(2000))
    content = line * (50 * 1024 * 1024 // len(line) + 1)
    model = {"type": "file", "format": "base64", "content": base64.b64encode(content).decode()}
    with space_client(asgi_server, *opened(asgi_server, notebook, alice)) as client:
        uploaded = client.put(f"{notebook.prefix}api/contents/big.txt", json=model)
        assert uploaded.status_code == 201, uploaded.text[:500]
        digest = hashlib.sha256()
        size = chunks = 0
        with client.stream("GET", f"{notebook.prefix}files/big.txt") as download:
            assert download.status_code == 200
            for chunk in download.iter_raw():
                digest.update(chunk)
                size += len(chunk)
                chunks += 1
    assert size == len(content)
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()
    assert chunks > 1, "the download arrived in one piece: it was buffered, not streamed"


def test_jupyterlab_page_is_framed_by_no_other_page_and_carries_no_token(
    asgi_server,  # noqa: F811
    notebook,
    alice,
):
    with space_client(asgi_server, *opened(asgi_server, notebook, alice)) as client:
        page = client.get(f"{notebook.prefix}lab")
        assert page.status_code == 200
        assert "jupyter-config-data" in page.text
        # Served on the space's own host, in a tab of its own: framed by nobody but itself.
        assert page.headers["content-security-policy"] == "frame-ancestors 'self'"
        # A token the browser offers is neither used nor echoed back.
        offered = client.get(f"{notebook.prefix}lab?token={notebook.token}")
        status = client.get(f"{notebook.prefix}api/status")
        me = client.get(f"{notebook.prefix}api/me")
        for response in (page, offered, status, me):
            assert response.status_code == 200, response.request.url
            assert_no_token(notebook, response)
        # Jupyter's XSRF cookie comes back scoped to the space.
        cookies = page.headers.get_list("set-cookie")
        assert any(c.startswith("_xsrf=") and f"Path={notebook.prefix}" in c for c in cookies)


def test_studios_host_hands_the_browser_over_and_serves_nothing_of_the_space(
    asgi_server,  # noqa: F811
    notebook,
    alice,
):
    session = studio_session(alice)
    handed = handoff(asgi_server, session, f"{notebook.prefix}lab?reset&token={notebook.token}")
    assert handed.status_code == 302
    assert handed.headers["cache-control"] == "no-store"
    location = handed.headers["location"]
    assert location.startswith("http://sp-") and ".localhost:" in location
    assert "/_studio/enter?ticket=" in location
    assert_no_token(notebook, handed)
    entered = enter(asgi_server, location)
    assert entered.status_code == 302
    # The ticket opens the path asked for, minus the token.
    assert entered.headers["location"] == f"{notebook.prefix}lab?reset"
    cookie = entered.headers["set-cookie"]
    for attribute in ("HttpOnly", "Path=/", "SameSite=None", "Secure", "Partitioned"):
        assert attribute in cookie
    assert "domain=" not in cookie.lower()  # host-only: the space's host and nothing else
    # Studio's host answers no request of the space's, whatever it is.
    with httpx.Client(base_url=asgi_server, cookies={"sessionid": session}) as client:
        post = client.post(
            f"{notebook.prefix}api/kernels", json={}, headers={"Origin": asgi_server}
        )
        files = client.get(f"{notebook.prefix}api/contents")
    assert post.status_code == 404
    assert files.status_code == 302 and files.headers["location"].startswith("http://sp-")
    with pytest.raises(InvalidStatus) as refused:
        ws_studio(asgi_server, f"{notebook.prefix}api/events/subscribe", session)
    assert refused.value.response.status_code == 404


def ws_studio(server: str, path: str, session: str) -> ClientConnection:
    from websockets.sync.client import connect

    return connect(
        server.replace("http://", "ws://") + path,
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=30,
        proxy=None,
    )


def test_use_is_recorded_for_the_idle_timer(asgi_server, notebook, alice):  # noqa: F811
    with space_client(asgi_server, *opened(asgi_server, notebook, alice)) as client:
        assert client.get(f"{notebook.prefix}api/status").status_code == 200

    def noted():
        notebook.app.refresh_from_db()
        return notebook.app.last_user_activity_at

    wait_for(noted, timeout=10, what="the app's last activity to be recorded")


# -- everyone else ---------------------------------------------------------------------------


def test_another_user_gets_the_same_404_as_for_a_space_that_does_not_exist(
    asgi_server,  # noqa: F811
    notebook,
    alice,
    bob,
    bob_profile,
):
    from domains.models import AppStatus

    session = studio_session(bob)
    domain_id = notebook.domain_id
    answers = [
        handoff(asgi_server, session, f"{notebook.prefix}lab"),
        handoff(asgi_server, session, f"{notebook.prefix}api/contents"),
        handoff(asgi_server, session, f"/jupyter/{domain_id}/no-such-space/lab"),
        handoff(asgi_server, session, "/jupyter/d-nosuchdomain/alice-space/lab"),
    ]
    host, cookie = opened(asgi_server, notebook, alice)
    # A space that exists but has no server running says the same, on both hosts.
    notebook.app.status = AppStatus.DELETED
    notebook.app.save(update_fields=["status"])
    answers.append(handoff(asgi_server, studio_session(alice), f"{notebook.prefix}lab"))
    with space_client(asgi_server, host, cookie) as client:
        answers.append(client.get(f"{notebook.prefix}lab"))
        # The space's host answers its own space's paths only.
        answers.append(client.get(f"/jupyter/{domain_id}/no-such-space/lab"))
        answers.append(client.get("/"))
    for response in answers:
        assert response.status_code == 404, response.request.url
        assert response.content == NOT_FOUND
        assert response.headers["content-type"] == answers[0].headers["content-type"]
        assert_no_token(notebook, response)

    for path in (
        f"{notebook.prefix}api/events/subscribe",
        f"/jupyter/{domain_id}/no-such-space/api/events/subscribe",
    ):
        with pytest.raises(InvalidStatus) as refused:
            space_ws(asgi_server, host, path, cookie).close()
        assert refused.value.response.status_code == 404
        assert refused.value.response.body == NOT_FOUND


def test_a_forged_token_with_another_users_session_is_refused(
    asgi_server,  # noqa: F811
    notebook,
    alice,
    bob,
    bob_profile,
):
    session = studio_session(bob)
    forged = {"Authorization": f"token {notebook.token}"}
    by_query = handoff(
        asgi_server, session, f"{notebook.prefix}api/contents?token={notebook.token}"
    )
    assert by_query.status_code == 404
    assert by_query.content == NOT_FOUND
    host, cookie = opened(asgi_server, notebook, alice)
    with space_client(asgi_server, host) as client:  # the token alone, no space cookie at all
        tokens_only = client.get(f"{notebook.prefix}api/contents", headers=forged)
    assert tokens_only.status_code == 302
    assert notebook.token not in tokens_only.headers["location"]
    with space_ws(
        asgi_server,
        host,
        f"{notebook.prefix}api/events/subscribe?token={notebook.token}",
        None,
        headers=forged,
    ) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 4401

    # The owner's own requests carry whatever token the proxy holds, not the one they send.
    with space_client(asgi_server, host, cookie) as client:
        wrong = client.get(f"{notebook.prefix}api/contents", headers={"Authorization": "token x"})
    assert wrong.status_code == 200


def test_unauthenticated_requests_go_to_login_and_websockets_are_closed(
    asgi_server,  # noqa: F811
    notebook,
    alice,
):
    page = handoff(asgi_server, None, f"{notebook.prefix}lab?reset&token={notebook.token}")
    assert page.status_code == 302
    assert page.headers["location"] == f"/login/?next={notebook.prefix}lab%3Freset"
    assert_no_token(notebook, page)
    assert handoff(asgi_server, "expired-or-forged", f"{notebook.prefix}lab").status_code == 302
    host, cookie = opened(asgi_server, notebook, alice)
    port = asgi_server.rsplit(":", 1)[1]
    # On the space's host, without a space cookie (or with a forged one): back to Studio's
    # host (the spaces domain itself), which asks to log in, then hands over again.
    for held in (None, "forged", cookie[:-4] + "AAAA"):
        with space_client(asgi_server, host, held) as client:
            back = client.get(f"{notebook.prefix}lab?reset&token={notebook.token}")
        assert back.status_code == 302
        assert back.headers["location"] == f"http://localhost:{port}{notebook.prefix}lab?reset"
    with space_ws(asgi_server, host, f"{notebook.prefix}api/events/subscribe", None) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 4401


def test_logging_out_of_studio_ends_the_space_cookie(asgi_server, notebook, alice):  # noqa: F811
    from django.contrib.sessions.models import Session

    session = studio_session(alice)
    host, cookie = open_space(asgi_server, session, notebook.domain_id, "alice-space")
    Session.objects.filter(session_key=session).delete()  # what logging out does
    with space_client(asgi_server, host, cookie) as client:
        after = client.get(f"{notebook.prefix}api/status")
    assert after.status_code == 302


def test_cross_site_requests_are_refused(asgi_server, notebook, alice):  # noqa: F811
    host, cookie = opened(asgi_server, notebook, alice)
    with space_client(asgi_server, host, cookie) as client:
        for origin in ("https://evil.example.net", asgi_server, "http://sp-0.localhost"):
            post = client.post(f"{notebook.prefix}api/kernels", json={}, headers={"Origin": origin})
            assert post.status_code == 403, origin
        same_site = client.post(
            f"{notebook.prefix}api/kernels", json={}, headers={"Origin": f"http://{host}"}
        )
        assert same_site.status_code == 201
    for origin in ("https://evil.example.net", asgi_server):
        with pytest.raises(InvalidStatus) as refused:
            space_ws(
                asgi_server, host, f"{notebook.prefix}api/events/subscribe", cookie, origin=origin
            )
        assert refused.value.response.status_code == 403


def test_a_server_that_does_not_answer_gives_502(asgi_server, notebook, alice):  # noqa: F811
    host, cookie = opened(asgi_server, notebook, alice)
    notebook.container.kill()
    wait_for(lambda: not _answers(notebook.socket), timeout=20, what="the server to stop")
    with space_client(asgi_server, host, cookie) as client:
        response = client.get(f"{notebook.prefix}api/status")
    assert response.status_code == 502
    assert "not answering" in response.text


def _answers(socket: Path) -> bool:
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket)), timeout=2) as client:
            client.get("http://localhost/")
        return True
    except httpx.TransportError:
        return False
