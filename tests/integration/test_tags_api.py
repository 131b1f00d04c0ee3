"""AddTags, ListTags, DeleteTags and the Tags of Create* requests, with boto3 through the live
server: tenancy's resources and the workloads' (a model here), AWS's limits, and what an
unknown ARN answers."""

import base64

import pytest
from botocore.exceptions import ClientError

from domains.models import Tag
from domains.services import create_access_key
from tests.conftest import settled
from tests.integration.api import error_code, sagemaker
from tests.integration.hosting import IMAGE
from tests.integration.test_hosting_api import ShapeChecker

pytestmark = pytest.mark.usefixtures("live", "instance_types")


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


@pytest.fixture
def loose_api(asgi_server, alice, admin_profile):
    key, secret = create_access_key(alice, admin_profile.domain.domain_id, admin_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret, parameter_validation=False)


def refusal(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def tags_of(api, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in api.list_tags(ResourceArn=arn)["Tags"]}


def test_tags_given_at_creation_are_listed_added_overwritten_and_deleted(api, domain):
    arn = api.create_space(
        DomainId=domain.domain_id,
        SpaceName="lab",
        Tags=[{"Key": "team", "Value": "risk"}, {"Key": "cost-center", "Value": "42"}],
    )["SpaceArn"]
    # In the order given.
    assert api.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "risk"},
        {"Key": "cost-center", "Value": "42"},
    ]
    answer = api.add_tags(
        ResourceArn=arn,
        Tags=[{"Key": "team", "Value": "fraud"}, {"Key": "owner", "Value": "alice@example.com"}],
    )
    assert answer["Tags"] == [
        {"Key": "team", "Value": "fraud"},
        {"Key": "owner", "Value": "alice@example.com"},
    ]
    assert tags_of(api, arn) == {"team": "fraud", "cost-center": "42", "owner": "alice@example.com"}
    # Keys it does not have are ignored, as AWS does.
    api.delete_tags(ResourceArn=arn, TagKeys=["team", "never-set"])
    assert tags_of(api, arn) == {"cost-center": "42", "owner": "alice@example.com"}


def test_every_tenancy_resource_is_taggable(api, domain, admin_profile):
    domain_arn = api.describe_domain(DomainId=domain.domain_id)["DomainArn"]
    profile_arn = api.describe_user_profile(
        DomainId=domain.domain_id, UserProfileName=admin_profile.name
    )["UserProfileArn"]
    config_arn = api.create_studio_lifecycle_config(
        StudioLifecycleConfigName="setup",
        StudioLifecycleConfigContent=base64.b64encode(b"echo hi\n").decode(),
        StudioLifecycleConfigAppType="JupyterLab",
        Tags=[{"Key": "kind", "Value": "setup"}],
    )["StudioLifecycleConfigArn"]
    assert tags_of(api, config_arn) == {"kind": "setup"}
    for arn in (domain_arn, profile_arn, config_arn):
        assert arn.split(":")[4] == domain.account_id
        api.add_tags(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
        assert tags_of(api, arn)["env"] == "prod"
    # Tags are the resource's own: one resource's are not another's.
    assert "env" not in tags_of(
        api, api.create_space(DomainId=domain.domain_id, SpaceName="other")["SpaceArn"]
    )


def test_a_models_tags(api, domain):
    arn = api.create_model(
        ModelName="Iris", PrimaryContainer={"Image": IMAGE}, ExecutionRoleArn=_role(domain)
    )["ModelArn"]
    assert arn.endswith(":model/iris")
    api.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": ""}])
    assert api.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": ""}]
    api.delete_model(ModelName="Iris")
    # Gone with the model: its ARN is unknown now.
    assert error_code(lambda: api.list_tags(ResourceArn=arn)) == "ResourceNotFound"


def _role(domain) -> str:
    return f"arn:aws:iam::{domain.account_id}:role/studio"


def test_aws_limits(api, loose_api, domain):
    arn = api.create_space(DomainId=domain.domain_id, SpaceName="lab")["SpaceArn"]
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    code, text = refusal(lambda: loose_api.add_tags(ResourceArn=arn, Tags=many))
    assert code == "ValidationException" and "Tags" in text
    api.add_tags(ResourceArn=arn, Tags=many[:45])
    code, text = refusal(lambda: api.add_tags(ResourceArn=arn, Tags=many[40:]))
    assert code == "ValidationException" and "at most 50" in text
    assert len(api.list_tags(ResourceArn=arn)["Tags"]) == 45
    code, text = refusal(
        lambda: api.add_tags(ResourceArn=arn, Tags=[{"Key": "aws:cloudformation", "Value": "x"}])
    )
    assert code == "ValidationException" and "aws:" in text and "Tags[0].Key" in text
    code, text = refusal(
        lambda: loose_api.add_tags(ResourceArn=arn, Tags=[{"Key": "k" * 129, "Value": "x"}])
    )
    assert code == "ValidationException" and "Key" in text
    code, text = refusal(
        lambda: loose_api.add_tags(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v" * 257}])
    )
    assert code == "ValidationException" and "Value" in text
    code, text = refusal(
        lambda: api.add_tags(ResourceArn=arn, Tags=[{"Key": "semi;colon", "Value": "x"}])
    )
    assert code == "ValidationException" and "Tags[0].Key" in text
    code, text = refusal(
        lambda: api.create_space(
            DomainId=domain.domain_id, SpaceName="tagged", Tags=[{"Key": "aws:x", "Value": "y"}]
        )
    )
    assert code == "ValidationException"
    assert error_code(
        lambda: api.describe_space(DomainId=domain.domain_id, SpaceName="tagged")
    ) == ("ResourceNotFound")
    assert len(api.list_tags(ResourceArn=arn)["Tags"]) == 45


def test_unknown_arns(api, loose_api, domain):
    account = domain.account_id
    missing = f"arn:aws:sagemaker:us-east-1:{account}:training-job/never-ran"
    for call in (
        lambda: api.list_tags(ResourceArn=missing),
        lambda: api.add_tags(ResourceArn=missing, Tags=[{"Key": "a", "Value": "b"}]),
        lambda: api.delete_tags(ResourceArn=missing, TagKeys=["a"]),
    ):
        assert error_code(call) == "ResourceNotFound"
    code, text = refusal(
        lambda: api.list_tags(ResourceArn=f"arn:aws:sagemaker:us-east-1:{account}:workteam/x")
    )
    assert code == "ValidationException" and "workteam" in text
    code, _ = refusal(lambda: loose_api.list_tags(ResourceArn="not-an-arn"))
    assert code == "ValidationException"
    assert not Tag.objects.exists()


def test_a_domain_admin_created_space_for_a_member_is_tagged_for_both(
    api, asgi_server, domain, bob, make_profile
):
    bob_profile = settled(make_profile(domain, bob))
    arn = api.create_space(
        DomainId=domain.domain_id,
        SpaceName="bobs",
        OwnershipSettings={"OwnerUserProfileName": bob_profile.name},
        Tags=[{"Key": "for", "Value": "bob"}],
    )["SpaceArn"]
    key, secret = create_access_key(bob, domain.domain_id, bob_profile.name)
    bob_api = sagemaker(asgi_server, key.access_key_id, secret)
    assert tags_of(bob_api, arn) == {"for": "bob"}
    bob_api.add_tags(ResourceArn=arn, Tags=[{"Key": "mine", "Value": "yes"}])
    assert tags_of(api, arn) == {"for": "bob", "mine": "yes"}
