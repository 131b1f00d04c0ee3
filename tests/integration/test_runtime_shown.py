"""Which container runtime is active (STUDIO_RUNTIME, `auto` resolved) is on every dashboard
page and in /healthz."""

import pytest
from django.urls import reverse

from studio.core.runtime import docker_available


@pytest.mark.parametrize("configured", ["docker", "sandbox"])
def test_the_top_bar_and_healthz_name_the_runtime(
    client, settings, alice, alice_profile, configured
):
    settings.STUDIO_RUNTIME = configured
    client.force_login(alice)

    html = client.get(reverse("dashboard:home")).content.decode()
    assert f'data-runtime="{configured}"' in html
    assert f"{configured} runtime" in html
    assert client.get(reverse("healthz")).json()["runtime"] == configured


def test_auto_names_the_runtime_it_picked(client, settings, db):
    settings.STUDIO_RUNTIME = "auto"

    picked = "docker" if docker_available() else "sandbox"
    assert client.get(reverse("healthz")).json()["runtime"] == picked
