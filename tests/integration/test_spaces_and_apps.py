"""Spaces and JupyterLab apps on the real runtimes: start, use, stop, start again; the server
runs as the profile's uid, on a socket nobody else can reach."""

import json

import pytest
from websockets.sync.client import unix_connect

from domains.models import App, Space
from domains.notebooks.access import SOCKET_NAME, runtime_dir
from domains.services import (
    create_app,
    create_space,
    delete_app,
    delete_space,
    list_access_keys,
)
from studio.core.errors import AccessDenied, ResourceInUse, ResourceNotFound, ValidationException
from tests.conftest import settled, wait_for
from tests.integration.notebooks import Server, attach_lifecycle_config, execute_request, running

pytestmark = pytest.mark.usefixtures("live")


def test_a_private_space_runs_jupyterlab_and_keeps_work_across_restarts(
    jupyter, alice, alice_profile
):
    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="lab"))
    app = running(create_app(alice, domain_id, space_name="lab"))
    server = Server(app)
    status, _ = server.request(
        "PUT",
        "api/contents/hello.ipynb",
        {
            "type": "notebook",
            "format": "json",
            "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
        },
    )
    assert status == 201
    assert server.execute("1+1") == "2"
    assert server.execute("import os; print(os.getuid(), os.getgid())").strip() == (
        f"{alice_profile.home_uid} 100"
    )
    notebook = alice_profile.home_directory / "hello.ipynb"
    assert notebook.stat().st_uid == alice_profile.home_uid

    delete_app(alice, domain_id, "lab")
    wait_for(lambda: App.objects.get(pk=app.pk).status == "Deleted", 60, "the app to stop")
    assert not server.sock.exists()
    app = running(create_app(alice, domain_id, space_name="lab"))
    status, listing = Server(app).request("GET", "api/contents")
    assert "hello.ipynb" in [item["name"] for item in listing["content"]]


ATTACK = """
import os, socket
found = {{}}
for path in {paths!r}:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path).read(1)
        found[path] = "READ"
    except OSError as e:
        found[path] = type(e).__name__
for port in (5432, 6379, 8000):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        found[port] = "CONNECTED"
    except OSError:
        found[port] = "refused"
print(found)
"""


def test_a_kernel_cannot_reach_other_homes_the_data_dir_or_other_servers(
    jupyter, alice, alice_profile, bob, bob_profile, settings
):
    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="alice-lab"))
    settled(create_space(bob, domain_id, name="bob-lab"))
    app = running(create_app(alice, domain_id, space_name="alice-lab"))
    bob_app = running(create_app(bob, domain_id, space_name="bob-lab"))
    paths = [
        str(bob_profile.home_directory),
        str(settings.DATA_DIR),
        str(settings.DATA_DIR / "studio.sqlite3"),
        "/var/run/docker.sock",
        str(runtime_dir(bob_app.space) / SOCKET_NAME),
        "/root",
    ]
    found = Server(app).execute(ATTACK.format(paths=paths))
    for path in paths:
        assert f"'{path}': 'READ'" not in found, found
    assert "CONNECTED" not in found, found


BOTO3_FROM_A_CELL = """
import os, boto3
from botocore.exceptions import ClientError
sm = boto3.client("sagemaker")
mine = sm.describe_app(
    DomainId="{domain}", SpaceName="lab", AppType="JupyterLab", AppName="default"
)
try:
    sm.describe_space(DomainId="{domain}", SpaceName="bob-lab")
    theirs = "VISIBLE"
except ClientError as e:
    theirs = e.response["Error"]["Code"]
print(mine["Status"], theirs, os.environ["AWS_ACCESS_KEY_ID"])
"""


