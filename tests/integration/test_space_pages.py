"""The spaces pages through the Django test client: the list and its create form, a space's
page (status, instance type, idle timeout, cost, the link that opens JupyterLab in a tab of its
own, the page's CSP), Stop and Restart, and who may see what.

Most tests create Space and App rows directly: what a page shows needs no container.
"""

import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, strip_tags

from domains.models import App, Space
from domains.notebooks.access import proxy_prefix
from studio.core.events import Event, resource_group, send_now
from studio.core.models import StatusTransition
from tests.conftest import wait_for
from tests.integration.test_live_events import _connect, _next_event

pytestmark = pytest.mark.usefixtures("live", "instance_types")

SPACES = reverse("dashboard:spaces")
IDLE_SETTINGS = {
    "JupyterLabAppSettings": {
        "AppLifecycleManagement": {
            "IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 45}
        }
    }
}


def space_url(name: str, view: str = "space") -> str:
    return reverse(f"dashboard:{view}", kwargs={"space_name": name})


def make_space(profile, name: str = "lab", **fields) -> Space:
    """A space as the worker leaves it once provisioned."""
    return Space.objects.create(
        domain=profile.domain, name=name, owner=profile, status="InService", **fields
    )


def make_app(space: Space, status: str = "InService", **fields) -> App:
    """An app row in `status`, with the InService transition the cost is counted from."""
    fields.setdefault("resource_spec", {"InstanceType": "ml.m5.large"})
    app = App.objects.create(space=space, status=status, **fields)
    if status != "Pending":
        StatusTransition.objects.create(
            resource_type="App", resource_id=app.resource_id, to_status="InService"
        )
    return app


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response
    return response.content.decode()


def app_badge_text(html: str) -> str:
    """What the space page's App badge says (its data-status is the API's status)."""
    match = re.search(r'<span class="badge" id="app-status"[^>]*>([^<]*)</span>', html)
    assert match, "no #app-status badge"
    return match.group(1)


def actions(html: str) -> set[str]:
    """The buttons the page offers for the app: Stop, Restart (the bar), Open (the pane)."""
    ids = {"stop-app": "Stop", "restart-app": "Restart", "open-lab": "Open", "open-lab-tab": "Open"}
    return {word for key, word in ids.items() if f'id="{key}"' in html}


def test_the_list_shows_own_and_shared_spaces_with_app_status_and_instance_type(
    client, alice, alice_profile, bob, bob_profile
):
    mine = make_space(alice_profile, "alice-lab")
    make_app(mine)
    shared = make_space(bob_profile, "team", sharing_type="Shared")
    shared.members.add(alice_profile)
    make_space(bob_profile, "bob-private")
    client.force_login(alice)

    html = html_of(client, SPACES)

    assert "alice-lab" in html and "team" in html
    assert "bob-private" not in html
    assert "owned by bob" in html
    assert f'data-status-of="App:{mine.domain.domain_id}/alice-lab/JupyterLab/default"' in html
    assert 'data-status="InService"' in html and ">Running</span>" in html
    assert "Not started" in html  # bob's shared space, whose JupyterLab never ran
    assert "<code>ml.m5.large</code>" in html  # the running app's
    assert "<code>ml.t3.medium</code>" in html  # the default, for the space never started
    assert html.count("Open JupyterLab") >= 2


def test_creating_a_space_from_the_form(client, alice, alice_profile, bob_profile):
    client.force_login(alice)
    response = client.post(SPACES, {"name": "team", "sharing_type": "Shared", "members": "bob"})
    assert response.status_code == 302
    space = Space.objects.get(name="team")
    assert space.owner == alice_profile
    assert list(space.members.values_list("name", flat=True)) == ["bob"]
    html = html_of(client, SPACES)
    assert "Space team was created" in html


