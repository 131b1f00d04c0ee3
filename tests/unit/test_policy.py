"""Policy evaluation: wildcards, explicit denials, and quotas (tightest wins, named)."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from domains.policy import (
    Usage,
    action_matches,
    check_quotas,
    effective_quotas,
    evaluate,
)
from studio.core.errors import ResourceLimitExceeded


@dataclass
class P:
    name: str
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    max_instances_per_type: dict[str, int] = field(default_factory=dict)
    max_concurrent_jobs: int | None = None
    monthly_budget_usd: Decimal | None = None


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("sagemaker:*", "sagemaker:CreateTrainingJob", True),
        ("sagemaker:Create*", "sagemaker:CreateTrainingJob", True),
        ("sagemaker:Create*", "sagemaker:DeleteTrainingJob", False),
        ("sagemaker:createtrainingjob", "sagemaker:CreateTrainingJob", True),
        ("sagemaker:Describe?omain", "sagemaker:DescribeDomain", True),
        ("*", "studio:CreateAccessKey", True),
        ("sagemaker:*", "studio:CreateAccessKey", False),
        ("sagemaker:CreateTrainingJob", "sagemaker:CreateTrainingJobX", False),
    ],
)
def test_action_patterns_match_like_iam(pattern, action, expected):
    assert action_matches(pattern, action) is expected


def test_allow_by_wildcard_names_the_policy():
    decision = evaluate([P("DataScientist", allow=["sagemaker:*"])], "sagemaker:CreateEndpoint")
    assert decision.allowed
    assert "DataScientist" in decision.reason


def test_explicit_deny_wins_over_any_allow_in_any_policy():
    policies = [
        P("Everything", allow=["*"]),
        P("NoEndpoints", deny=["sagemaker:*Endpoint*"]),
    ]
    decision = evaluate(policies, "sagemaker:CreateEndpoint")
    assert not decision.allowed
    assert decision.explicit_deny
    assert "NoEndpoints" in decision.reason and "sagemaker:CreateEndpoint" in decision.reason
    assert evaluate(policies, "sagemaker:CreateTrainingJob").allowed


def test_nothing_allows_means_denied_with_the_policies_named():
    decision = evaluate(
        [P("ReadOnly", allow=["sagemaker:Describe*", "sagemaker:List*"])],
        "sagemaker:CreateTrainingJob",
    )
    assert not decision.allowed
    assert not decision.explicit_deny
    assert "'ReadOnly'" in decision.reason


def test_no_policy_at_all_denies():
    decision = evaluate([], "sagemaker:ListDomains")
    assert not decision.allowed
    assert "no policy" in decision.reason


def test_tightest_quota_wins_and_remembers_its_policy():
    quotas = effective_quotas(
        [
            P("Team", max_instances_per_type={"ml.m5.large": 4}, max_concurrent_jobs=10),
            P(
                "Intern",
                max_instances_per_type={"ml.m5.large": 1, "ml.g4dn.xlarge": 0},
                monthly_budget_usd=Decimal("50"),
            ),
            P("Loose", max_concurrent_jobs=20),
        ]
    )
    assert quotas.instances_per_type["ml.m5.large"].value == 1
    assert quotas.instances_per_type["ml.m5.large"].policy == "Intern"
    assert quotas.instances_per_type["ml.g4dn.xlarge"].value == 0
    assert quotas.concurrent_jobs.value == 10 and quotas.concurrent_jobs.policy == "Team"
    assert quotas.monthly_budget_usd.value == Decimal("50")


def test_instance_quota_counts_running_plus_requested():
    quotas = effective_quotas([P("Team", max_instances_per_type={"ml.m5.large": 2})])
    usage = Usage(instances_by_type={"ml.m5.large": 1})
    check_quotas(quotas, usage, instance_type="ml.m5.large", instance_count=1)
    with pytest.raises(ResourceLimitExceeded, match=r"'Team' allows at most 2 ml\.m5\.large"):
        check_quotas(quotas, usage, instance_type="ml.m5.large", instance_count=2)
    # Types without a quota are unlimited.
    check_quotas(quotas, usage, instance_type="ml.c5.xlarge", instance_count=50)


def test_concurrent_job_quota():
    quotas = effective_quotas([P("Team", max_concurrent_jobs=2)])
    check_quotas(quotas, Usage(concurrent_jobs=1), starts_job=True)
    with pytest.raises(ResourceLimitExceeded, match="at most 2 concurrent jobs"):
        check_quotas(quotas, Usage(concurrent_jobs=2), starts_job=True)
    # Work that starts no job is not held to the job quota.
    check_quotas(quotas, Usage(concurrent_jobs=2))


def test_spent_budget_blocks_new_compute_only():
    quotas = effective_quotas([P("Lab", monthly_budget_usd=Decimal("10.00"))])
    spent = Usage(month_spend_usd=Decimal("10.00"))
    with pytest.raises(ResourceLimitExceeded, match=r"monthly budget of \$10.00"):
        check_quotas(quotas, spent, instance_type="ml.t3.medium", instance_count=1)
    check_quotas(quotas, spent)  # nothing new to run: nothing to refuse
    check_quotas(quotas, Usage(month_spend_usd=Decimal("9.99")), starts_job=True)
