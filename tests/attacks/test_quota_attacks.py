"""Fair share and installation hygiene: a member tries to hold more than a fair share (one more
job or app than the default quota, a job that runs for ever), and the installation's data
directory, database and host names are tried as an outsider on the same machine would."""

import http.client
import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from jobs.models import TrainingJob
from tests.attacks.quota_helpers import boto_request as request
from tests.conftest import ROOT, settled


@pytest.fixture
def one_of_each(settings):
    """Defaults of one concurrent job and one app: set before the domain (and so its default
    policy) is made, as an operator sets them before creating domains."""
    settings.STUDIO_DEFAULT_MAX_CONCURRENT_JOBS = 1
    settings.STUDIO_DEFAULT_MAX_CONCURRENT_APPS = 1


def refusal(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


def long_job(name: str) -> dict:
    # A built-in algorithm on the shared data: InProgress from the moment it is created.
    return request(name, StoppingCondition={"MaxRuntimeInSeconds": 600})


@pytest.mark.usefixtures("instance_types")
def test_a_members_second_concurrent_job_passes_the_default_quota_and_is_refused(
    one_of_each, member, data, canaries
):
    assert member.profile.domain.default_policies.get().max_concurrent_jobs == 1
    member.api.create_training_job(**long_job("first"))

    answer = refusal(lambda: member.api.create_training_job(**long_job("second")))

    assert answer["Error"]["Code"] == "ResourceLimitExceeded"
    assert "at most 1 concurrent jobs" in answer["Error"]["Message"]
    assert not TrainingJob.objects.filter(name="second").exists()
    canaries.assert_absent(answer)


@pytest.mark.usefixtures("instance_types")
def test_a_member_whose_own_policy_sets_no_quota_still_meets_the_installation_default(
    settings, member, root, data, canaries
):
    from domains.services import create_policy, update_user_profile

    settings.STUDIO_DEFAULT_MAX_CONCURRENT_JOBS = 1
    domain_id = member.domain_id
    create_policy(root, domain_id, name="Unbounded", allow=["sagemaker:*"])
    update_user_profile(root, domain_id, member.profile.name, policies=["Unbounded"])
    member.api.create_training_job(**long_job("first"))

    answer = refusal(lambda: member.api.create_training_job(**long_job("second")))

    assert answer["Error"]["Code"] == "ResourceLimitExceeded"
    assert "STUDIO_DEFAULT_MAX_CONCURRENT_JOBS" in answer["Error"]["Message"]
    canaries.assert_absent(answer)


@pytest.mark.usefixtures("instance_types")
def test_a_domain_full_of_jobs_refuses_another_members_job(
    settings, member, bob, make_profile, data, canaries
):
    from domains.services import create_access_key
    from tests.integration.api import sagemaker

    settings.STUDIO_DOMAIN_MAX_CONCURRENT_JOBS = 1
    bob_profile = make_profile(member.profile.domain, bob)
    key, secret = create_access_key(bob, member.domain_id, bob_profile.name)
    bobs_api = sagemaker(member.url, key.access_key_id, secret)
    bobs_api.create_training_job(**long_job("bobs"))

    answer = refusal(lambda: member.api.create_training_job(**long_job("alices")))

    assert answer["Error"]["Code"] == "ResourceLimitExceeded"
    assert "for the whole domain" in answer["Error"]["Message"]
    canaries.assert_absent(answer)


@pytest.mark.usefixtures("instance_types")
@pytest.mark.parametrize("kind", ["training", "processing"])
def test_a_job_asking_to_run_longer_than_the_ceiling_is_refused(kind, member, data, canaries):
    if kind == "training":
        call = lambda: member.api.create_training_job(  # noqa: E731
            **request("forever", StoppingCondition={"MaxRuntimeInSeconds": 86_401})
        )
    else:
        call = lambda: member.api.create_processing_job(  # noqa: E731
            ProcessingJobName="forever",
            ProcessingResources={
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 1,
                }
            },
            AppSpecification={"ImageUri": "studio/sklearn:latest"},
            RoleArn="arn:aws:iam::000000000000:role/studio",
            StoppingCondition={"MaxRuntimeInSeconds": 86_401},
        )

    answer = refusal(call)

    assert answer["Error"]["Code"] == "ValidationException"
    message = answer["Error"]["Message"]
    assert "StoppingCondition.MaxRuntimeInSeconds" in message and "86400" in message
    assert not TrainingJob.objects.filter(name="forever").exists()
    canaries.assert_absent(answer)