def test_boto3_in_a_notebook_calls_studio_as_the_space_owner_with_no_configuration(
    jupyter, asgi_server, alice, alice_profile, bob, bob_profile
):
    from domains.models import AccessKey

    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="lab"))
    settled(create_space(bob, domain_id, name="bob-lab"))
    app = running(create_app(alice, domain_id, space_name="lab"))
    key = AccessKey.objects.get(app=app)
    assert key.profile == alice_profile and key.access_key_id.startswith("SKSA")

    printed = Server(app).execute(BOTO3_FROM_A_CELL.format(domain=domain_id)).split()
    assert printed == ["InService", "ResourceNotFound", key.access_key_id]
    # Not one of the profile's own two keys: it does not show among them or count against them.
    assert key not in list_access_keys(alice, domain_id, alice_profile.name)

    delete_app(alice, domain_id, "lab")
    wait_for(lambda: App.objects.get(pk=app.pk).status == "Deleted", 60, "the app to stop")
    assert not AccessKey.objects.filter(pk=key.pk).exists()  # a key read from a kernel dies with it


def test_a_key_left_by_a_crash_is_revoked_by_the_reconciler(instance_types, alice, alice_profile):
    from domains.models import AccessKey
    from domains.notebooks import credentials
    from domains.tasks import reconcile_apps

    settled(create_space(alice, alice_profile.domain.domain_id, name="lab"))
    space = Space.objects.get(name="lab")
    app = App.objects.create(space=space, status="Failed")
    credentials.issue(app)
    assert reconcile_apps()["keys_revoked"] == 1
    assert not AccessKey.objects.filter(app=app).exists()


def test_space_and_app_errors_change_nothing(
    instance_types, alice, alice_profile, bob, bob_profile
):
    domain_id = alice_profile.domain.domain_id
    with pytest.raises(ValidationException):
        create_space(alice, domain_id, name="bad_name")
    settled(create_space(alice, domain_id, name="mine"))
    with pytest.raises(ResourceInUse):
        create_space(alice, domain_id, name="mine")
    with pytest.raises(AccessDenied):
        create_space(bob, domain_id, name="for-alice", owner="alice")
    with pytest.raises(ResourceNotFound):
        create_app(bob, domain_id, space_name="mine")
    with pytest.raises(ValidationException, match="InstanceType"):
        create_app(
            alice, domain_id, space_name="mine", resource_spec={"InstanceType": "ml.p4d.24xlarge"}
        )
    assert Space.objects.count() == 1 and not App.objects.exists()
    delete_space(alice, domain_id, "mine")
    wait_for(lambda: not Space.objects.exists(), 30, "the space to be deleted")


def test_idle_shutdown_stops_an_idle_app_and_leaves_a_busy_one(
    jupyter, root, domain, alice, alice_profile, bob, bob_profile
):
    from datetime import timedelta

    from django.utils import timezone

    from domains.notebooks import culler
    from domains.services import update_domain
    from domains.user_settings import simple_user_settings

    update_domain(
        root, domain.domain_id, default_user_settings=simple_user_settings(None, None, 60)
    )
    settled(create_space(alice, domain.domain_id, name="idle-lab"))
    settled(create_space(bob, domain.domain_id, name="busy-lab"))
    idle_app = running(create_app(alice, domain.domain_id, space_name="idle-lab"))
    busy_app = running(create_app(bob, domain.domain_id, space_name="busy-lab"))
    busy = Server(busy_app)
    _, kernel = busy.request("POST", "api/kernels", {})
    uri = f"ws://localhost{busy.prefix}api/kernels/{kernel['id']}/channels"
    with unix_connect(
        str(busy.sock), uri, additional_headers={"Authorization": f"token {busy.token}"}
    ) as ws:
        ws.send(json.dumps(execute_request("import time; time.sleep(600)")[1]))
        wait_for(
            lambda: any(
                k["execution_state"] == "busy" for k in busy.request("GET", "api/kernels")[1]
            ),
            30,
            "bob's kernel to be busy",
        )
        # An hour and a bit later (SageMaker's shortest idle timeout is 60 minutes).
        stopped = culler.cull(now=timezone.now() + timedelta(minutes=61))
    assert stopped == [idle_app.resource_id]
    wait_for(lambda: App.objects.get(pk=idle_app.pk).status == "Deleted", 60, "the idle stop")
    assert App.objects.get(pk=idle_app.pk).stopped_reason == "idle"
    assert App.objects.get(pk=busy_app.pk).status == "InService"
    assert alice_profile.home_directory.is_dir()


