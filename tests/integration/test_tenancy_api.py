"""Domains, user profiles and spaces administered with boto3 through the live server: what a
domain admin's key may do, SageMaker's shapes, statuses and errors, ExecutionRole as the
SageMaker SDK reads it, AppType, and the List operations' sorting."""

import pytest
from botocore.exceptions import ClientError
from django.contrib.auth import get_user_model

from domains.models import Domain, UserProfile
from domains.services import create_access_key, create_space
from tests.conftest import settled, wait_for
from tests.integration.api import error_code, sagemaker
from tests.integration.test_hosting_api import ShapeChecker

User = get_user_model()
pytestmark = pytest.mark.usefixtures("live", "instance_types")


@pytest.fixture
def admin_profile(domain, alice, make_profile):
    return make_profile(domain, alice, role="Admin")


@pytest.fixture
def admin_api(asgi_server, alice, admin_profile):
    key, secret = create_access_key(alice, admin_profile.domain.domain_id, admin_profile.name)
    client = sagemaker(asgi_server, key.access_key_id, secret)
    # Every answer is checked against its operation's response shape in botocore's model.
    ShapeChecker(client)
    return client


@pytest.fixture
def loose_api(asgi_server, alice, admin_profile):
    """The admin's key with boto3's own parameter checks off: Studio must check them."""
    key, secret = create_access_key(alice, admin_profile.domain.domain_id, admin_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret, parameter_validation=False)


