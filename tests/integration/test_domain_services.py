"""CreateDomain, DescribeDomain, ListDomains, UpdateDomain: success and each error."""

import pytest

from domains.models import Domain, Policy
from domains.services import (
    create_domain,
    describe_domain,
    list_domains,
    update_domain,
)
from studio.core.errors import AccessDenied, ResourceInUse, ResourceNotFound, ValidationException
from tests.conftest import settled

pytestmark = pytest.mark.usefixtures("live")


def test_create_domain_goes_pending_then_in_service_with_a_home_volume(root):
    domain = create_domain(
        root,
        name="vision",
        app_network_access_type="VpcOnly",
        default_user_settings={
            "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}}
        },
    )
    assert domain.status == "Pending"
    assert domain.domain_id.startswith("d-") and len(domain.domain_id) == 14
    assert domain.arn.endswith(f":domain/{domain.domain_id}")
    settled(domain)
    assert domain.home_volume.is_dir()
    assert [t.to_status for t in domain.transitions()] == ["Pending", "InService"]
    # Members can work at once: the domain gets a default policy.
    assert [p.name for p in domain.default_policies.all()] == ["DataScientist"]


def test_create_domain_refuses_a_duplicate_name(root, domain):
    with pytest.raises(ResourceInUse, match="research already exists"):
        create_domain(root, name="research")
    assert Domain.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "bad_name"}, "DomainName"),
        ({"name": "-x"}, "DomainName"),
        ({"name": "x" * 64}, "DomainName"),
        ({"name": ""}, "DomainName"),
        ({"name": "ok", "app_network_access_type": "Open"}, "AppNetworkAccessType"),
        ({"name": "ok", "default_user_settings": {"Nope": 1}}, "DefaultUserSettings.Nope"),
        ({"name": "ok", "default_user_settings": "x" * 10_000}, "DefaultUserSettings"),
    ],
)
def test_create_domain_bad_input_names_the_field_and_creates_nothing(root, kwargs, field):
    with pytest.raises(ValidationException) as e:
        create_domain(root, **kwargs)
    assert e.value.field == field
    assert not Domain.objects.exists() and not Policy.objects.exists()


def test_only_superusers_create_domains(alice_profile, alice):
    alice_profile.role = "Admin"
    alice_profile.save()
    with pytest.raises(AccessDenied, match="Only a superuser may perform sagemaker:CreateDomain"):
        create_domain(alice, name="mine")
    assert Domain.objects.count() == 1


def test_describe_domain_for_a_member(alice, alice_profile):
    domain = describe_domain(alice, alice_profile.domain.domain_id)
    assert domain.name == "research" and domain.status == "InService"


def test_describe_unknown_or_foreign_domain_is_not_found(root, alice, alice_profile, make_domain):
    other = make_domain("other")
    with pytest.raises(ResourceNotFound, match="d-000000000000 does not exist"):
        describe_domain(root, "d-000000000000")
    # A domain alice has no profile in does not exist, as far as she can tell.
    with pytest.raises(ResourceNotFound):
        describe_domain(alice, other.domain_id)
    with pytest.raises(ValidationException, match="DomainId"):
        describe_domain(root, "not an id")


def test_list_domains_shows_only_the_actors_domains(root, alice, alice_profile, make_domain):
    make_domain("other")
    assert [d.name for d in list_domains(root)] == ["other", "research"]
    assert [d.name for d in list_domains(alice)] == ["research"]


def test_update_domain_changes_settings_and_default_policies(root, domain):
    from domains.services import create_policy

    create_policy(root, domain.domain_id, name="ReadOnly", allow=["sagemaker:Describe*"])
    modified_before = domain.last_modified_at
    updated = update_domain(
        root,
        domain.domain_id,
        app_network_access_type="VpcOnly",
        default_user_settings={
            "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.m5.large"}}
        },
        default_policies=["ReadOnly"],
    )
    updated.refresh_from_db()
    assert updated.app_network_access_type == "VpcOnly"
    assert updated.default_user_settings["JupyterLabAppSettings"]["DefaultResourceSpec"] == {
        "InstanceType": "ml.m5.large"
    }
    assert [p.name for p in updated.default_policies.all()] == ["ReadOnly"]
    assert updated.last_modified_at > modified_before  # DescribeDomain's LastModifiedTime


def test_update_domain_errors_change_nothing(root, domain, alice, alice_profile):
    with pytest.raises(ResourceNotFound, match="no policy named Ghost"):
        update_domain(root, domain.domain_id, default_policies=["Ghost"])
    with pytest.raises(ValidationException):
        update_domain(root, domain.domain_id, app_network_access_type="Wide")
    with pytest.raises(AccessDenied, match="reserved to the domain's admins"):
        update_domain(alice, domain.domain_id, app_network_access_type="VpcOnly")
    domain.refresh_from_db()
    assert domain.app_network_access_type == "PublicInternetOnly"
    assert [p.name for p in domain.default_policies.all()] == ["DataScientist"]


def test_update_domain_while_pending_is_in_use(root):
    # A domain whose provisioning has not run yet (no task was sent for this row).
    domain = Domain.objects.create(name="fresh", status="Pending")
    with pytest.raises(ResourceInUse, match="is Pending; wait until InService"):
        update_domain(root, domain.domain_id, app_network_access_type="VpcOnly")
    domain.refresh_from_db()
    assert domain.app_network_access_type == "PublicInternetOnly"