def test_a_members_second_running_app_passes_the_default_quota_and_is_refused(
    one_of_each, jupyter, member, canaries
):
    from domains.services import create_space

    for name in ("one", "two"):
        settled(create_space(member.user, member.domain_id, name=name))
    member.api.create_app(
        DomainId=member.domain_id, SpaceName="one", AppType="JupyterLab", AppName="default"
    )

    answer = refusal(
        lambda: member.api.create_app(
            DomainId=member.domain_id, SpaceName="two", AppType="JupyterLab", AppName="default"
        )
    )

    assert answer["Error"]["Code"] == "ResourceLimitExceeded"
    assert "at most 1 running JupyterLab apps" in answer["Error"]["Message"]
    canaries.assert_absent(answer)


def _studio_setup(data_dir: Path) -> None:
    """What `studio up` does first, in a process of its own: settings, then migrate, on the
    embedded SQLite database."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ALLOWED_HOSTS"}}
    env |= {"STUDIO_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "studio.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_directory_keeps_its_keys_and_database_from_other_host_users(tmp_path):
    data_dir = tmp_path / "fresh"

    _studio_setup(data_dir)

    assert _mode(data_dir) == 0o700
    for name in ("secret_key", "encryption_key", "studio.sqlite3"):
        assert _mode(data_dir / name) == 0o600, name
    for sidecar in data_dir.glob("studio.sqlite3-*"):
        assert _mode(sidecar) & 0o077 == 0, sidecar


def test_an_older_world_readable_data_directory_is_made_private_at_start(tmp_path):
    data_dir = tmp_path / "older"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    for name in ("secret_key", "encryption_key"):
        (data_dir / name).write_text("an older install's secret\n")
        (data_dir / name).chmod(0o644)

    _studio_setup(data_dir)

    assert _mode(data_dir) == 0o700
    for name in ("secret_key", "encryption_key", "studio.sqlite3"):
        assert _mode(data_dir / name) == 0o600, name


def test_a_request_naming_a_foreign_host_is_refused(asgi_server, member, canaries):
    """A DNS-rebinding page reaches the server under its own name: Django refuses the host,
    so the member's session is never used for it."""
    address = urlsplit(asgi_server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request("GET", "/login/", headers={"Host": "attacker.example"})
    foreign = connection.getresponse()
    body = foreign.read().decode(errors="replace")
    connection.request("GET", "/login/", headers={"Host": address.netloc})
    local = connection.getresponse()
    local.read()

    assert foreign.status == 400
    assert local.status != 400
    canaries.assert_absent(body)


def test_a_websocket_from_a_foreign_origin_is_refused_even_with_the_members_session(
    asgi_server, member
):
    """A page on another site cannot open the dashboard's event stream with the member's
    cookie (cross-site websocket hijacking): the Origin check holds now that ALLOWED_HOSTS is
    not "*". The same session from Studio's own origin connects."""
    import asyncio

    import websockets
    from django.test import Client

    client = Client()
    client.force_login(member.user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    address = urlsplit(asgi_server)

    async def connects(origin: str) -> bool:
        try:
            async with websockets.connect(
                f"ws://{address.netloc}/ws/events/?profile={member.profile.pk}",
                origin=origin,
                additional_headers={"Cookie": cookie},
                open_timeout=10,
            ):
                return True
        except websockets.exceptions.InvalidStatus:
            return False

    assert asyncio.run(connects(asgi_server)) is True
    assert asyncio.run(connects("http://attacker.example")) is False