def message(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def status_of(api, domain_id: str, name: str) -> str:
    return api.describe_user_profile(DomainId=domain_id, UserProfileName=name)["Status"]


def test_an_admin_key_creates_updates_and_deletes_a_user_profile(admin_api, domain):
    role = f"arn:aws:iam::{domain.account_id}:role/analysts"
    created = admin_api.create_user_profile(
        DomainId=domain.domain_id,
        UserProfileName="dana",
        UserSettings={"ExecutionRole": role},
        Tags=[{"Key": "team", "Value": "risk"}],
    )
    assert created["UserProfileArn"] == (
        f"arn:aws:sagemaker:us-east-1:{domain.account_id}:user-profile/{domain.domain_id}/dana"
    )
    # Created Pending; the worker provisions its home and puts it InService.
    wait_for(lambda: status_of(admin_api, domain.domain_id, "dana") == "InService")
    described = admin_api.describe_user_profile(DomainId=domain.domain_id, UserProfileName="dana")
    assert described["UserSettings"]["ExecutionRole"] == role
    assert described["HomeEfsFileSystemUid"].isdigit()
    assert admin_api.list_tags(ResourceArn=created["UserProfileArn"])["Tags"] == [
        {"Key": "team", "Value": "risk"}
    ]
    # A new account of its own, no password to sign in with.
    user = UserProfile.objects.get(domain=domain, name="dana").user
    assert user.username == f"dana@{domain.domain_id}"
    assert not user.has_usable_password()

    # Update replaces only the members given: the role stays, JupyterLabAppSettings is set.
    admin_api.update_user_profile(
        DomainId=domain.domain_id,
        UserProfileName="dana",
        UserSettings={
            "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}}
        },
    )
    described = admin_api.describe_user_profile(DomainId=domain.domain_id, UserProfileName="dana")
    assert described["UserSettings"]["ExecutionRole"] == role
    assert described["UserSettings"]["JupyterLabAppSettings"]["DefaultResourceSpec"] == {
        "InstanceType": "ml.t3.medium"
    }

    admin_api.delete_user_profile(DomainId=domain.domain_id, UserProfileName="dana")
    wait_for(lambda: not UserProfile.objects.filter(domain=domain, name="dana").exists())
    assert error_code(
        lambda: admin_api.describe_user_profile(DomainId=domain.domain_id, UserProfileName="dana")
    ) == ("ResourceNotFound")
    # Its tags went with it: a profile of the same name starts with none.
    admin_api.create_user_profile(DomainId=domain.domain_id, UserProfileName="dana")
    wait_for(lambda: status_of(admin_api, domain.domain_id, "dana") == "InService")
    assert admin_api.list_tags(ResourceArn=created["UserProfileArn"])["Tags"] == []


def test_profile_errors_are_sagemakers(admin_api, loose_api, domain, admin_profile):
    domain_id = domain.domain_id
    assert error_code(
        lambda: admin_api.create_user_profile(
            DomainId=domain_id, UserProfileName=admin_profile.name
        )
    ) == ("ResourceInUse")
    # The account it would have made for the profile is not left behind.
    assert not User.objects.filter(username=f"{admin_profile.name}@{domain_id}").exists()
    for call in (
        lambda: admin_api.describe_user_profile(DomainId=domain_id, UserProfileName="nobody"),
        lambda: admin_api.update_user_profile(
            DomainId=domain_id, UserProfileName="nobody", UserSettings={}
        ),
        lambda: admin_api.delete_user_profile(DomainId=domain_id, UserProfileName="nobody"),
    ):
        assert error_code(call) == "ResourceNotFound"
    code, text = message(
        lambda: loose_api.create_user_profile(DomainId=domain_id, UserProfileName="-bad-")
    )
    assert code == "ValidationException" and "UserProfileName" in text
    # An ExecutionRole of another account, or not a role ARN, names the field.
    code, text = message(
        lambda: admin_api.create_user_profile(
            DomainId=domain_id,
            UserProfileName="erin",
            UserSettings={"ExecutionRole": "arn:aws:iam::123456789012:role/x"},
        )
    )
    assert code == "ValidationException" and "UserSettings.ExecutionRole" in text
    assert domain.account_id in text
    code, text = message(
        lambda: loose_api.update_user_profile(
            DomainId=domain_id,
            UserProfileName=admin_profile.name,
            UserSettings={"ExecutionRole": "not-a-role"},
        )
    )
    assert code == "ValidationException" and "ExecutionRole" in text
    code, text = message(
        lambda: admin_api.create_user_profile(
            DomainId=domain_id,
            UserProfileName="erin",
            SingleSignOnUserIdentifier="UserName",
            SingleSignOnUserValue="erin",
        )
    )
    assert code == "ValidationException" and "SingleSignOnUserIdentifier" in text
    assert not UserProfile.objects.filter(domain=domain, name="erin").exists()


def test_execution_role_is_the_domains_as_the_sdk_reads_it(admin_api, domain, admin_profile):
    """sagemaker.get_execution_role() in a Studio notebook: DescribeUserProfile's
    UserSettings.ExecutionRole, else DescribeDomain's DefaultUserSettings.ExecutionRole."""
    default = f"arn:aws:iam::{domain.account_id}:role/studio"
    described = admin_api.describe_domain(DomainId=domain.domain_id)
    assert described["DefaultUserSettings"]["ExecutionRole"] == default
    profile = admin_api.describe_user_profile(
        DomainId=domain.domain_id, UserProfileName=admin_profile.name
    )
    assert profile["UserSettings"]["ExecutionRole"] == default

    role = f"arn:aws:iam::{domain.account_id}:role/AmazonSageMaker-ExecutionRole-team"
    admin_api.update_domain(DomainId=domain.domain_id, DefaultUserSettings={"ExecutionRole": role})
    assert admin_api.describe_domain(DomainId=domain.domain_id)["DefaultUserSettings"] == {
        "ExecutionRole": role
    }
    profile = admin_api.describe_user_profile(
        DomainId=domain.domain_id, UserProfileName=admin_profile.name
    )
    assert profile["UserSettings"]["ExecutionRole"] == role
    code, text = message(
        lambda: admin_api.update_domain(
            DomainId=domain.domain_id,
            DefaultUserSettings={"ExecutionRole": "arn:aws:iam::123456789012:role/x"},
        )
    )
    assert code == "ValidationException" and "DefaultUserSettings.ExecutionRole" in text
    assert admin_api.describe_domain(DomainId=domain.domain_id)["DefaultUserSettings"] == {
        "ExecutionRole": role
    }


def test_create_domain_is_a_superusers_and_delete_domain_waits_for_its_profiles(
    admin_api, loose_api, domain
):
    # An access key acts as its profile, never as a superuser: CreateDomain is refused.
    code = error_code(
        lambda: admin_api.create_domain(
            DomainName="newdomain",
            AuthMode="IAM",
            DefaultUserSettings={},
            SubnetIds=["subnet-1"],
            VpcId="vpc-1",
        )
    )
    assert code == "AccessDeniedException"
    assert not Domain.objects.filter(name="newdomain").exists()
    # As SageMaker: a domain with user profiles cannot be deleted.
    assert error_code(
        lambda: admin_api.delete_domain(
            DomainId=domain.domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"}
        )
    ) == ("ResourceInUse")
    code, text = message(
        lambda: loose_api.delete_domain(
            DomainId=domain.domain_id, RetentionPolicy={"HomeEfsFileSystem": "Keep"}
        )
    )
    assert code == "ValidationException" and "HomeEfsFileSystem" in text
    assert error_code(lambda: admin_api.delete_domain(DomainId="d-000000000000")) == (
        "ResourceNotFound"
    )
    domain.refresh_from_db()
    assert domain.status == "InService" and domain.home_retention == "Retain"


def test_update_domain_changes_its_settings(admin_api, domain):
    admin_api.update_domain(DomainId=domain.domain_id, AppNetworkAccessType="VpcOnly")
    described = admin_api.describe_domain(DomainId=domain.domain_id)
    assert described["AppNetworkAccessType"] == "VpcOnly"
    assert described["Status"] == "InService"
    assert error_code(
        lambda: admin_api.update_domain(DomainId="d-000000000000", AppNetworkAccessType="VpcOnly")
    ) == ("ResourceNotFound")


def test_update_space_and_list_orders(admin_api, alice, domain, admin_profile):
    for name in ("zeta", "alpha", "mid"):
        settled(create_space(alice, domain.domain_id, name=name))
    spaces = admin_api.list_spaces(DomainIdEquals=domain.domain_id)["Spaces"]
    # SageMaker's default: by CreationTime, ascending.
    assert [s["SpaceName"] for s in spaces] == ["zeta", "alpha", "mid"]
    spaces = admin_api.list_spaces(
        DomainIdEquals=domain.domain_id, SortBy="CreationTime", SortOrder="Descending"
    )["Spaces"]
    assert [s["SpaceName"] for s in spaces] == ["mid", "alpha", "zeta"]

    answer = admin_api.update_space(
        DomainId=domain.domain_id,
        SpaceName="alpha",
        SpaceDisplayName="Alpha lab",
        SpaceSettings={
            "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}}
        },
    )
    assert answer["SpaceArn"].endswith(f":space/{domain.domain_id}/alpha")
    described = admin_api.describe_space(DomainId=domain.domain_id, SpaceName="alpha")
    assert described["SpaceDisplayName"] == "Alpha lab"
    assert described["SpaceSettings"]["JupyterLabAppSettings"]["DefaultResourceSpec"] == {
        "InstanceType": "ml.t3.medium"
    }
    spaces = admin_api.list_spaces(
        DomainIdEquals=domain.domain_id, SortBy="LastModifiedTime", SortOrder="Descending"
    )["Spaces"]
    assert spaces[0]["SpaceName"] == "alpha"
    assert error_code(
        lambda: admin_api.update_space(
            DomainId=domain.domain_id, SpaceName="nope", SpaceDisplayName="x"
        )
    ) == ("ResourceNotFound")
    code, text = message(
        lambda: admin_api.update_space(
            DomainId=domain.domain_id,
            SpaceName="alpha",
            SpaceSettings={
                "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.p5.48xlarge"}}
            },
        )
    )
    assert code == "ValidationException" and "Instance type ml.p5.48xlarge" in text


