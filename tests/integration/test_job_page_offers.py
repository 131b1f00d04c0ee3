"""A completed training job's page offers Create model, Register and Deploy to whom the services
would let use them: a member viewing a colleague's job sees what their own policy allows, and
a policy that denies an action hides its button."""

import pytest

from domains.services import update_policy
from tests.integration.job_pages import html_of
from tests.integration.test_endpoint_pages import trained
from tests.integration.test_job_pages import job_url

pytestmark = pytest.mark.usefixtures("live", "instance_types")

BUTTONS = ('id="create-model"', 'id="register-model"', 'id="deploy-job"')


def shown(html: str) -> list[str]:
    return [button for button in BUTTONS if button in html]


def test_a_colleague_sees_the_buttons_their_policy_allows(client, alice_profile, bob, bob_profile):
    trained(alice_profile, "churn-job")
    client.force_login(bob)
    assert shown(html_of(client, job_url("churn-job"))) == list(BUTTONS)


@pytest.mark.parametrize(
    ("denied", "left"),
    [
        ("sagemaker:CreateEndpoint", ['id="create-model"', 'id="register-model"']),
        ("sagemaker:CreateEndpointConfig", ['id="create-model"', 'id="register-model"']),
        ("sagemaker:CreateModelPackage", ['id="create-model"', 'id="deploy-job"']),
        # Deploy makes a model too: without CreateModel only Register is left.
        ("sagemaker:CreateModel", ['id="register-model"']),
    ],
)
def test_a_denied_action_hides_its_button(
    client, root, alice_profile, bob, bob_profile, denied, left
):
    trained(alice_profile, "churn-job")
    update_policy(root, alice_profile.domain.domain_id, "DataScientist", deny=[denied])
    client.force_login(bob)
    assert shown(html_of(client, job_url("churn-job"))) == left


def test_a_policy_denying_them_all_leaves_no_model_actions(client, root, alice, alice_profile):
    trained(alice_profile, "churn-job")
    deny = ["sagemaker:CreateModel", "sagemaker:CreateModelPackage"]
    update_policy(root, alice_profile.domain.domain_id, "DataScientist", deny=deny)
    client.force_login(alice)
    html = html_of(client, job_url("churn-job"))
    assert shown(html) == [] and 'id="model-actions"' not in html
    assert "model.tar.gz" in html  # the artifact itself is still there to download
