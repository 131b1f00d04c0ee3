"""Waiting for JupyterLab apps, and talking to their servers, for the notebook tests."""

import json
import uuid

from websockets.sync.client import unix_connect

from domains.app_access import SOCKET_NAME, proxy_prefix, runtime_dir
from domains.models import App
from studio.crypto import decrypt
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
        from domains.app_server import _UnixConnection

        connection = _UnixConnection(self.sock, timeout=30)
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
