"""Studio lifecycle configurations through boto3 and the live server: created by a domain
admin's key, described with their content, listed with SageMaker's filters and orders, attached
through settings, refused deletion while attached, and run before JupyterLab starts."""

import base64
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from domains.models import App, StudioLifecycleConfig
from domains.services import create_access_key
from tests.conftest import wait_for
from tests.integration.api import error_code, sagemaker
from tests.integration.notebooks import running
from tests.integration.test_hosting_api import ShapeChecker

pytestmark = pytest.mark.usefixtures("live", "instance_types")


def b64(script: str) -> str:
    return base64.b64encode(script.encode()).decode()


@pytest.fixture
def admin_profile(domain, alice, make_profile):
    return make_profile(domain, alice, role="Admin")


@pytest.fixture
def api(asgi_server, alice, admin_profile):
    key, secret = create_access_key(alice, admin_profile.domain.domain_id, admin_profile.name)
    client = sagemaker(asgi_server, key.access_key_id, secret)
    # Every answer is checked against its operation's response shape in botocore's model.
    ShapeChecker(client)
    return client


def create(api, name: str, script: str = "echo hi\n", **extra):
    return api.create_studio_lifecycle_config(
        StudioLifecycleConfigName=name,
        StudioLifecycleConfigContent=b64(script),
        StudioLifecycleConfigAppType="JupyterLab",
        **extra,
    )["StudioLifecycleConfigArn"]


