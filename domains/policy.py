"""Policy evaluation, as IAM evaluates it: an explicit deny wins, then any allow, else deny.

Pure functions over policy-like objects (anything with `name`, `allow`, `deny` and the quota
attributes), so the rules are unit-tested without a database. `domains.permissions` loads a
profile's policies and calls these.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Protocol

from metering.usage import Usage
from studio.core.errors import ResourceLimitExceeded


class PolicyLike(Protocol):
    name: str
    allow: list[str]
    deny: list[str]
    max_instances_per_type: dict[str, int]
    max_concurrent_jobs: int | None
    monthly_budget_usd: Decimal | None
    # Also read, when present: max_concurrent_apps and max_runtime_in_seconds (int | None).


def action_matches(pattern: str, action: str) -> bool:
    """`sagemaker:Create*` matches `sagemaker:CreateTrainingJob`; case-insensitive, as IAM."""
    return fnmatchcase(action.lower(), pattern.strip().lower())


# Allowing every SageMaker action allows S3 too, as AWS's AmazonSageMakerFullAccess grants S3
# on SageMaker's buckets: a default policy written before Studio served S3 (`sagemaker:*`)
# lets its members use their domain's buckets. An explicit deny of `s3:*` still wins.
IMPLIED_ALLOWS = {"sagemaker:*": ("s3:*",)}


def _allows(pattern: str, action: str) -> bool:
    implied = IMPLIED_ALLOWS.get(pattern.strip().lower(), ())
    return action_matches(pattern, action) or any(action_matches(p, action) for p in implied)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    explicit_deny: bool = False


def evaluate(policies: Iterable[PolicyLike], action: str) -> Decision:
    policies = list(policies)
    for policy in policies:
        for pattern in policy.deny:
            if action_matches(pattern, action):
                return Decision(
                    False,
                    f"policy '{policy.name}' explicitly denies {action} ({pattern})",
                    explicit_deny=True,
                )
    for policy in policies:
        for pattern in policy.allow:
            if _allows(pattern, action):
                return Decision(True, f"allowed by policy '{policy.name}' ({pattern})")
    if not policies:
        return Decision(False, f"no policy is attached, so {action} is not allowed")
    names = ", ".join(f"'{p.name}'" for p in policies)
    return Decision(False, f"no attached policy ({names}) allows {action}")


@dataclass(frozen=True)
class Limit:
    value: int | Decimal
    policy: str
    # Set when the limit is an installation default (the setting's name), not a policy's.
    setting: str = ""

    @property
    def source(self) -> str:
        """Who sets it, to start a refusal with."""
        if self.setting:
            return f"The installation's default ({self.setting})"
        return f"Policy '{self.policy}'"


@dataclass
class Quotas:
    """The tightest of each quota across a profile's policies, with the policy that sets it."""

    instances_per_type: dict[str, Limit] = field(default_factory=dict)
    concurrent_jobs: Limit | None = None
    concurrent_apps: Limit | None = None
    max_runtime_in_seconds: Limit | None = None
    monthly_budget_usd: Limit | None = None

    def with_defaults(self, defaults: dict[str, tuple[int | None, str]]) -> "Quotas":
        """These quotas, with `defaults` ({quota: (value, setting name)}) filling the ones no
        policy sets: fair share holds even for a profile whose policies name no quota."""
        for quota, (value, setting) in defaults.items():
            if getattr(self, quota) is None and value is not None:
                setattr(self, quota, Limit(value, "", setting))
        return self


def _tighter(current: Limit | None, value, policy: str) -> Limit | None:
    if value is None:
        return current
    if current is None or value < current.value:
        return Limit(value, policy)
    return current


def effective_quotas(policies: Iterable[PolicyLike]) -> Quotas:
    quotas = Quotas()
    for p in policies:
        for instance_type, n in (p.max_instances_per_type or {}).items():
            quotas.instances_per_type[instance_type] = _tighter(
                quotas.instances_per_type.get(instance_type), n, p.name
            )
        quotas.concurrent_jobs = _tighter(quotas.concurrent_jobs, p.max_concurrent_jobs, p.name)
        # Optional in a PolicyLike: a policy-like object that predates them sets neither.
        quotas.concurrent_apps = _tighter(
            quotas.concurrent_apps, getattr(p, "max_concurrent_apps", None), p.name
        )
        quotas.max_runtime_in_seconds = _tighter(
            quotas.max_runtime_in_seconds, getattr(p, "max_runtime_in_seconds", None), p.name
        )
        quotas.monthly_budget_usd = _tighter(
            quotas.monthly_budget_usd, p.monthly_budget_usd, p.name
        )
    return quotas


def check_quotas(
    quotas: Quotas,
    usage: Usage,
    *,
    instance_type: str | None = None,
    instance_count: int = 0,
    starts_job: bool = False,
    starts_app: bool = False,
) -> None:
    """Raise ResourceLimitExceeded if starting this work would pass a quota."""
    if instance_type and instance_count:
        limit = quotas.instances_per_type.get(instance_type)
        running = usage.instances_by_type.get(instance_type, 0)
        if limit is not None and running + instance_count > limit.value:
            raise ResourceLimitExceeded(
                f"{limit.source} allows at most {limit.value} {instance_type} "
                f"instances at once; {running} are running and {instance_count} more were "
                "requested. Stop something or ask a domain admin to raise the quota."
            )
    if starts_job and quotas.concurrent_jobs is not None:
        limit = quotas.concurrent_jobs
        if usage.concurrent_jobs + 1 > limit.value:
            raise ResourceLimitExceeded(
                f"{limit.source} allows at most {limit.value} concurrent jobs; "
                f"{usage.concurrent_jobs} are running. Wait for one to finish or stop one."
            )
    if starts_app and quotas.concurrent_apps is not None:
        limit = quotas.concurrent_apps
        if usage.concurrent_apps + 1 > limit.value:
            raise ResourceLimitExceeded(
                f"{limit.source} allows at most {limit.value} running JupyterLab apps; "
                f"{usage.concurrent_apps} are running. Stop one first."
            )
    budget = quotas.monthly_budget_usd
    if (
        budget is not None
        and (instance_count or starts_job or starts_app)
        and usage.month_spend_usd >= budget.value
    ):
        raise ResourceLimitExceeded(
            f"{budget.source} sets a monthly budget of ${budget.value}; "
            f"${usage.month_spend_usd:.2f} is already spent this month."
        )
