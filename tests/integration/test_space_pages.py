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
from tests.conftest import settled, wait_for
from tests.integration.job_pages import errors_in, inside
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
    assert "Space team was created to run on ml.t3.medium" in html


def test_a_bad_name_shows_the_field_error_and_creates_nothing(client, alice, alice_profile):
    client.force_login(alice)
    response = client.post(SPACES, {"name": "bad_name!", "sharing_type": "Private"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="name-error"' in html
    assert "Use only letters, digits and hyphens" in html  # the rule in words
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
    for view in ("space_start", "space_stop", "space_restart", "space_delete"):
        assert client.post(space_url("lab", view)).status_code == 404
    assert App.objects.get().status == "InService"
    assert Space.objects.get().status == "InService"


def test_a_member_of_a_shared_space_sees_its_page(client, alice, alice_profile, bob, bob_profile):
    space = make_space(alice_profile, sharing_type="Shared")
    space.members.add(bob_profile)
    client.force_login(bob)
    assert "Open JupyterLab" in html_of(client, space_url("lab"))


# --- The instance type a space is created with --------------------------------------------


def options_of(html: str, name: str) -> list[str]:
    """The values a form's <select name=...> offers."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def selected_of(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    return chosen.group(1) if chosen else None


def test_the_create_form_offers_the_catalogs_types_with_the_profiles_default_chosen(
    client, alice, alice_profile
):
    from metering.catalog import InstanceType, offered_names

    InstanceType.objects.filter(name="ml.r5.xlarge").update(enabled=False)
    alice_profile.user_settings = {
        "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.m5.large"}}
    }
    alice_profile.save(update_fields=["user_settings"])
    client.force_login(alice)

    html = html_of(client, SPACES)

    assert options_of(html, "instance_type") == offered_names()
    assert "ml.r5.xlarge" not in options_of(html, "instance_type")
    assert selected_of(html, "instance_type") == "ml.m5.large"
    assert "ml.m5.large · 2 vCPU, 8 GiB · $0.115/h" in html


def test_a_space_created_with_an_instance_type_keeps_it_and_starts_on_it(
    client, alice, alice_profile, settings
):
    client.force_login(alice)

    response = client.post(
        SPACES, {"name": "big", "sharing_type": "Private", "instance_type": "ml.c5.xlarge"}
    )

    assert response.status_code == 302
    space = Space.objects.get(name="big")
    # Where SageMaker keeps it, so DescribeSpace returns it as stored.
    assert space.space_settings == {
        "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.c5.xlarge"}}
    }
    assert "created to run on ml.c5.xlarge" in html_of(client, SPACES)
    row = re.search(r'<tr data-space="big".*?</tr>', html_of(client, SPACES), re.S).group(0)
    assert "<code>ml.c5.xlarge</code>" in row
    assert '<code id="instance-type">ml.c5.xlarge</code>' in html_of(client, space_url("big"))

    settled(space)
    # An image that does not exist, on the sandbox runtime: the start fails at once in the
    # worker; what it was asked to run on is decided before.
    space.space_settings["JupyterLabAppSettings"]["DefaultResourceSpec"]["SageMakerImageArn"] = (
        "studio/missing:latest"
    )
    space.save(update_fields=["space_settings"])
    settings.STUDIO_RUNTIME = "sandbox"
    client.post(space_url("big", "space_start"))
    assert App.objects.get(space=space).resource_spec["InstanceType"] == "ml.c5.xlarge"
    wait_for(lambda: App.objects.get(space=space).status == "Failed", 30, "the start to fail")


@pytest.fixture
def alice_without_gpus(root, alice_profile):
    """Alice's only policy allows no ml.p3.2xlarge (a quota of 0)."""
    from domains.services import create_policy, update_user_profile

    domain_id = alice_profile.domain.domain_id
    create_policy(
        root,
        domain_id,
        name="NoGPU",
        allow=["sagemaker:*"],
        max_instances_per_type={"ml.p3.2xlarge": 0},
    )
    update_user_profile(root, domain_id, "alice", policies=["NoGPU"])


def test_a_type_the_owners_policy_allows_none_of_is_not_offered_and_refused_on_the_field(
    client, alice, alice_profile, alice_without_gpus
):
    client.force_login(alice)

    offered = options_of(html_of(client, SPACES), "instance_type")
    assert "ml.p3.2xlarge" not in offered and "ml.t3.medium" in offered

    response = client.post(
        SPACES, {"name": "gpu", "sharing_type": "Private", "instance_type": "ml.p3.2xlarge"}
    )
    error = re.search(r'id="instance_type-error">([^<]*)<', response.content.decode())
    assert error, "no error next to the instance type"
    assert "Policy &#x27;NoGPU&#x27; allows no ml.p3.2xlarge instances" in error.group(1)

    response = client.post(
        SPACES, {"name": "gpu", "sharing_type": "Private", "instance_type": "ml.g5.2xlarge"}
    )
    # SageMaker's type, not in this installation's catalog.
    error = re.search(r'id="instance_type-error">([^<]*)<', response.content.decode())
    assert error and "ml.g5.2xlarge is not offered here" in error.group(1)
    assert not Space.objects.exists()


def test_a_stopped_spaces_type_is_changed_on_its_page_and_its_next_start_uses_it(
    client, alice, alice_profile, settings
):
    space = make_space(
        alice_profile,
        space_settings={
            "JupyterLabAppSettings": {
                "DefaultResourceSpec": {"SageMakerImageArn": "studio/missing:latest"}
            }
        },
    )
    make_app(space, status="Deleted", resource_spec={"InstanceType": "ml.m5.large"})
    client.force_login(alice)
    html = html_of(client, space_url("lab"))
    # The last session ran on ml.m5.large; the next start is on the profile's default.
    assert '<code id="instance-type">ml.t3.medium</code>' in html
    assert selected_of(html, "instance_type") == "ml.t3.medium"

    response = client.post(
        space_url("lab", "space_instance_type"), {"instance_type": "ml.r5.large"}
    )

    assert response.url == space_url("lab")
    space.refresh_from_db()
    # Merged over what it had: the image stays.
    assert space.space_settings == {
        "JupyterLabAppSettings": {
            "DefaultResourceSpec": {
                "SageMakerImageArn": "studio/missing:latest",
                "InstanceType": "ml.r5.large",
            }
        }
    }
    html = html_of(client, space_url("lab"))
    assert "JupyterLab in lab starts on ml.r5.large from now on." in html
    assert '<code id="instance-type">ml.r5.large</code>' in html

    # The image does not exist, on the sandbox runtime: the start fails at once in the worker.
    settings.STUDIO_RUNTIME = "sandbox"
    client.post(space_url("lab", "space_start"))
    assert App.objects.get(space=space).resource_spec["InstanceType"] == "ml.r5.large"
    wait_for(lambda: App.objects.get(space=space).status == "Failed", 30, "the start to fail")


def test_the_type_of_a_running_space_or_of_someone_elses_is_not_offered_for_change(
    client, alice, alice_profile, bob, bob_profile
):
    make_app(make_space(alice_profile, "running"))
    shared = make_space(alice_profile, "team", sharing_type="Shared")
    shared.members.add(bob_profile)
    client.force_login(alice)
    assert 'id="instance-type-form"' not in html_of(client, space_url("running"))
    assert 'id="instance-type-form"' in html_of(client, space_url("team"))

    client.force_login(bob)
    assert 'id="instance-type-form"' not in html_of(client, space_url("team"))
    response = client.post(
        space_url("team", "space_instance_type"), {"instance_type": "ml.r5.large"}, follow=True
    )
    assert "belongs to another user profile" in response.content.decode()
    assert Space.objects.get(name="team").space_settings == {}


def test_changing_to_a_type_the_owners_policy_allows_none_of_is_refused(
    client, alice, alice_profile, alice_without_gpus
):
    make_space(alice_profile)
    client.force_login(alice)
    assert "ml.p3.2xlarge" not in options_of(html_of(client, space_url("lab")), "instance_type")

    response = client.post(
        space_url("lab", "space_instance_type"), {"instance_type": "ml.p3.2xlarge"}, follow=True
    )

    assert "Policy &#x27;NoGPU&#x27; allows no ml.p3.2xlarge instances" in response.content.decode()
    assert Space.objects.get().space_settings == {}


# --- Deleting a space ---------------------------------------------------------------------


def test_delete_is_offered_to_the_owner_and_an_admin_not_to_another_member(
    client, alice, alice_profile, bob, bob_profile, carol, domain, make_profile
):
    make_profile(domain, carol, role="Admin")
    space = make_space(alice_profile, "team", sharing_type="Shared")
    space.members.add(bob_profile)

    seen = {}
    for user in (alice, bob, carol):
        client.force_login(user)
        html = html_of(client, space_url("team"))
        seen[user.username] = 'id="delete-space"' in html
        assert "{#" not in html  # a template comment Django would print
    assert seen == {"alice": True, "bob": False, "carol": True}

    client.force_login(bob)
    response = client.post(space_url("team", "space_delete"), follow=True)
    assert "belongs to another user profile" in response.content.decode()
    assert Space.objects.get().status == "InService"


def test_the_delete_confirmation_says_what_happens_to_the_files(client, alice, alice_profile):
    make_space(alice_profile, "mine")
    make_space(alice_profile, "team", sharing_type="Shared")
    client.force_login(alice)
    private = html_of(client, space_url("mine"))
    shared = html_of(client, space_url("team"))
    assert (
        'data-confirm="Delete space mine? It cannot be opened again, and this cannot be undone. '
        "Its files stay in your home directory" in private
    )
    assert "the files on its volume are deleted" in shared


def test_deleting_a_space_whose_jupyterlab_runs_is_refused_and_changes_nothing(
    client, alice, alice_profile
):
    app = make_app(make_space(alice_profile))
    client.force_login(alice)
    html = html_of(client, space_url("lab"))
    button = re.search(r'<button[^>]*id="delete-space"[^>]*>', html).group(0)
    assert "disabled" in button and "Stop JupyterLab first" in button

    response = client.post(space_url("lab", "space_delete"), follow=True)

    assert response.redirect_chain[-1][0] == space_url("lab")
    assert (
        "Space lab cannot be deleted while its JupyterLab app is InService: stop it first"
        in response.content.decode()
    )
    assert Space.objects.get().status == "InService"
    app.refresh_from_db()
    assert app.status == "InService"


def test_deleting_a_stopped_space_removes_it_and_what_its_server_kept_not_the_home(
    client, alice, alice_profile
):
    from domains.notebooks.access import boot_dir, runtime_dir
    from domains.services import create_space

    space = settled(create_space(alice, alice_profile.domain.domain_id, name="old"))
    make_app(space, status="Deleted")
    for directory in (runtime_dir(space), boot_dir(space)):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "left-over").write_text("x")
    notes = space.home_volume / "notes.txt"
    notes.write_text("mine")
    client.force_login(alice)
    assert 'id="delete-space"' in html_of(client, space_url("old"))

    response = client.post(space_url("old", "space_delete"))

    assert response.status_code == 302 and response.url == SPACES
    assert "Space old is being deleted." in html_of(client, SPACES)
    wait_for(lambda: not Space.objects.exists(), 30, "the space to be deleted")
    assert not App.objects.exists()
    assert not runtime_dir(space).exists() and not boot_dir(space).exists()
    # A private space works in its owner's home, which their other spaces share.
    assert notes.read_text() == "mine"
    assert client.get(space_url("old")).status_code == 404


def test_deleting_a_shared_space_deletes_its_volume_so_a_namesake_starts_empty(
    client, alice, alice_profile, bob
):
    from domains.services import create_space

    domain_id = alice_profile.domain.domain_id
    team = settled(create_space(alice, domain_id, name="team", sharing_type="Shared"))
    volume = team.home_volume
    volume.mkdir(parents=True, exist_ok=True)
    (volume / "results.csv").write_text("secret")
    # A link the space's members left behind is removed, never followed.
    outside = volume.parent.parent / "outside.txt"
    outside.write_text("not theirs")
    (volume / "escape").symlink_to(outside)
    client.force_login(alice)

    assert client.post(space_url("team", "space_delete")).url == SPACES

    wait_for(lambda: not Space.objects.exists(), 30, "the space to be deleted")
    assert not volume.exists()
    assert outside.read_text() == "not theirs"
    again = settled(create_space(alice, domain_id, name="team", sharing_type="Shared"))
    assert not (again.home_volume / "results.csv").exists()


def test_a_space_whose_start_failed_can_be_deleted(client, alice, alice_profile):
    make_app(make_space(alice_profile), status="Failed", failure_reason="no such image")
    client.force_login(alice)
    response = client.post(space_url("lab", "space_delete"))
    assert response.url == SPACES
    wait_for(lambda: not Space.objects.exists(), 30, "the space to be deleted")


def test_another_domains_space_cannot_be_deleted(
    client, alice, alice_profile, carol, make_domain, make_profile
):
    vision = make_domain("vision")
    theirs = make_space(make_profile(vision, carol), "lab")
    client.force_login(alice)
    assert client.post(space_url("lab", "space_delete")).status_code == 404
    assert Space.objects.get(pk=theirs.pk).status == "InService"


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


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("bad_name", "Use only letters, digits and hyphens, and begin and end with a letter"),
        ("ends-", "begin and end with a letter or digit, at most 63 characters."),
        ("x" * 64, "at most 63 characters (it has 64)"),
        ("", "This field is required."),
    ],
)
def test_a_bad_space_name_is_refused_at_the_name_in_words_keeping_the_rest(
    client, alice, alice_profile, bob_profile, name, words
):
    client.force_login(alice)
    response = client.post(SPACES, {"name": name, "sharing_type": "Shared", "members": "bob"})
    assert response.status_code == 200
    html = response.content.decode()
    assert any(words in error for error in errors_in(html, "field-name")), errors_in(
        html, "field-name"
    )
    field = inside(html, "field-name")
    assert (
        'aria-invalid="true"' in field
        and 'aria-describedby="id_name_helptext id_name_error"' in field
    )
    assert "regular expression" not in html and "SpaceName" not in html
    # The rest of what was chosen is kept.
    assert re.search(r'value="Shared"[^>]*checked', html)
    assert re.search(r'value="bob"[^>]*checked', html)
    assert not Space.objects.exists()


def test_a_taken_space_name_is_refused_at_the_name(client, alice, alice_profile):
    make_space(alice_profile, "lab")
    client.force_login(alice)
    response = client.post(SPACES, {"name": "lab", "sharing_type": "Private"})
    assert response.status_code == 200
    assert any("already exists" in e for e in errors_in(response.content.decode(), "field-name"))
    assert Space.objects.count() == 1
