"""The warm pool on the real runtimes: a stopped app gets a server started ahead of the
click, which nobody can use until the app starts again and which a start then takes over;
one started with other settings is replaced, and the pool keeps only what it should."""

import pytest

from domains.models import AccessKey, App, WarmServer
from domains.notebooks import warm_pool
from domains.services import create_app, create_space, delete_app, delete_space
from domains.services.profiles import suspend_user_profile
from domains.tasks import reconcile_apps
from studio.core.runtime import State, get_runtime
from tests.conftest import settled, wait_for
from tests.integration.notebooks import Server, running

pytestmark = pytest.mark.usefixtures("live")


def stopped(app: App) -> App:
    wait_for(lambda: App.objects.get(pk=app.pk).status == "Deleted", 60, "the app to stop")
    return App.objects.get(pk=app.pk)


def warmed(app: App) -> WarmServer:
    wait_for(
        lambda: WarmServer.objects.filter(app=app, ready=True).exists(),
        120,
        f"a warm server for {app.resource_id}",
    )
    return WarmServer.objects.get(app=app)


def stopped_app(user, profile, space: str) -> App:
    domain_id = profile.domain.domain_id
    settled(create_space(user, domain_id, name=space))
    app = running(create_app(user, domain_id, space_name=space))
    Server(app).request(
        "PUT",
        "api/contents/kept.ipynb",
        {
            "type": "notebook",
            "format": "json",
            "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
        },
    )
    delete_app(user, domain_id, space)
    return stopped(app)


def test_a_stopped_app_starts_again_by_taking_over_its_warm_server(jupyter, alice, alice_profile):
    from domains.notebooks.access import proxy_target

    domain_id = alice_profile.domain.domain_id
    app = stopped_app(alice, alice_profile, "lab")
    assert warm_pool.refill(size=1) == {"warming": 1, "discarded": 0}
    warm = warmed(app)
    runtime = get_runtime(jupyter)
    assert runtime.status(warm.container).state == State.RUNNING
    # Waiting, it is nobody's: the app is stopped, the proxy has nowhere to send anyone, and
    # the key in its environment does not sign anything yet.
    app.refresh_from_db()
    assert app.status == "Deleted"
    assert proxy_target(alice, domain_id, "lab") is None
    assert list(AccessKey.objects.filter(app=app).values_list("status", flat=True)) == ["Inactive"]
    assert reconcile_apps()["removed"] == 0  # not an orphan
    assert runtime.status(warm.container).state == State.RUNNING

    app = running(create_app(alice, domain_id, space_name="lab"))
    assert app.runtime_state["container"] == warm.container  # taken over, not started anew
    assert not WarmServer.objects.exists()
    assert list(AccessKey.objects.filter(app=app).values_list("status", flat=True)) == ["Active"]
    server = Server(app)
    assert server.execute("import os; print(os.getuid())").strip() == str(alice_profile.home_uid)
    _, listing = server.request("GET", "api/contents")
    assert "kept.ipynb" in [item["name"] for item in listing["content"]]
    assert proxy_target(alice, domain_id, "lab") is not None


def test_a_warm_server_started_with_other_settings_is_replaced(jupyter, alice, alice_profile):
    domain_id = alice_profile.domain.domain_id
    app = stopped_app(alice, alice_profile, "lab")
    warm_pool.refill(size=1)
    warm = warmed(app)
    app = running(
        create_app(
            alice, domain_id, space_name="lab", resource_spec={"InstanceType": "ml.t3.large"}
        )
    )
    assert app.runtime_state["container"] != warm.container
    assert get_runtime(jupyter).status(warm.container).state == State.MISSING
    assert not WarmServer.objects.exists()
    assert AccessKey.objects.filter(app=app, status="Active").count() == 1


def test_the_pool_keeps_the_most_recently_used_and_drops_the_rest(
    jupyter, root, alice, alice_profile, bob, bob_profile
):
    older = stopped_app(bob, bob_profile, "bob-lab")
    newer = stopped_app(alice, alice_profile, "alice-lab")
    assert warm_pool.refill(size=1)["warming"] == 1
    warm = warmed(newer)
    assert not WarmServer.objects.filter(app=older).exists()

    # The owner is suspended: their app leaves the pool, and its key with it.
    suspend_user_profile(root, alice_profile.domain.domain_id, alice_profile.name)
    assert warm_pool.refill(size=1) == {"warming": 1, "discarded": 1}
    assert not WarmServer.objects.filter(app=newer).exists()
    assert get_runtime(jupyter).status(warm.container).state == State.MISSING
    assert not AccessKey.objects.filter(app=newer).exists()
    warmed(older)  # the next one in line

    assert warm_pool.refill(size=0)["discarded"] == 1
    assert not WarmServer.objects.exists()


def test_a_warm_server_whose_container_died_is_forgotten(jupyter, alice, alice_profile):
    app = stopped_app(alice, alice_profile, "lab")
    warm_pool.refill(size=1)
    warm = warmed(app)
    get_runtime(jupyter).remove(warm.container)
    assert reconcile_apps()["warm_forgotten"] == 1
    assert not WarmServer.objects.exists() and not AccessKey.objects.filter(app=app).exists()


def test_deleting_a_space_removes_its_warm_server(jupyter, alice, alice_profile):
    app = stopped_app(alice, alice_profile, "lab")
    warm_pool.refill(size=1)
    warm = warmed(app)
    delete_space(alice, alice_profile.domain.domain_id, "lab")
    wait_for(lambda: not App.objects.filter(pk=app.pk).exists(), 60, "the space to go")
    assert get_runtime(jupyter).status(warm.container).state == State.MISSING
