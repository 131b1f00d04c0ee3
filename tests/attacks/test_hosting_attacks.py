"""Attacks on hosting by a member holding her own key (alice, of `research`):

- another domain's models, endpoint configs and endpoints are unknown to her, with exactly the
  answers names nobody uses get (no existence leak): she can neither describe, list, update,
  delete nor deploy them, and her own names are free even where the other domain uses them;
- a model or a config cannot name another domain's objects (a model's archive, data capture's
  destination), and the refusal is the same whether or not the object exists;
- a colleague's endpoint, model and config she may describe but not change or delete (members
  change only their own resources, domains/permissions.py).
"""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from jobs.models import Endpoint, EndpointConfig, Model
from jobs.services import endpoint_configs, endpoints, hosted_models
from studio.core import storage
from studio.core.errors import ResourceNotFound, ValidationException
from tests.integration.conftest import put

pytestmark = pytest.mark.usefixtures("live", "instance_types")

IMAGE = "studio/sklearn:latest"
DENIED, INVALID = "AccessDeniedException", "ValidationException"


def error_of(call) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def variant(model: str, name: str = "AllTraffic") -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }


def hosted(user, name: str) -> Endpoint:
    """`user`'s model, config and InService endpoint, all called `name`. The endpoint is a row
    as the worker leaves one: nothing deploys while the attack runs."""
    profile = user.studio_profiles.get()
    domain_id = profile.domain.domain_id
    url = put(f"s3://{storage.domain_bucket(domain_id)}/models/{name}/model.tar.gz", b"a model")
    hosted_models.create_model(
        user,
        domain_id,
        {"ModelName": name, "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": url}},
    )
    config = endpoint_configs.create_endpoint_config(
        user, domain_id, {"EndpointConfigName": name, "ProductionVariants": [variant(name)]}
    )
    return Endpoint.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        status="InService",
        config_name=name,
        config=config.request,
        desired=endpoints.desired_from(config.request),
        generation=1,
        latest_generation=1,
    )


def as_it_was(endpoint: Endpoint) -> tuple:
    endpoint.refresh_from_db()
    return (
        endpoint.status,
        endpoint.desired,
        endpoint.config_name,
        endpoint.pending_config,
        endpoint.latest_generation,
    )


def attempts(api, name: str) -> dict[str, Any]:
    """Everything the member may try on resources called `name`."""
    return {
        "DescribeModel": lambda: api.describe_model(ModelName=name),
        "DeleteModel": lambda: api.delete_model(ModelName=name),
        "DescribeEndpointConfig": lambda: api.describe_endpoint_config(EndpointConfigName=name),
        "DeleteEndpointConfig": lambda: api.delete_endpoint_config(EndpointConfigName=name),
        "DescribeEndpoint": lambda: api.describe_endpoint(EndpointName=name),
        "UpdateEndpoint": lambda: api.update_endpoint(EndpointName=name, EndpointConfigName="mine"),
        "UpdateEndpointToTheirConfig": lambda: api.update_endpoint(
            EndpointName="mine", EndpointConfigName=name
        ),
        "UpdateEndpointWeightsAndCapacities": lambda: api.update_endpoint_weights_and_capacities(
            EndpointName=name,
            DesiredWeightsAndCapacities=[
                {"VariantName": "AllTraffic", "DesiredWeight": 0.5, "DesiredInstanceCount": 2}
            ],
        ),
        "DeleteEndpoint": lambda: api.delete_endpoint(EndpointName=name),
        "CreateEndpointFromTheirConfig": lambda: api.create_endpoint(
            EndpointName="stolen", EndpointConfigName=name
        ),
        "CreateEndpointConfigOfTheirModel": lambda: api.create_endpoint_config(
            EndpointConfigName="stolen", ProductionVariants=[variant(name)]
        ),
    }


def test_another_domains_hosting_is_unknown_exactly_as_names_nobody_uses(
    member, canaries, carol, alice
):
    theirs = hosted(carol, "secret")
    before = as_it_was(theirs)
    hosted(alice, "mine")
    answers = {op: error_of(call) for op, call in attempts(member.api, "secret").items()}
    for op, error in answers.items():
        assert error["Code"] == INVALID, (op, error)
        canaries.assert_absent(error)
    assert answers["DescribeEndpoint"]["Message"].startswith('Could not find endpoint "')
    assert "could not find model 'secret'" in answers["CreateEndpointConfigOfTheirModel"]["Message"]
    listed = (
        member.api.list_models()["Models"]
        + member.api.list_endpoint_configs()["EndpointConfigs"]
        + member.api.list_endpoints()["Endpoints"]
    )
    assert {str(item) for item in listed if "secret" in str(item)} == set()
    assert as_it_was(theirs) == before
    assert Model.objects.filter(name="secret", domain=theirs.domain).exists()
    assert EndpointConfig.objects.filter(name="secret", domain=theirs.domain).exists()
    assert not Endpoint.objects.filter(name="stolen").exists()
    assert not EndpointConfig.objects.filter(name="stolen").exists()
    # The same answers, word for word, once nobody anywhere uses the name.
    Endpoint.objects.filter(pk=theirs.pk).delete()
    EndpointConfig.objects.filter(name="secret").delete()
    Model.objects.filter(name="secret").delete()
    again = {op: error_of(call) for op, call in attempts(member.api, "secret").items()}
    assert again == answers


