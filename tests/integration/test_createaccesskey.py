"""`manage.py createaccesskey`: the printed key signs real boto3 calls against the live server;
--create makes the domain, account and profile and provisions them before printing; mistakes
are said in words with a non-zero exit status."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from domains.models import AccessKey, Domain, StudioStatus
from tests.integration.api import sagemaker
from tests.integration.test_sts_api import sts_client

pytestmark = pytest.mark.usefixtures("live")


def run(**options) -> tuple[dict[str, str], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("createaccesskey", stdout=out, stderr=err, **options)
    printed = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    return printed, err.getvalue()


def test_create_makes_a_domain_account_and_profile_whose_key_signs_boto3_calls(asgi_server):
    printed, said = run(domain="platform", user="dana", create=True, endpoint_url=asgi_server)
    assert set(printed) == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
    }
    assert printed["AWS_DEFAULT_REGION"] == "us-east-1"
    assert printed["AWS_ENDPOINT_URL"] == asgi_server
    assert "Created domain platform" in said and "Created user profile dana" in said
    assert "one-time password" in said
    domain = Domain.objects.get(name="platform")
    profile = domain.profiles.get(name="dana")
    # Provisioned before the key was printed: nothing left Pending for the worker.
    assert (domain.status, profile.status) == (StudioStatus.IN_SERVICE, StudioStatus.IN_SERVICE)
    assert profile.home_directory.is_dir()
    assert profile.user == get_user_model().objects.get(username="dana")
    key_id, secret = printed["AWS_ACCESS_KEY_ID"], printed["AWS_SECRET_ACCESS_KEY"]
    assert AccessKey.objects.get(access_key_id=key_id).profile == profile
    identity = sts_client(asgi_server, key_id, secret).get_caller_identity()
    assert identity["Account"] == domain.account_id
    assert identity["Arn"].endswith("/dana")
    client = sagemaker(asgi_server, key_id, secret)
    assert client.describe_domain(DomainId=domain.domain_id)["DomainName"] == "platform"

    # Run again: the same domain and profile, a second key (and no second account).
    again, said = run(domain=domain.domain_id, user="dana", create=True)
    assert "Created" not in said and "AWS_ENDPOINT_URL" not in again
    assert again["AWS_ACCESS_KEY_ID"] != key_id
    assert profile.access_keys.count() == 2


def test_an_existing_profile_by_domain_name_or_id(asgi_server, alice_profile):
    domain = alice_profile.domain
    for wanted in (domain.name, domain.domain_id):
        printed, _ = run(domain=wanted, user=alice_profile.name)
        client = sagemaker(
            asgi_server, printed["AWS_ACCESS_KEY_ID"], printed["AWS_SECRET_ACCESS_KEY"]
        )
        described = client.describe_user_profile(
            DomainId=domain.domain_id, UserProfileName=alice_profile.name
        )
        assert described["Status"] == "InService"
    # A profile holds two keys at most: the third is refused in words.
    with pytest.raises(CommandError, match="already has 2 access keys"):
        run(domain=domain.name, user=alice_profile.name)


def test_unknown_names_are_said_and_fail(alice_profile):
    with pytest.raises(
        CommandError, match=r"No domain has the id or name 'nowhere'.*--create"
    ) as e:
        run(domain="nowhere", user="x")
    assert e.value.returncode != 0
    with pytest.raises(CommandError, match=r"has no user profile 'ghost'.*--create"):
        run(domain=alice_profile.domain.name, user="ghost")
    assert not Domain.objects.filter(name="nowhere").exists()
    assert not alice_profile.domain.profiles.filter(name="ghost").exists()
    # A name SageMaker would refuse is refused before anything is made.
    with pytest.raises(CommandError, match="DomainName"):
        run(domain="bad_name!", user="x", create=True)
    assert not Domain.objects.filter(name="bad_name!").exists()