def test_a_bad_name_shows_the_field_error_and_creates_nothing(client, alice, alice_profile):
    client.force_login(alice)
    response = client.post(SPACES, {"name": "bad_name!", "sharing_type": "Private"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="name-error"' in html
    assert "SpaceName" in html
    assert not Space.objects.exists()


def test_members_of_a_private_space_are_refused_next_to_the_field(
    client, alice, alice_profile, bob_profile
):
    client.force_login(alice)
    response = client.post(SPACES, {"name": "solo", "sharing_type": "Private", "members": "bob"})
    assert 'id="members-error"' in response.content.decode()
    assert not Space.objects.exists()


def test_the_space_page_opens_jupyterlab_in_its_own_tab_with_status_idle_timeout_and_cost(
    client, alice, alice_profile
):
    alice_profile.user_settings = IDLE_SETTINGS
    alice_profile.save(update_fields=["user_settings"])
    space = make_space(alice_profile)
    app = make_app(space, last_user_activity_at=timezone.now() - timedelta(minutes=3))
    # Running for two hours on ml.m5.large: twice its hourly price so far.
    StatusTransition.objects.filter(resource_id=app.resource_id).update(
        at=timezone.now() - timedelta(hours=2)
    )
    client.force_login(alice)

    response = client.get(space_url("lab"))

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    html = response.content.decode()
    prefix = proxy_prefix(space.domain.domain_id, "lab")
    # JupyterLab is never framed by Studio's page: a link to Studio's handoff, in a new tab
    # that cannot reach this page (noopener).
    assert "<iframe" not in html
    assert f'id="open-lab-tab" href="{prefix}lab" target="_blank" rel="noopener noreferrer"' in html
    assert 'data-status="InService"' in html
    assert app_badge_text(html) == "Running"
    assert actions(html) == {"Stop", "Restart", "Open"}
    assert '<code id="instance-type">ml.m5.large</code>' in html
    assert "stops after 45 min idle" in html
    assert 'data-running="true"' in html
    assert f'data-subscribe="Space:{space.resource_id}"' in html
    from metering.catalog import InstanceType

    price = InstanceType.objects.get(name="ml.m5.large").price_per_hour
    assert f"${price * 2:.4f}" in html


def test_a_space_that_never_ran_offers_to_open_jupyterlab(client, alice, alice_profile):
    make_space(alice_profile)
    client.force_login(alice)
    html = html_of(client, space_url("lab"))
    assert 'id="open-lab-tab"' not in html
    assert app_badge_text(html) == "Not started"
    assert actions(html) == {"Open"}
    assert "idle shutdown off" in html


def test_a_pending_app_shows_the_progress_bar(client, alice, alice_profile):
    make_app(make_space(alice_profile), status="Pending")
    client.force_login(alice)
    html = html_of(client, space_url("lab"))
    assert 'role="progressbar"' in html
    assert app_badge_text(html) == "Starting"
    # A start can be stopped; there is nothing yet to restart or open.
    assert actions(html) == {"Stop"}


def test_an_app_stopped_for_idleness_says_so(client, alice, alice_profile):
    alice_profile.user_settings = IDLE_SETTINGS
    alice_profile.save(update_fields=["user_settings"])
    make_app(make_space(alice_profile), status="Deleted", stopped_reason="idle")
    client.force_login(alice)
    html = html_of(client, space_url("lab"))
    assert "Stopped after 45 minutes idle; your files are kept." in html
    assert 'id="open-lab"' in html
    assert "Last session" in html


@pytest.mark.parametrize(
    "status, word",
    [
        ("Pending", "Starting"),
        ("InService", "Running"),
        ("Deleting", "Stopping"),
        ("Deleted", "Stopped"),
        ("Failed", "Failed"),
    ],
)
def test_the_dashboard_says_each_app_status_in_its_own_words_and_keeps_the_apis(
    client, alice, alice_profile, status, word
):
    make_app(make_space(alice_profile), status=status)
    client.force_login(alice)
    page = html_of(client, space_url("lab"))
    assert app_badge_text(page) == word
    assert f'id="app-status" data-status-of="App:{alice_profile.domain.domain_id}/lab/' in page
    assert f'data-status="{status}"' in page
    # The words live updates turn a status into (live.js reads them from the badge).
    assert escape('"Deleted": "Stopped"') in page
    listing = html_of(client, SPACES)
    assert f'data-status="{status}"' in listing
    assert f">{word}</span>" in listing


def test_a_stopped_space_reads_stopped_with_its_files_kept_never_deleted(
    client, alice, alice_profile
):
    make_app(make_space(alice_profile), status="Deleted")
    client.force_login(alice)

    page = html_of(client, space_url("lab"))
    assert app_badge_text(page) == "Stopped"
    assert "Stopped — your files are kept" in page
    assert "Deleted" not in strip_tags(page)
    # Nothing to stop or restart: it is opened again from the pane.
    assert actions(page) == {"Open"}

    listing = html_of(client, SPACES)
    assert "your files are kept" in listing
    assert "Deleted" not in strip_tags(listing)
    assert f'action="{space_url("lab", "space_start")}"' in listing


def test_a_stopping_app_offers_nothing_until_it_has_stopped(client, alice, alice_profile):
    make_app(make_space(alice_profile), status="Deleting")
    client.force_login(alice)
    page = html_of(client, space_url("lab"))
    assert app_badge_text(page) == "Stopping"
    assert actions(page) == set()
    assert f'action="{space_url("lab", "space_start")}"' not in html_of(client, SPACES)


def test_a_stopped_app_with_a_warm_server_says_it_opens_at_once(client, alice, alice_profile):
    from domains.models import WarmServer

    app = make_app(make_space(alice_profile), status="Deleted")
    client.force_login(alice)
    assert 'id="warm"' not in html_of(client, space_url("lab"))
    warm = WarmServer.objects.create(app=app, runtime="docker", fingerprint="x")
    assert 'id="warm"' not in html_of(client, space_url("lab"))  # still warming
    warm.ready = True
    warm.save()
    assert "A server is ready for this space: it opens at once." in html_of(
        client, space_url("lab")
    )


def test_a_failed_start_shows_the_servers_log_tail(client, alice, alice_profile):
    reason = "The server exited with code 1. Its last log lines:\nImportError: no module <x>"
    make_app(make_space(alice_profile), status="Failed", failure_reason=reason)
    client.force_login(alice)
    html = html_of(client, space_url("lab"))
    assert 'id="failure-reason"' in html
    assert "ImportError: no module &lt;x&gt;" in html
    assert app_badge_text(html) == "Failed"
    assert actions(html) == {"Open"}


def test_stop_calls_delete_app_and_the_worker_stops_it(client, alice, alice_profile):
    app = make_app(make_space(alice_profile))
    client.force_login(alice)

    response = client.post(space_url("lab", "space_stop"))

    assert response.status_code == 302
    assert response.url == space_url("lab")
    app.refresh_from_db()
    assert app.status in {"Deleting", "Deleted"}
    wait_for(lambda: App.objects.get(pk=app.pk).status == "Deleted", 30, "the app to stop")
    assert "Stopping JupyterLab" in html_of(client, response.url)


def test_stopping_a_stopped_app_shows_the_error_not_a_500(client, alice, alice_profile):
    make_app(make_space(alice_profile), status="Deleted")
    client.force_login(alice)
    response = client.post(space_url("lab", "space_stop"), follow=True)
    assert response.status_code == 200
    assert "only a running app can be deleted" in response.content.decode()


def test_restart_of_a_running_app_stops_it_and_the_page_starts_it_again(
    client, alice, alice_profile
):
    app = make_app(make_space(alice_profile))
    client.force_login(alice)
    response = client.post(space_url("lab", "space_restart"))
    assert response.url == space_url("lab") + "?restart=1"
    app.refresh_from_db()
    assert app.status in {"Deleting", "Deleted"}


def test_restart_of_a_failed_app_calls_create_app(client, alice, alice_profile, settings):
    # An image that does not exist: the worker's start fails at once, and says why. On the
    # sandbox runtime, which looks for its images locally (Docker would try a registry).
    settings.STUDIO_RUNTIME = "sandbox"
    space = make_space(
        alice_profile,
        space_settings={
            "JupyterLabAppSettings": {
                "DefaultResourceSpec": {"SageMakerImageArn": "studio/missing:latest"}
            }
        },
    )
    app = make_app(space, status="Failed", failure_reason="an earlier failure")
    client.force_login(alice)

    response = client.post(space_url("lab", "space_restart"))

    assert response.url == space_url("lab")
    app.refresh_from_db()
    assert app.status in {"Pending", "Failed"}
    assert app.resource_spec["SageMakerImageArn"] == "studio/missing:latest"

    def failed_again() -> bool:
        app.refresh_from_db()
        return app.status == "Failed" and app.failure_reason != "an earlier failure"

    wait_for(failed_again, 30, "the start to fail")
    assert escape(app.failure_reason) in html_of(client, space_url("lab"))


def test_open_on_a_space_not_yet_ready_shows_the_error(client, alice, alice_profile):
    make_space(alice_profile)
    Space.objects.filter(name="lab").update(status="Pending")
    client.force_login(alice)
    response = client.post(space_url("lab", "space_start"), follow=True)
    assert response.status_code == 200
    assert "wait until InService" in response.content.decode()
    assert not App.objects.exists()


def test_another_users_space_is_not_found(client, alice, alice_profile, bob, bob_profile):
    make_app(make_space(alice_profile))
    client.force_login(bob)
    assert client.get(space_url("lab")).status_code == 404
    for view in ("space_start", "space_stop", "space_restart"):
        assert client.post(space_url("lab", view)).status_code == 404
    assert App.objects.get().status == "InService"


def test_a_member_of_a_shared_space_sees_its_page(client, alice, alice_profile, bob, bob_profile):
    space = make_space(alice_profile, sharing_type="Shared")
    space.members.add(bob_profile)
    client.force_login(bob)
    assert "Open JupyterLab" in html_of(client, space_url("lab"))


# --- The websocket ------------------------------------------------------------------------


async def test_a_shared_space_member_subscribes_and_receives_its_apps_progress(
    alice, alice_profile, bob, bob_profile
):
    def shared_space_with_bob() -> Space:
        space = make_space(alice_profile, sharing_type="Shared")
        space.members.add(bob_profile)
        return make_app(space, status="Pending")

    app = await sync_to_async(shared_space_with_bob)()
    space_id = f"{alice_profile.domain.domain_id}/lab"
    communicator, connected = await _connect(bob, bob_profile.pk)
    assert connected
    try:
        await communicator.send_json_to({"subscribe": f"Space:{space_id}"})
        ack = await _next_event(communicator, lambda e: e["kind"] in {"subscribed", "error"})
        assert ack == {"kind": "subscribed", "subscribe": f"Space:{space_id}"}
        # As the worker publishes it: to the owner's profile, the app's and the space's groups.
        await sync_to_async(send_now)(app.event("progress", step="starting server", percent=40))
        event = await _next_event(communicator, lambda e: e["kind"] == "progress")
        assert (event["resource_id"], event["percent"]) == (app.resource_id, 40)
    finally:
        await communicator.disconnect()


async def test_nobody_else_subscribes_to_a_space(alice_profile, bob, bob_profile):
    await sync_to_async(make_space)(alice_profile)
    communicator, connected = await _connect(bob, bob_profile.pk)
    assert connected
    try:
        domain_id = alice_profile.domain.domain_id
        replies = []
        for key in (f"Space:{domain_id}/lab", f"Space:{domain_id}/none", "Space:lab", "Space:"):
            await communicator.send_json_to({"subscribe": key})
            replies.append(await communicator.receive_json_from(timeout=10))
        assert [r["kind"] for r in replies] == ["error"] * 4
        # Alice's space is as absent as one that does not exist.
        assert replies[0]["message"] == replies[1]["message"].replace("none", "lab")
        await sync_to_async(send_now)(
            Event(
                "progress",
                "Space",
                f"{domain_id}/lab",
                [resource_group("Space", f"{domain_id}/lab")],
            )
        )
        assert await communicator.receive_nothing(timeout=1)
    finally:
        await communicator.disconnect()


def test_home_lists_the_profiles_spaces_with_their_jupyterlab_status(client, alice, alice_profile):
    from domains.models import App, Space

    space = Space.objects.create(
        domain=alice_profile.domain, name="home-lab", owner=alice_profile, status="InService"
    )
    App.objects.create(space=space, status="InService")
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert 'href="/spaces/home-lab/"' in page
    assert (
        f'data-status-of="App:{alice_profile.domain.domain_id}/home-lab/JupyterLab/default"' in page
    )
    # The dashboard's word, as on the space pages; the API's status stays in data-status.
    assert 'data-status="InService"' in page and ">Running<" in page


def test_home_says_a_stopped_space_is_stopped(client, alice, alice_profile):
    from domains.models import App, Space

    space = Space.objects.create(
        domain=alice_profile.domain, name="home-lab", owner=alice_profile, status="InService"
    )
    App.objects.create(space=space, status="Deleted")
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert ">Stopped<" in page and ">Deleted<" not in page