def test_another_domains_names_are_free_in_hers(member, canaries, carol, alice):
    hosted(carol, "secret")
    hosted(alice, "secret")
    assert member.api.describe_endpoint(EndpointName="secret")["EndpointArn"].endswith(
        f":{member.profile.domain.account_id}:endpoint/secret"
    )


def test_services_answer_another_domain_as_one_that_does_not_exist(member, canaries, carol):
    theirs = hosted(carol, "secret")
    their_domain = theirs.domain.domain_id
    alice, own = member.user, member.domain_id
    # Named by its own domain: a domain she is not in does not exist for her.
    for call in (
        lambda: hosted_models.describe_model(alice, their_domain, "secret"),
        lambda: endpoint_configs.describe_endpoint_config(alice, their_domain, "secret"),
        lambda: endpoints.describe_endpoint(alice, their_domain, "secret"),
        lambda: endpoints.delete_endpoint(alice, their_domain, "secret"),
        lambda: hosted_models.list_models(alice, their_domain),
        lambda: endpoints.list_endpoints(alice, their_domain),
    ):
        with pytest.raises(ResourceNotFound, match=f"Domain {their_domain} does not exist"):
            call()
    # Named in her own domain: not found, as a name nobody uses.
    for call in (
        lambda: hosted_models.describe_model(alice, own, "secret"),
        lambda: endpoint_configs.describe_endpoint_config(alice, own, "secret"),
        lambda: endpoints.describe_endpoint(alice, own, "secret"),
    ):
        with pytest.raises(ValidationException, match="Could not find"):
            call()
    assert theirs.status == Endpoint.objects.get(pk=theirs.pk).status == "InService"


def test_a_model_cannot_name_another_domains_objects_whether_or_not_they_exist(member, canaries):
    """The refusal comes before the store is looked at: a present object (the canary) and a
    missing one give the same words."""
    bucket = canaries.other_bucket_uri.split("/")[2]
    absent = f"s3://{bucket}/private/nothing-here.tar.gz"

    def create(**container) -> dict[str, str]:
        return error_of(
            lambda: member.api.create_model(
                ModelName="stolen", PrimaryContainer={"Image": IMAGE, **container}
            )
        )

    present_error, absent_error = (
        create(ModelDataUrl=canaries.other_bucket_uri),
        create(ModelDataUrl=absent),
    )
    assert present_error == absent_error
    assert present_error["Code"] == DENIED
    assert "PrimaryContainer.ModelDataUrl" in present_error["Message"]
    # Anywhere in the request, not only where the archive is named.
    hidden = create(Environment={"MODEL": canaries.other_bucket_uri})
    assert hidden["Code"] == DENIED and "PrimaryContainer.Environment.MODEL" in hidden["Message"]
    for url in ("file:///etc/passwd", f"file://{canaries.host_file}"):
        error = create(ModelDataUrl=url)
        assert error["Code"] == INVALID and "PrimaryContainer.ModelDataUrl" in error["Message"]
        canaries.assert_absent(error)
    canaries.assert_absent(present_error, absent_error, hidden)
    assert not Model.objects.filter(name="stolen").exists()


def test_data_capture_cannot_write_into_another_domains_bucket(member, canaries, alice):
    hosted(alice, "mine")
    bucket = canaries.other_bucket_uri.split("/")[2]
    error = error_of(
        lambda: member.api.create_endpoint_config(
            EndpointConfigName="spill",
            ProductionVariants=[variant("mine")],
            DataCaptureConfig={
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": f"s3://{bucket}/capture",
                "CaptureOptions": [{"CaptureMode": "Input"}],
            },
        )
    )
    assert error["Code"] == DENIED
    assert "DataCaptureConfig.DestinationS3Uri" in error["Message"]
    assert not EndpointConfig.objects.filter(name="spill").exists()


def test_a_colleagues_endpoint_may_be_described_but_not_changed(member, bob, bob_profile, alice):
    theirs = hosted(bob, "bobs")
    before = as_it_was(theirs)
    hosted(alice, "mine")
    api = member.api
    assert api.describe_endpoint(EndpointName="bobs")["EndpointStatus"] == "InService"
    assert api.describe_model(ModelName="bobs")["ModelName"] == "bobs"
    assert api.describe_endpoint_config(EndpointConfigName="bobs")["EndpointConfigName"] == "bobs"
    for op, call in {
        "UpdateEndpoint": lambda: api.update_endpoint(
            EndpointName="bobs", EndpointConfigName="mine"
        ),
        "UpdateEndpointWeightsAndCapacities": lambda: api.update_endpoint_weights_and_capacities(
            EndpointName="bobs",
            DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 3}],
        ),
        "DeleteEndpoint": lambda: api.delete_endpoint(EndpointName="bobs"),
        "DeleteEndpointConfig": lambda: api.delete_endpoint_config(EndpointConfigName="bobs"),
        "DeleteModel": lambda: api.delete_model(ModelName="bobs"),
    }.items():
        error = error_of(call)
        assert error["Code"] == DENIED, (op, error)
        assert "belongs to another user profile" in error["Message"], (op, error)
    assert as_it_was(theirs) == before
    assert Model.objects.filter(name="bobs").exists()
    assert EndpointConfig.objects.filter(name="bobs").exists()
