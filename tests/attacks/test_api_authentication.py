"""Refused credentials, with the real boto3 against a live server: a wrong secret, an unknown
key, a signature made 20 minutes off the server's clock, another domain's key, a suspended
profile's key and a disabled key. Each is refused with AWS's code, and what the request would
have made or removed is checked afterwards: nothing changed."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from domains.models import Space
from domains.services import (
    create_access_key,
    create_space,
    suspend_user_profile,
    update_access_key,
)
from tests.conftest import settled
from tests.integration.api import sagemaker, sagemaker_runtime

pytestmark = pytest.mark.usefixtures("live")


def refused(call) -> tuple[str, str]:
    """The code and message of the error `call` answers (it must answer one)."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error.get("Message", "")


def invoke(runtime, name: str = "anything"):
    return lambda: runtime.invoke_endpoint(EndpointName=name, Body=b"1,2", ContentType="text/csv")


@pytest.fixture
def lab(member):
    """alice's own space, which refused requests try to delete."""
    return settled(create_space(member.user, member.domain_id, name="lab"))


def assert_untouched(lab) -> None:
    """alice's space is still there as it was, and no space was made by a refused request."""
    assert list(Space.objects.values_list("name", "status")) == [("lab", "InService")]
    assert Space.objects.get().pk == lab.pk


def attempts(api, domain_id: str) -> list:
    """A create, a delete and a read of alice's domain, as a refused caller would try them."""
    return [
        lambda: api.create_space(DomainId=domain_id, SpaceName="forged"),
        lambda: api.delete_space(DomainId=domain_id, SpaceName="lab"),
        lambda: api.describe_space(DomainId=domain_id, SpaceName="lab"),
    ]


def test_a_wrong_secret_is_refused_as_an_invalid_signature(member, lab):
    api = sagemaker(member.url, member.key_id, member.secret[:-1] + "x")
    for call in attempts(api, member.domain_id):
        code, message = refused(call)
        assert code == "InvalidSignatureException"
        assert "signature we calculated does not match" in message
    runtime = sagemaker_runtime(member.url, member.key_id, member.secret[:-1] + "x")
    assert refused(invoke(runtime))[0] == "InvalidSignatureException"
    assert_untouched(lab)


def test_an_unknown_key_is_an_unrecognized_client(member, lab):
    api = sagemaker(member.url, "SKIANOSUCHKEY0000000", member.secret)
    for call in attempts(api, member.domain_id):
        assert refused(call)[0] == "UnrecognizedClientException"
    runtime = sagemaker_runtime(member.url, "SKIANOSUCHKEY0000000", member.secret)
    assert refused(invoke(runtime))[0] == "UnrecognizedClientException"
    assert_untouched(lab)


@pytest.mark.parametrize("off", [timedelta(minutes=-20), timedelta(minutes=20)])
def test_a_signature_20_minutes_off_the_clock_is_refused(member, lab, monkeypatch, off):
    # botocore reads the time it signs with through this function.
    monkeypatch.setattr(
        "botocore.auth.get_current_datetime",
        lambda remove_tzinfo=True: (datetime.now(UTC) + off).replace(tzinfo=None),
    )
    api = sagemaker(member.url, member.key_id, member.secret)
    for call in attempts(api, member.domain_id):
        code, message = refused(call)
        assert code == "InvalidSignatureException"
        assert message.startswith("Signature expired")
    runtime = sagemaker_runtime(member.url, member.key_id, member.secret)
    assert refused(invoke(runtime))[0] == "InvalidSignatureException"
    assert_untouched(lab)


def test_another_domains_key_finds_nothing_of_this_domain(
    member, lab, make_domain, make_profile, carol
):
    other = make_domain("elsewhere")
    make_profile(other, carol)
    key, secret = create_access_key(carol, other.domain_id, "carol")
    theirs = sagemaker(member.url, key.access_key_id, secret)
    for call in attempts(theirs, member.domain_id):
        code, message = refused(call)
        # As for a domain that does not exist: the same code, and nothing of alice's named.
        assert code == "ResourceNotFound"
        assert "lab" not in message and "alice" not in message
    nonexistent = refused(lambda: theirs.describe_domain(DomainId="d-000000000000"))
    mine = refused(lambda: theirs.describe_domain(DomainId=member.domain_id))
    assert mine == (nonexistent[0], nonexistent[1].replace("d-000000000000", member.domain_id))
    assert [d["DomainId"] for d in theirs.list_domains()["Domains"]] == [other.domain_id]
    assert theirs.list_spaces()["Spaces"] == []
    assert_untouched(lab)


def test_a_suspended_profiles_key_is_denied(member, lab, root):
    suspend_user_profile(root, member.domain_id, member.profile.name)
    api = sagemaker(member.url, member.key_id, member.secret)
    for call in attempts(api, member.domain_id):
        code, message = refused(call)
        assert code == "AccessDeniedException"
        assert "suspended" in message
    runtime = sagemaker_runtime(member.url, member.key_id, member.secret)
    code, message = refused(invoke(runtime))
    assert code == "AccessDeniedException"
    assert_untouched(lab)


def test_a_disabled_key_is_an_unrecognized_client(member, lab):
    update_access_key(member.user, member.key_id, "Inactive")
    api = sagemaker(member.url, member.key_id, member.secret)
    for call in attempts(api, member.domain_id):
        assert refused(call)[0] == "UnrecognizedClientException"
    runtime = sagemaker_runtime(member.url, member.key_id, member.secret)
    assert refused(invoke(runtime))[0] == "UnrecognizedClientException"
    assert_untouched(lab)
