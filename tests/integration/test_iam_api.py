"""IAM's GetRole and SimulatePrincipalPolicy through boto3, as the SageMaker SDK 3.x calls them
to check a role before training: a key sees its own execution role only, and a simulation
answers what Studio's policies decide for the key's profile. Requests signed for any service
Studio does not serve are refused in AWS's shape, not answered with the dashboard."""

import json
from urllib.parse import unquote

import pytest

from domains.models import Policy
from domains.services import create_access_key
from tests.integration.api import aws, error_code

pytestmark = pytest.mark.usefixtures("live")


@pytest.fixture
def keys(alice, alice_profile) -> tuple[str, str]:
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return key.access_key_id, secret


def test_get_role_answers_the_keys_own_execution_role_with_sagemakers_trust(
    asgi_server, keys, alice_profile
):
    iam = aws("iam", asgi_server, *keys)
    account = alice_profile.domain.account_id

    role = iam.get_role(RoleName="studio")["Role"]

    assert role["Arn"] == f"arn:aws:iam::{account}:role/studio"
    trusted = role["AssumeRolePolicyDocument"]
    trusted = trusted if isinstance(trusted, dict) else json.loads(unquote(trusted))
    assert trusted["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert error_code(lambda: iam.get_role(RoleName="admin")) == "NoSuchEntity"


def test_a_simulation_answers_what_the_profiles_policies_decide(asgi_server, keys, alice_profile):
    iam = aws("iam", asgi_server, *keys)
    role = f"arn:aws:iam::{alice_profile.domain.account_id}:role/studio"
    alice_profile.policies.set(
        [
            Policy.objects.create(
                domain=alice_profile.domain,
                name="no-endpoints",
                allow=["sagemaker:*", "s3:*"],
                deny=["sagemaker:CreateEndpoint"],
            )
        ]
    )

    results = iam.simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=[
            "sagemaker:CreateTrainingJob",
            "sagemaker:CreateEndpoint",
            "ecr:GetAuthorizationToken",
        ],
    )["EvaluationResults"]

    assert {r["EvalActionName"]: r["EvalDecision"] for r in results} == {
        "sagemaker:CreateTrainingJob": "allowed",
        "sagemaker:CreateEndpoint": "implicitDeny",
        "ecr:GetAuthorizationToken": "allowed",
    }
    other = "arn:aws:iam::123456789012:role/studio"
    assert (
        error_code(
            lambda: iam.simulate_principal_policy(
                PolicySourceArn=other, ActionNames=["sagemaker:CreateTrainingJob"]
            )
        )
        == "NoSuchEntity"
    )


def test_iam_refuses_a_wrong_secret_with_iams_code(asgi_server, keys):
    iam = aws("iam", asgi_server, keys[0], "not-the-secret")
    assert error_code(lambda: iam.get_role(RoleName="studio")) == "SignatureDoesNotMatch"


def test_a_service_studio_does_not_serve_is_refused_in_its_words(asgi_server, keys):
    ecr = aws("ecr", asgi_server, *keys)
    assert error_code(lambda: ecr.describe_repositories()) == "InvalidAction"


def test_a_query_protocol_service_studio_does_not_serve_is_refused_in_xml(asgi_server, keys):
    sns = aws("sns", asgi_server, *keys)
    assert error_code(lambda: sns.list_topics()) == "InvalidAction"