def test_an_app_whose_container_died_is_marked_failed(jupyter, alice, alice_profile):
    from domains.tasks import reconcile_apps
    from studio.core.runtime import get_runtime

    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="doomed"))
    app = running(create_app(alice, domain_id, space_name="doomed"))
    get_runtime(jupyter).stop(app.runtime_state["container"], timeout=0)
    assert reconcile_apps()["failed"] == 1
    app.refresh_from_db()
    assert app.status == "Failed"
    assert "container stopped" in app.failure_reason
    # Starting it again works from Failed.
    running(create_app(alice, domain_id, space_name="doomed"))


def test_a_lifecycle_config_runs_before_the_server(jupyter, root, domain, alice, alice_profile):
    attach_lifecycle_config(
        root, domain, "setup", "echo configuring\necho ready > $HOME/.configured\n"
    )
    settled(create_space(alice, domain.domain_id, name="configured"))
    app = running(create_app(alice, domain.domain_id, space_name="configured"))
    assert app.resource_spec["LifecycleConfigArn"].endswith("/setup")
    assert (alice_profile.home_directory / ".configured").read_text() == "ready\n"


def test_a_failing_lifecycle_config_fails_the_start_with_its_output(
    jupyter, root, domain, alice, alice_profile
):
    attach_lifecycle_config(
        root, domain, "broken", "echo 'pip: no matching distribution for nosuchpkg' >&2\nexit 3\n"
    )
    settled(create_space(alice, domain.domain_id, name="broken-lab"))
    app = create_app(alice, domain.domain_id, space_name="broken-lab")
    wait_for(lambda: App.objects.get(pk=app.pk).status == "Failed", 90, "the start to fail")
    app.refresh_from_db()
    assert "Lifecycle configuration broken failed (exit code 3)" in app.failure_reason
    assert "no matching distribution for nosuchpkg" in app.failure_reason


def test_an_unattached_lifecycle_config_is_refused(
    instance_types, root, domain, alice, alice_profile
):
    import base64

    from domains.services.lifecycle_configs import create_studio_lifecycle_config

    config = create_studio_lifecycle_config(
        root, name="loose", content=base64.b64encode(b"true").decode()
    )
    settled(create_space(alice, domain.domain_id, name="plain"))
    with pytest.raises(ValidationException, match="not attached"):
        create_app(
            alice,
            domain.domain_id,
            space_name="plain",
            resource_spec={"LifecycleConfigArn": config.arn},
        )
    assert not App.objects.exists()


def test_the_proxy_reaches_a_restarted_server_at_once(
    jupyter, asgi_server, alice, alice_profile, monkeypatch
):
    """The proxy remembers where a space's server is for a few seconds; a restart (a new
    server, a new token) within them must not leave the user facing the old one's refusal."""
    from domains.notebooks.access import proxy_prefix
    from studio.web import proxy
    from tests.integration.notebooks import open_space, space_client, studio_session

    # However long this restart takes, it happens while the proxy still remembers the old one.
    monkeypatch.setattr(proxy.decisions, "ttl", 600)
    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="lab"))
    app = running(create_app(alice, domain_id, space_name="lab"))
    space = open_space(asgi_server, studio_session(alice), domain_id, "lab")
    status = f"{proxy_prefix(domain_id, 'lab')}api/status"

    def fresh_browser():
        """Only the space's cookie: no cookie of Jupyter's own to stand in for the token."""
        return space_client(asgi_server, *space)

    with fresh_browser() as browser:
        assert browser.get(status).status_code == 200
    delete_app(alice, domain_id, "lab")
    wait_for(lambda: App.objects.get(pk=app.pk).status == "Deleted", 60, "the app to stop")
    running(create_app(alice, domain_id, space_name="lab"))
    with fresh_browser() as browser:
        # A page too: for it the replaced server's refusal is a redirect to its login page.
        lab = browser.get(f"{proxy_prefix(domain_id, 'lab')}lab")
        assert lab.status_code == 200, lab.headers.get("location")
    with fresh_browser() as browser:
        assert browser.get(status).status_code == 200
