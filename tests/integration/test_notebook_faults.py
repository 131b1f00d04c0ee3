"""Restarting the platform never stops a notebook: after the web process and the worker are
SIGKILLed and started again, the kernel is alive and reachable through the proxy."""

import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from domains.models import App
from domains.notebooks.access import proxy_prefix
from domains.services import create_app, create_space
from domains.tasks import reconcile_apps
from tests.conftest import ROOT, service_env, settled, wait_for
from tests.integration.notebooks import open_space, run_code, running, space_client, space_ws

pytestmark = pytest.mark.usefixtures("live")


class WebProcess:
    """`uvicorn studio.web.asgi:application`, as `studio up` runs it, against the test database."""

    def __init__(self, settings_dict: dict):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.env = service_env(settings_dict)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "studio.web.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )

        def up():
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code in (200, 503)
            except httpx.HTTPError:
                return False

        wait_for(up, 30, "the web process to answer")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def web(postgres) -> Iterator[WebProcess]:
    process = WebProcess(postgres)
    process.start()
    yield process
    if process.proc.poll() is None:
        process.proc.terminate()
        process.proc.wait(timeout=10)


def _session(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _execute(
    web: WebProcess, prefix: str, space: tuple[str, str], kernel_id: str, code: str
) -> str:
    """Run `code` through the proxy on the kernel's channels (Jupyter's JSON protocol)."""
    host, cookie = space
    path = f"{prefix}api/kernels/{kernel_id}/channels"
    with space_ws(web.url, host, path, cookie, headers={"Origin": f"http://{host}"}) as ws:
        return run_code(ws, code)


def test_a_notebook_survives_the_web_process_and_the_worker_being_killed(
    jupyter, alice, alice_profile, web, celery_worker
):
    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="durable"))
    app = running(create_app(alice, domain_id, space_name="durable"))
    prefix = proxy_prefix(domain_id, "durable")
    space = open_space(web.url, _session(alice), domain_id, "durable")
    with space_client(web.url, *space) as client:
        kernel = client.post(
            f"{prefix}api/kernels", json={}, headers={"Origin": f"http://{space[0]}"}
        ).json()
    _execute(web, prefix, space, kernel["id"], "x = 41 + 1")

    web.kill()
    celery_worker.kill()
    web.start()
    celery_worker.start()

    assert reconcile_apps()["failed"] == 0
    assert App.objects.get(pk=app.pk).status == "InService"
    # The space cookie outlives the web process: it is sealed with the data directory's key.
    with space_client(web.url, *space) as client:
        kernels = client.get(f"{prefix}api/kernels").json()
    assert [k["id"] for k in kernels] == [kernel["id"]]
    assert _execute(web, prefix, space, kernel["id"], "x") == "42"