def refusal(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_created_described_and_deleted(api, domain):
    arn = create(api, "install-tools", "pip install --user rich\n")
    assert arn == (
        f"arn:aws:sagemaker:us-east-1:{domain.account_id}:studio-lifecycle-config/install-tools"
    )
    described = api.describe_studio_lifecycle_config(StudioLifecycleConfigName="install-tools")
    assert described["StudioLifecycleConfigArn"] == arn
    assert described["StudioLifecycleConfigAppType"] == "JupyterLab"
    assert base64.b64decode(described["StudioLifecycleConfigContent"]) == (
        b"pip install --user rich\n"
    )
    assert described["CreationTime"].year >= 2026
    assert error_code(lambda: create(api, "install-tools")) == "ResourceInUse"
    api.delete_studio_lifecycle_config(StudioLifecycleConfigName="install-tools")
    for call in (
        lambda: api.describe_studio_lifecycle_config(StudioLifecycleConfigName="install-tools"),
        lambda: api.delete_studio_lifecycle_config(StudioLifecycleConfigName="install-tools"),
    ):
        assert error_code(call) == "ResourceNotFound"


def test_bad_requests_name_the_field(api):
    code, text = refusal(
        lambda: api.create_studio_lifecycle_config(
            StudioLifecycleConfigName="server",
            StudioLifecycleConfigContent=b64("true"),
            StudioLifecycleConfigAppType="JupyterServer",
        )
    )
    assert code == "ValidationException"
    assert "StudioLifecycleConfigAppType" in text and "JupyterLab" in text
    code, text = refusal(
        lambda: api.create_studio_lifecycle_config(
            StudioLifecycleConfigName="garbled",
            StudioLifecycleConfigContent="not base64!",
            StudioLifecycleConfigAppType="JupyterLab",
        )
    )
    assert code == "ValidationException" and "StudioLifecycleConfigContent" in text
    assert not StudioLifecycleConfig.objects.exists()


def test_listed_with_filters_and_orders(api):
    for name in ("b-setup", "a-setup", "c-other"):
        create(api, name)
    first = StudioLifecycleConfig.objects.get(name="b-setup").created_at
    for i, name in enumerate(("b-setup", "a-setup", "c-other")):
        StudioLifecycleConfig.objects.filter(name=name).update(
            created_at=first + timedelta(minutes=i)
        )

    def names(**params) -> list[str]:
        listed = api.list_studio_lifecycle_configs(**params)["StudioLifecycleConfigs"]
        return [c["StudioLifecycleConfigName"] for c in listed]

    # SageMaker's default: newest first.
    assert names() == ["c-other", "a-setup", "b-setup"]
    assert names(SortBy="Name", SortOrder="Ascending") == ["a-setup", "b-setup", "c-other"]
    assert names(SortBy="CreationTime", SortOrder="Ascending") == ["b-setup", "a-setup", "c-other"]
    assert names(NameContains="setup") == ["a-setup", "b-setup"]
    assert names(AppTypeEquals="JupyterLab", CreationTimeAfter=first + timedelta(seconds=30)) == [
        "c-other",
        "a-setup",
    ]
    assert names(AppTypeEquals="CodeEditor") == []
    page = api.list_studio_lifecycle_configs(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert len(page["StudioLifecycleConfigs"]) == 2
    rest = api.list_studio_lifecycle_configs(
        MaxResults=2, SortBy="Name", SortOrder="Ascending", NextToken=page["NextToken"]
    )
    assert [c["StudioLifecycleConfigName"] for c in rest["StudioLifecycleConfigs"]] == ["c-other"]


def test_an_attached_config_cannot_be_deleted(api, domain, admin_profile):
    arn = create(api, "setup")
    api.update_user_profile(
        DomainId=domain.domain_id,
        UserProfileName=admin_profile.name,
        UserSettings={"JupyterLabAppSettings": {"LifecycleConfigArns": [arn]}},
    )
    code, text = refusal(
        lambda: api.delete_studio_lifecycle_config(StudioLifecycleConfigName="setup")
    )
    assert code == "ResourceInUse" and admin_profile.name in text
    api.update_user_profile(
        DomainId=domain.domain_id,
        UserProfileName=admin_profile.name,
        UserSettings={"JupyterLabAppSettings": {"LifecycleConfigArns": []}},
    )
    api.update_domain(
        DomainId=domain.domain_id,
        DefaultUserSettings={
            "JupyterLabAppSettings": {
                "LifecycleConfigArns": [arn],
                "DefaultResourceSpec": {"LifecycleConfigArn": arn},
            }
        },
    )
    assert error_code(
        lambda: api.delete_studio_lifecycle_config(StudioLifecycleConfigName="setup")
    ) == ("ResourceInUse")
    api.update_domain(
        DomainId=domain.domain_id,
        DefaultUserSettings={
            "JupyterLabAppSettings": {"DefaultResourceSpec": {"LifecycleConfigArn": arn}}
        },
    )
    # DefaultResourceSpec still names it.
    assert error_code(
        lambda: api.delete_studio_lifecycle_config(StudioLifecycleConfigName="setup")
    ) == ("ResourceInUse")
    api.update_domain(
        DomainId=domain.domain_id,
        DefaultUserSettings={"JupyterLabAppSettings": {}},
    )
    api.delete_studio_lifecycle_config(StudioLifecycleConfigName="setup")
    assert not StudioLifecycleConfig.objects.exists()


def test_attaching_an_unknown_config_names_the_field(api, domain, admin_profile):
    missing = f"arn:aws:sagemaker:us-east-1:{domain.account_id}:studio-lifecycle-config/nope"
    code, text = refusal(
        lambda: api.update_user_profile(
            DomainId=domain.domain_id,
            UserProfileName=admin_profile.name,
            UserSettings={"JupyterLabAppSettings": {"LifecycleConfigArns": [missing]}},
        )
    )
    assert code == "ValidationException" and "UserSettings" in text and "nope" in text


def test_a_config_made_through_the_api_runs_before_jupyterlab(jupyter, api, domain, admin_profile):
    arn = create(api, "greet", "echo greeted-by-lcc > $HOME/.greeted\n")
    api.update_domain(
        DomainId=domain.domain_id,
        DefaultUserSettings={
            "JupyterLabAppSettings": {
                "LifecycleConfigArns": [arn],
                "DefaultResourceSpec": {"LifecycleConfigArn": arn},
            }
        },
    )
    api.create_space(DomainId=domain.domain_id, SpaceName="lab")
    wait_for(
        lambda: (
            api.describe_space(DomainId=domain.domain_id, SpaceName="lab")["Status"] == "InService"
        )
    )
    api.create_app(
        DomainId=domain.domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default"
    )
    app = running(App.objects.get(space__name="lab"))
    assert app.resource_spec["LifecycleConfigArn"] == arn
    assert (admin_profile.home_directory / ".greeted").read_text() == "greeted-by-lcc\n"
    described = api.describe_app(
        DomainId=domain.domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default"
    )
    assert described["ResourceSpec"]["LifecycleConfigArn"] == arn
    # In use by the running app (and attached): not deletable.
    assert error_code(
        lambda: api.delete_studio_lifecycle_config(StudioLifecycleConfigName="greet")
    ) == ("ResourceInUse")
