"""Waiting for JupyterLab apps, and talking to their servers, for the notebook tests."""

import json
import socket
import uuid
from urllib.parse import urlsplit

import httpx
from websockets.sync.client import ClientConnection, connect, unix_connect

from domains.models import App
from domains.notebooks.access import SOCKET_NAME, proxy_prefix, runtime_dir
from studio.core.crypto import decrypt
from studio.core.unix_socket import UnixHTTPConnection
from studio.web.proxy.handoff import COOKIE_NAME
from tests.conftest import wait_for


def running(app, timeout=120):
    def ready():
        app.refresh_from_db()
        return app.status in {"InService", "Failed"}

    wait_for(ready, timeout, f"app {app.resource_id} to start")
    assert app.status == "InService", app.failure_reason
    return app


class Server:
    """Talks to an app's server directly on its socket, as the proxy does."""

    def __init__(self, app: App):
        space = app.space
        self.sock = runtime_dir(space) / SOCKET_NAME
        self.prefix = proxy_prefix(space.domain.domain_id, space.name)
        self.token = decrypt(app.runtime_state["token"])

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        connection = UnixHTTPConnection(self.sock, timeout=30)
        try:
            connection.request(
                method,
                f"{self.prefix}{path}",
                body=json.dumps(body) if body is not None else None,
                headers={
                    "Authorization": f"token {self.token}",
                    "Content-Type": "application/json",
                },
            )
            response = connection.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else {}
        finally:
            connection.close()

    def execute(self, code: str) -> str:
        """Run `code` in a new kernel over the websocket; return what it printed or returned."""
        status, kernel = self.request("POST", "api/kernels", {})
        assert status == 201, kernel
        uri = f"ws://localhost{self.prefix}api/kernels/{kernel['id']}/channels"
        with unix_connect(
            str(self.sock), uri, additional_headers={"Authorization": f"token {self.token}"}
        ) as ws:
            return run_code(ws, code)


def execute_request(code: str) -> tuple[str, dict]:
    """An execute_request for the shell channel in Jupyter's JSON websocket protocol, and its
    message id."""
    msg_id = uuid.uuid4().hex
    return msg_id, {
        "header": {
            "msg_id": msg_id,
            "username": "test",
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "channel": "shell",
        "content": {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
        },
    }


def run_code(ws, code: str) -> str:
    """Run `code` on a kernel's open channels websocket; what it printed, returned or raised."""
    msg_id, request = execute_request(code)
    ws.send(json.dumps(request))
    out = []
    while True:
        message = json.loads(ws.recv(timeout=60))
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message["msg_type"]
        if kind == "stream":
            out.append(message["content"]["text"])
        elif kind == "execute_result":
            out.append(message["content"]["data"]["text/plain"])
        elif kind == "error":
            out.append("\n".join(message["content"]["traceback"]))
        elif kind == "status" and message["content"]["execution_state"] == "idle":
            return "".join(out)


# -- a browser on a space's own host -----------------------------------------------------------
# Space hosts are `<label>.localhost:<port>`: Chromium resolves them itself, Python does not, so
# these clients connect to the live server's address and name the space's host in `Host`.


def studio_session(user) -> str:
    """The `sessionid` a browser logged in to Studio as `user` would carry."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def handoff(server: str, session: str | None, path: str) -> httpx.Response:
    """What Studio's host answers a browser with this session asking for `path` (/jupyter/...)."""
    cookies = {"sessionid": session} if session else {}
    with httpx.Client(base_url=server, cookies=cookies, timeout=60, trust_env=False) as client:
        return client.get(path)


def enter(server: str, location: str) -> httpx.Response:
    """Follow the handoff's redirect (to the space's `/_studio/enter?ticket=...`)."""
    url = urlsplit(location)
    with space_client(server, url.netloc) as client:
        return client.get(f"{url.path}?{url.query}")


def space_cookie(entered: httpx.Response) -> str:
    """The space cookie's value (http.cookies cannot parse the Partitioned attribute)."""
    name, _, value = entered.headers["set-cookie"].split(";")[0].partition("=")
    assert name == COOKIE_NAME, entered.headers["set-cookie"]
    return value


def open_space(server: str, session: str, domain_id: str, space_name: str) -> tuple[str, str]:
    """Open a space as the dashboard does: (the space's host, its space cookie)."""
    handed = handoff(server, session, proxy_prefix(domain_id, space_name) + "lab")
    assert handed.status_code == 302, handed.text
    entered = enter(server, handed.headers["location"])
    assert entered.status_code == 302, entered.text
    return urlsplit(handed.headers["location"]).netloc, space_cookie(entered)


def space_client(server: str, host: str, cookie: str | None = None) -> httpx.Client:
    """An HTTP client on a space's host, holding its space cookie (if any)."""
    headers = {"Host": host}
    if cookie:
        headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
    return httpx.Client(
        base_url=server, headers=headers, timeout=60, follow_redirects=False, trust_env=False
    )


def space_ws(
    server: str, host: str, path: str, cookie: str | None, headers: dict | None = None, **kwargs
) -> ClientConnection:
    """A websocket to `path` on a space's host, holding its space cookie (if any)."""
    address = urlsplit(server)
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    cookies = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
    return connect(
        f"ws://{host}{path}",
        sock=sock,
        additional_headers={**cookies, **(headers or {})},
        open_timeout=30,
        **kwargs,
    )


def attach_lifecycle_config(root, domain, name: str, script: str) -> str:
    """Make `script` a lifecycle configuration and the domain's default for JupyterLab apps."""
    import base64

    from domains.services import update_domain
    from domains.services.lifecycle_configs import create_studio_lifecycle_config

    config = create_studio_lifecycle_config(
        root, name=name, content=base64.b64encode(script.encode()).decode()
    )
    update_domain(
        root,
        domain.domain_id,
        default_user_settings={
            "JupyterLabAppSettings": {
                "LifecycleConfigArns": [config.arn],
                "DefaultResourceSpec": {"LifecycleConfigArn": config.arn},
            }
        },
    )
    return config.arn
