"""Create, update and delete a domain's policies (attach them with UpdateDomain /
UpdateUserProfile)."""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from domains.models import Policy
from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from studio.core.events import publish

POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}")
ACTION_PATTERN = re.compile(r"\*|[a-z0-9-]+:[A-Za-z0-9*?]+")
INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9]+")
MAX_ACTIONS = 200


def _validate_actions(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ValidationException(f"{field} must be a list of action patterns.", field)
    if len(value) > MAX_ACTIONS:
        raise ValidationException(f"{field} may hold at most {MAX_ACTIONS} patterns.", field)
    for action in value:
        if not ACTION_PATTERN.fullmatch(action):
            raise ValidationException(
                f"{field}: {action!r} is not an action pattern such as sagemaker:Create* "
                "or sagemaker:*.",
                field,
            )
    return value


def _validate_quotas(spec: dict[str, Any]) -> dict[str, Any]:
    per_type = spec.get("max_instances_per_type") or {}
    if not isinstance(per_type, dict):
        raise ValidationException(
            "MaxInstancesPerType must map instance types to counts.", "MaxInstancesPerType"
        )
    for instance_type, count in per_type.items():
        if not INSTANCE_TYPE.fullmatch(str(instance_type)):
            raise ValidationException(
                f"MaxInstancesPerType: {instance_type!r} is not an instance type like ml.m5.large.",
                "MaxInstancesPerType",
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationException(
                f"MaxInstancesPerType[{instance_type}] must be a whole number ≥ 0.",
                "MaxInstancesPerType",
            )
    counts = {
        "max_concurrent_jobs": ("MaxConcurrentJobs", 0),
        "max_concurrent_apps": ("MaxConcurrentApps", 0),
        "max_runtime_in_seconds": ("MaxRuntimeInSeconds", 1),
    }
    for key, (field, least) in counts.items():
        value = spec.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < least
        ):
            raise ValidationException(f"{field} must be a whole number ≥ {least}.", field)
    budget = spec.get("monthly_budget_usd")
    if budget is not None:
        try:
            budget = Decimal(str(budget))
        except InvalidOperation as e:
            raise ValidationException(
                "MonthlyBudgetUsd must be a number of dollars.", "MonthlyBudgetUsd"
            ) from e
        if budget < 0 or budget >= Decimal("1e10"):
            raise ValidationException(
                "MonthlyBudgetUsd must be between 0 and 9,999,999,999.99.", "MonthlyBudgetUsd"
            )
    return {
        "max_instances_per_type": per_type,
        **{key: spec.get(key) for key in counts},
        "monthly_budget_usd": budget,
    }


def _validate_description(description: str) -> str:
    if len(description) > 1000:
        raise ValidationException("Description must be at most 1000 characters.", "Description")
    return description


def create_policy(
    actor: User,
    domain_id: str,
    *,
    name: str,
    allow: list[str] | None = None,
    deny: list[str] | None = None,
    description: str = "",
    **quotas: Any,
) -> Policy:
    domain = get_domain(actor, domain_id)
    authorize(actor, "studio:CreatePolicy", domain=domain)
    if not isinstance(name, str) or not POLICY_NAME.fullmatch(name):
        raise ValidationException(
            "PolicyName must be 1-128 letters, digits or +=,.@_- characters.", "PolicyName"
        )
    fields = {
        "allow": _validate_actions(allow, "Allow"),
        "deny": _validate_actions(deny, "Deny"),
        "description": _validate_description(description),
        **_validate_quotas(quotas),
    }
    with transaction.atomic():
        if Policy.objects.filter(domain=domain, name=name).exists():
            raise ResourceInUse(f"Policy {name} already exists in domain {domain_id}.")
        policy = Policy.objects.create(domain=domain, name=name, **fields)
        publish(domain.event("updated"))
    return policy


def _get_policy(domain, name: str) -> Policy:
    policy = Policy.objects.filter(domain=domain, name=name).first()
    if policy is None:
        raise ResourceNotFound(f"Policy {name} does not exist in domain {domain.domain_id}.")
    return policy


def update_policy(
    actor: User,
    domain_id: str,
    name: str,
    *,
    allow: list[str] | None = None,
    deny: list[str] | None = None,
    description: str | None = None,
    **quotas: Any,
) -> Policy:
    domain = get_domain(actor, domain_id)
    authorize(actor, "studio:UpdatePolicy", domain=domain)
    policy = _get_policy(domain, name)
    if allow is not None:
        policy.allow = _validate_actions(allow, "Allow")
    if deny is not None:
        policy.deny = _validate_actions(deny, "Deny")
    if description is not None:
        policy.description = _validate_description(description)
    if quotas:
        current = {
            "max_instances_per_type": policy.max_instances_per_type,
            "max_concurrent_jobs": policy.max_concurrent_jobs,
            "max_concurrent_apps": policy.max_concurrent_apps,
            "max_runtime_in_seconds": policy.max_runtime_in_seconds,
            "monthly_budget_usd": policy.monthly_budget_usd,
        }
        for key, value in _validate_quotas({**current, **quotas}).items():
            setattr(policy, key, value)
    with transaction.atomic():
        policy.save()
        publish(domain.event("updated"))
    return policy


def delete_policy(actor: User, domain_id: str, name: str) -> None:
    """Delete a policy that nothing uses; as in IAM, detach it first."""
    domain = get_domain(actor, domain_id)
    authorize(actor, "studio:DeletePolicy", domain=domain)
    with transaction.atomic():
        policy = _get_policy(domain, name)
        users = list(policy.profiles.values_list("name", flat=True)[:5])
        if users or policy.default_for_domains.exists():
            where = f"user profiles {', '.join(users)}" if users else "the domain's defaults"
            raise ResourceInUse(f"Policy {name} is attached to {where}; detach it first.")
        policy.delete()
        publish(domain.event("updated"))