def test_list_user_profiles_sorts_and_filters(admin_api, domain, admin_profile, bob, make_profile):
    make_profile(domain, bob, name="bob")
    names = [
        p["UserProfileName"]
        for p in admin_api.list_user_profiles(DomainIdEquals=domain.domain_id)["UserProfiles"]
    ]
    assert names == [admin_profile.name, "bob"]
    names = [
        p["UserProfileName"]
        for p in admin_api.list_user_profiles(
            DomainIdEquals=domain.domain_id, SortBy="CreationTime", SortOrder="Descending"
        )["UserProfiles"]
    ]
    assert names == ["bob", admin_profile.name]
    listed = admin_api.list_user_profiles(UserProfileNameContains="bo")["UserProfiles"]
    assert [p["UserProfileName"] for p in listed] == ["bob"]


def test_app_type_other_than_jupyterlab_is_refused_by_name(admin_api, alice, domain):
    settled(create_space(alice, domain.domain_id, name="lab"))
    for call in (
        lambda: admin_api.create_app(
            DomainId=domain.domain_id, SpaceName="lab", AppType="KernelGateway", AppName="default"
        ),
        lambda: admin_api.describe_app(
            DomainId=domain.domain_id, SpaceName="lab", AppType="JupyterServer", AppName="default"
        ),
        lambda: admin_api.delete_app(
            DomainId=domain.domain_id, SpaceName="lab", AppType="CodeEditor", AppName="default"
        ),
    ):
        code, text = message(call)
        assert code == "ValidationException"
        assert "AppType" in text and "JupyterLab" in text
    # JupyterLab is looked up by its type: there is no such app yet.
    assert error_code(
        lambda: admin_api.describe_app(
            DomainId=domain.domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default"
        )
    ) == ("ResourceNotFound")
    listed = admin_api.list_apps(
        DomainIdEquals=domain.domain_id,
        UserProfileNameEquals="alice",
        SortBy="CreationTime",
        SortOrder="Descending",
    )
    assert listed["Apps"] == []
