"""Which container runtime is active (STUDIO_RUNTIME, `auto` resolved) is on every dashboard
page and in /healthz."""

import shutil
import subprocess

import pytest
from django.urls import reverse

from studio.core.runtime import _docker_ping
from tests.capabilities import need


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


@pytest.fixture
def docker_asked_again():
    """The Docker probe keeps its answer per process; these tests change what it would find."""
    _docker_ping.cache_clear()
    yield
    _docker_ping.cache_clear()


def docker_cli_reaches_an_engine() -> bool:
    """Asked of Docker's own client, not of the code under test."""
    if shutil.which("docker") is None:
        return False
    answer = subprocess.run(["docker", "version"], capture_output=True, timeout=10)
    return answer.returncode == 0


def test_auto_picks_docker_when_an_engine_answers(client, settings, db, docker_asked_again):
    need("docker", docker_cli_reaches_an_engine(), "`docker version` reaches no Docker Engine")
    settings.STUDIO_RUNTIME = "auto"

    assert client.get(reverse("healthz")).json()["runtime"] == "docker"


def test_auto_falls_back_to_the_sandbox_without_docker(
    client, settings, db, docker_asked_again, monkeypatch, tmp_path
):
    # Docker's clients, the SDK included, go where DOCKER_HOST says: here nothing listens.
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    settings.STUDIO_RUNTIME = "auto"

    assert client.get(reverse("healthz")).json()["runtime"] == "sandbox"
