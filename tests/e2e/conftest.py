"""A live ASGI server in this test process, and a headless Chromium to drive it."""

import os
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.capabilities import need
from tests.conftest import ROOT, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def asgi_server(live) -> Iterator[str]:
    """The real ASGI application (HTTP and websocket) served by uvicorn on a free port, and on
    the API socket notebook containers reach.

    It runs in a thread of this process, so it sees this session's test database; `live`
    makes the test's rows committed and therefore visible to the server's connections.
    """
    from studio.web.asgi import application
    from studio.web.server import server as web_server

    server, sockets = web_server(application, "127.0.0.1", free_port(), log_level="warning")
    config = server.config
    thread = threading.Thread(target=server.run, args=(sockets,), name="uvicorn", daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 20, "uvicorn to start")
    assert server.started, "uvicorn exited at start"
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def page() -> Iterator[Any]:
    """A Playwright page in Debian's headless Chromium (Playwright cannot download one)."""
    need("browser", os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1360, "height": 860})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.fixture
def server_side() -> Iterator[Callable[[Callable[[], Any]], Any]]:
    """Run a callable in another thread, as a worker would, and return its result.

    Playwright's sync API keeps an event loop running in the test's thread, where Django
    refuses ORM calls and asgiref refuses async_to_sync; a plain thread has neither problem.
    """
    from django.db import connections

    def call(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        finally:
            connections.close_all()  # the thread's own connection; it must not outlive the DB

    with ThreadPoolExecutor(max_workers=1) as pool:
        yield lambda fn: pool.submit(call, fn).result(timeout=30)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
