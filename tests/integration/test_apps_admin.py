"""Notebooks in the admin console: a domain admin sees their domains' apps only and stops a
runaway one (the owner's page says so, their files stay); members and other admins cannot."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from domains.models import App, Space, WarmServer
from tests.conftest import wait_for
from tests.integration.test_admin_console import (  # the console's fixtures and helpers
    alice_admin,  # noqa: F401
    carol_admin,  # noqa: F401
    console,
    finance,  # noqa: F401
    messages_of,
    two_domains,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("live")
APPS = reverse("admin:domains_app_changelist")


def running_app(profile, name: str) -> App:
    space = Space.objects.create(
        domain=profile.domain, name=name, owner=profile, status="InService"
    )
    return App.objects.create(
        space=space, status="InService", resource_spec={"InstanceType": "ml.t3.medium"}
    )


def test_an_admin_lists_their_domains_apps_only(two_domains, alice, bob_profile, carol_admin):  # noqa: F811
    bobs = running_app(bob_profile, "bob-lab")
    carols = running_app(carol_admin, "carol-lab")
    WarmServer.objects.create(app=bobs, runtime="docker", fingerprint="x", ready=True)
    page = console(alice).get(APPS)
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [bobs]
    html = page.content.decode()
    assert "bob-lab" in html and "ml.t3.medium" in html and "carol-lab" not in html
    assert console(alice).get(
        reverse("admin:domains_app_change", args=[carols.pk])
    ).status_code in (
        302,
        404,
    )


def test_an_admin_stops_a_runaway_app_and_its_owner_is_told(two_domains, alice, bob, bob_profile):  # noqa: F811
    app = running_app(bob_profile, "bob-lab")
    response = console(alice).post(
        APPS, {"action": "stop_apps", ACTION_CHECKBOX_NAME: [app.pk]}, follow=True
    )
    assert any("Stopping: bob-lab/default" in m for m in messages_of(response))
    wait_for(lambda: App.objects.get(pk=app.pk).status == "Deleted", 30, "the app to stop")
    assert App.objects.get(pk=app.pk).stopped_reason == "admin"
    page = console(bob).get(reverse("dashboard:space", args=["bob-lab"]))
    assert "Stopped by a domain admin; your files are kept." in page.content.decode()


def test_another_domains_admin_and_members_cannot_stop_it(two_domains, bob, bob_profile, carol):  # noqa: F811
    app = running_app(bob_profile, "bob-lab")
    for outsider in (carol, bob):
        console(outsider).post(APPS, {"action": "stop_apps", ACTION_CHECKBOX_NAME: [app.pk]})
    assert App.objects.get(pk=app.pk).status == "InService"
