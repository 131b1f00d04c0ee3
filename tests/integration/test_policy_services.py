"""Policies: create, update, delete, attach; and how they govern a member's actions."""

from decimal import Decimal

import pytest

from domains.models import Policy
from domains.permissions import authorize, enforce_quotas
from domains.policy import Usage
from domains.services import (
    create_policy,
    delete_policy,
    update_policy,
    update_user_profile,
)
from domains.services.domains import DEFAULT_POLICY_ALLOW
from studio.core.errors import (
    AccessDenied,
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
    ValidationException,
)

pytestmark = pytest.mark.usefixtures("live")


def test_create_policy_with_quotas(root, domain):
    policy = create_policy(
        root,
        domain.domain_id,
        name="Interns",
        allow=["sagemaker:Describe*", "sagemaker:CreateTrainingJob"],
        deny=["sagemaker:*Endpoint*"],
        max_instances_per_type={"ml.m5.large": 1},
        max_concurrent_jobs=2,
        monthly_budget_usd="25.50",
    )
    policy.refresh_from_db()
    assert policy.max_instances_per_type == {"ml.m5.large": 1}
    assert policy.max_concurrent_jobs == 2
    assert policy.monthly_budget_usd == Decimal("25.50")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "has space"}, "PolicyName"),
        ({"name": "x" * 129}, "PolicyName"),
        ({"name": "P", "allow": "sagemaker:*"}, "Allow"),
        ({"name": "P", "allow": ["CreateTrainingJob"]}, "Allow"),
        ({"name": "P", "deny": ["sagemaker:Create Job"]}, "Deny"),
        ({"name": "P", "allow": ["sagemaker:*"] * 201}, "Allow"),
        ({"name": "P", "max_instances_per_type": {"m5.large": 1}}, "MaxInstancesPerType"),
        ({"name": "P", "max_instances_per_type": {"ml.m5.large": -1}}, "MaxInstancesPerType"),
        ({"name": "P", "max_concurrent_jobs": "many"}, "MaxConcurrentJobs"),
        ({"name": "P", "monthly_budget_usd": "lots"}, "MonthlyBudgetUsd"),
        ({"name": "P", "monthly_budget_usd": -5}, "MonthlyBudgetUsd"),
        ({"name": "P", "description": "d" * 1001}, "Description"),
    ],
)
def test_create_policy_bad_input_creates_nothing(root, domain, kwargs, field):
    with pytest.raises(ValidationException) as e:
        create_policy(root, domain.domain_id, **kwargs)
    assert e.value.field == field
    assert list(Policy.objects.values_list("name", flat=True)) == ["DataScientist"]


def test_duplicate_policy_name_is_in_use(root, domain):
    with pytest.raises(ResourceInUse, match="DataScientist already exists"):
        create_policy(root, domain.domain_id, name="DataScientist")


def test_members_cannot_manage_policies(alice, alice_profile):
    domain_id = alice_profile.domain.domain_id
    with pytest.raises(AccessDenied):
        create_policy(alice, domain_id, name="Mine", allow=["*"])
    with pytest.raises(AccessDenied):
        update_policy(alice, domain_id, "DataScientist", allow=["*"])
    assert Policy.objects.get().allow == DEFAULT_POLICY_ALLOW


def test_update_policy_keeps_unnamed_quotas(root, domain):
    create_policy(root, domain.domain_id, name="Team", max_concurrent_jobs=3)
    policy = update_policy(root, domain.domain_id, "Team", monthly_budget_usd=100)
    policy.refresh_from_db()
    assert policy.max_concurrent_jobs == 3 and policy.monthly_budget_usd == Decimal(100)
    with pytest.raises(ResourceNotFound, match="Ghost does not exist"):
        update_policy(root, domain.domain_id, "Ghost", allow=["*"])


def test_attached_policy_cannot_be_deleted_until_detached(root, domain, alice_profile):
    create_policy(root, domain.domain_id, name="Team", allow=["sagemaker:*"])
    update_user_profile(root, domain.domain_id, "alice", policies=["Team"])
    with pytest.raises(ResourceInUse, match="attached to user profiles alice"):
        delete_policy(root, domain.domain_id, "Team")
    with pytest.raises(ResourceInUse, match="the domain's defaults"):
        delete_policy(root, domain.domain_id, "DataScientist")
    update_user_profile(root, domain.domain_id, "alice", policies=[])
    delete_policy(root, domain.domain_id, "Team")
    assert not Policy.objects.filter(name="Team").exists()


def test_profile_policies_replace_the_domain_defaults(root, domain, alice, alice_profile):
    authorize(alice, "sagemaker:CreateTrainingJob", domain=domain)  # DataScientist allows it
    create_policy(root, domain.domain_id, name="ReadOnly", allow=["sagemaker:Describe*"])
    update_user_profile(root, domain.domain_id, "alice", policies=["ReadOnly"])
    with pytest.raises(AccessDenied) as e:
        authorize(alice, "sagemaker:CreateTrainingJob", domain=domain)
    assert e.value.message == (
        "User profile 'alice' in domain 'research' is not authorized to perform "
        "sagemaker:CreateTrainingJob: no attached policy ('ReadOnly') allows "
        "sagemaker:CreateTrainingJob."
    )
    authorize(alice, "sagemaker:DescribeTrainingJob", domain=domain)


def test_domain_default_deny_applies_to_members(root, domain, alice, alice_profile):
    update_policy(root, domain.domain_id, "DataScientist", deny=["sagemaker:CreateEndpoint"])
    with pytest.raises(AccessDenied, match="explicitly denies sagemaker:CreateEndpoint"):
        authorize(alice, "sagemaker:CreateEndpoint", domain=domain)


def test_quotas_of_the_effective_policies_are_enforced(root, domain, alice_profile):
    create_policy(
        root,
        domain.domain_id,
        name="Capped",
        allow=["sagemaker:*"],
        max_instances_per_type={"ml.m5.large": 1},
    )
    update_user_profile(root, domain.domain_id, "alice", policies=["Capped"])
    alice_profile.refresh_from_db()
    enforce_quotas(alice_profile, Usage(), instance_type="ml.m5.large", instance_count=1)
    with pytest.raises(ResourceLimitExceeded, match=r"'Capped' allows at most 1 ml\.m5\.large"):
        enforce_quotas(
            alice_profile,
            Usage(instances_by_type={"ml.m5.large": 1}),
            instance_type="ml.m5.large",
            instance_count=1,
        )
