"""A kernel swaps its server's socket (`/run/studio/jupyter.sock`, in a directory its container
can write) for a way to another host socket, or leaves links where root used to write its
scripts: the proxy and the worker never connect anywhere but to the server's own socket, and
root writes nothing through a link (studio/core/unix_socket.py, domains/notebooks/launcher.py)."""

import os
import secrets
import shutil
import socket
import stat
import threading
from pathlib import Path

import httpx
import pytest

from domains.notebooks import culler, launcher
from domains.notebooks.access import SOCKET_NAME, proxy_prefix, runtime_dir
from domains.services import create_app, create_space, delete_app
from studio.core.api_socket import API_SOCKET_NAME, api_socket_dir
from studio.core.unix_socket import UntrustedSocket
from tests.conftest import settled, wait_for
from tests.integration.notebooks import (
    Server,
    attach_lifecycle_config,
    open_space,
    running,
    space_client,
    studio_session,
)


class Recorder:
    """A Unix socket server on the host, in a root-only directory outside the data directory:
    what an attacker points the server's socket at. It records every connection."""

    def __init__(self) -> None:
        self.directory = Path(f"/var/tmp/studio-sock-{secrets.token_hex(6)}")
        self.directory.mkdir(mode=0o700)
        self.path = self.directory / "host.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        self.sock.listen()
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def recorder():
    recorder = Recorder()
    yield recorder
    recorder.close()


def start_notebook(member, name: str):
    settled(create_space(member.user, member.domain_id, name=name))
    return running(create_app(member.user, member.domain_id, space_name=name))


def swap_socket(app, code: str) -> str:
    """Run `code` in a kernel of `app` after moving the real socket aside: the server keeps
    listening on it, under another name."""
    return Server(app).execute(
        "import os\nos.rename('/run/studio/jupyter.sock', '/run/studio/real.sock')\n" + code
    )


def proxied_get(member, app) -> httpx.Response:
    """The member's next request through the proxy, from a browser logged in as her that
    opened the space (on the space's own host)."""
    space = app.space
    domain_id = space.domain.domain_id
    host, cookie = open_space(member.url, studio_session(member.user), domain_id, space.name)
    with space_client(member.url, host, cookie) as browser:
        return browser.get(f"{proxy_prefix(domain_id, space.name)}api/status")


def stopped_answer(member, app) -> httpx.Response:
    """What the proxy answers when the socket is gone (a stopped or stopping server)."""
    (runtime_dir(app.space) / SOCKET_NAME).unlink()
    return proxied_get(member, app)


def assert_refused_like_a_stopped_server(member, app, canaries) -> None:
    """The proxied request and the worker's checks (the idle culler, the start's readiness
    probe) all refuse the swapped socket, and the answer is the stopped-server answer."""
    answer = proxied_get(member, app)
    with pytest.raises(UntrustedSocket):
        culler.last_activity(app)
    space = app.space
    prefix = proxy_prefix(space.domain.domain_id, space.name)
    sock = runtime_dir(space) / SOCKET_NAME
    assert not launcher.server_answers(sock, prefix, "token", space.home_uid)
    stopped = stopped_answer(member, app)
    assert answer.status_code == stopped.status_code == 502
    assert answer.text == stopped.text
    canaries.assert_absent(answer.text, answer.headers)


def test_a_socket_swapped_for_a_link_to_a_host_socket_is_never_connected(
    jupyter, member, recorder, canaries
):
    app = start_notebook(member, "swap-link")
    swap_socket(app, f"os.symlink({str(recorder.path)!r}, '/run/studio/jupyter.sock')")
    assert_refused_like_a_stopped_server(member, app, canaries)
    assert recorder.connections == 0, "the host followed the container's link"


def test_a_socket_swapped_for_a_link_to_the_webs_api_socket_is_never_connected(
    jupyter, member, canaries
):
    app = start_notebook(member, "swap-api")
    api = api_socket_dir() / API_SOCKET_NAME
    swap_socket(app, f"os.symlink({str(api)!r}, '/run/studio/jupyter.sock')")
    assert_refused_like_a_stopped_server(member, app, canaries)


def test_a_socket_swapped_for_a_link_to_a_host_file_is_not_opened(jupyter, member, canaries):
    app = start_notebook(member, "swap-file-link")
    swap_socket(app, f"os.symlink({str(canaries.host_file)!r}, '/run/studio/jupyter.sock')")
    assert_refused_like_a_stopped_server(member, app, canaries)
    assert canaries.host_file.read_text() == canaries.host_value


def test_a_socket_replaced_by_a_regular_file_is_refused(jupyter, member, canaries):
    app = start_notebook(member, "swap-file")
    swap_socket(app, "open('/run/studio/jupyter.sock', 'w').write('HTTP/1.1 200 OK')")
    assert_refused_like_a_stopped_server(member, app, canaries)


def test_a_socket_replaced_by_a_hard_link_is_refused_and_host_sockets_cannot_be_linked(
    jupyter, member, canaries
):
    """Host sockets are on other mounts (or not visible at all): linking one fails; linking
    the server's own socket gives it a second name, which is refused too."""
    app = start_notebook(member, "swap-hardlink")
    api = f"/run/studio-api/{API_SOCKET_NAME}"
    out = swap_socket(
        app,
        "try:\n"
        f"    os.link({api!r}, '/run/studio/jupyter.sock')\n"
        "    print('LINKED')\n"
        "except OSError as e:\n"
        "    print('refused', e.errno)\n"
        "os.link('/run/studio/real.sock', '/run/studio/jupyter.sock')\n",
    )
    assert "LINKED" not in out and "refused" in out, out
    assert_refused_like_a_stopped_server(member, app, canaries)


def test_scripts_left_as_links_to_host_files_are_not_written_through_on_restart(
    jupyter, root, domain, member, canaries
):
    """Root used to write the lifecycle script and the API forwarder into the runtime
    directory: a container that leaves them as links to host paths gets nothing written,
    created or chowned there when the app starts again."""
    attach_lifecycle_config(root, domain, "setup", "echo configured > $HOME/.configured\n")
    app = start_notebook(member, "script-links")
    outside = canaries.outside / "written-by-root"
    before = canaries.host_file.stat()
    Server(app).execute(
        "import os\n"
        "os.remove('/home/sagemaker-user/.configured')\n"
        f"os.symlink({str(canaries.host_file)!r}, '/run/studio/lifecycle.sh')\n"
        f"os.symlink({str(outside)!r}, '/run/studio/api_forwarder.py')\n"
    )
    delete_app(member.user, member.domain_id, "script-links")
    wait_for(lambda: type(app).objects.get(pk=app.pk).status == "Deleted", 60, "the app to stop")
    app = running(create_app(member.user, member.domain_id, space_name="script-links"))
    # The lifecycle configuration ran again, from where root put it.
    assert Server(app).execute("print(open('/home/sagemaker-user/.configured').read())") == (
        "configured\n\n"
    )
    after = canaries.host_file.stat()
    assert canaries.host_file.read_text() == canaries.host_value
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (
        before.st_uid,
        before.st_gid,
        stat.S_IMODE(before.st_mode),
    )
    canaries.assert_nothing_outside()
    # The container cannot write the scripts it runs.
    out = Server(app).execute(
        "try:\n"
        "    open('/run/studio-boot/lifecycle.sh', 'a').write('x')\n"
        "    print('WROTE')\n"
        "except OSError as e:\n"
        "    print('refused', e.errno)\n"
    )
    assert "WROTE" not in out and "refused" in out, out
    assert os.stat(runtime_dir(app.space)).st_uid == app.space.home_uid
