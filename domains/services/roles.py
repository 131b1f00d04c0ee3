"""ExecutionRole in UserSettings: an IAM role ARN of the domain's own account.

Roles grant nothing here (policies do), but SageMaker's SDK reads one from DescribeUserProfile
or DescribeDomain and passes it back as jobs' RoleArn, so it must name the domain's account.
"""

import re
from typing import Any

from domains.models import Domain, UserProfile, role_arn
from studio.core.errors import ValidationException

ROLE_ARN = re.compile(r"arn:aws[a-z\-]*:iam::(?P<account>\d{12}):role/?(?P<name>[\w+=,.@\-/]+)")


def check_execution_role(domain: Domain, settings: dict[str, Any] | None, field: str) -> None:
    role = (settings or {}).get("ExecutionRole")
    if role is None:
        return
    match = ROLE_ARN.fullmatch(role) if isinstance(role, str) else None
    if match is None:
        raise ValidationException(
            f"{field}.ExecutionRole must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), "
            f"not {role!r}.",
            f"{field}.ExecutionRole",
        )
    if match["account"] != domain.account_id:
        raise ValidationException(
            f"{field}.ExecutionRole must be a role of domain {domain.domain_id}'s account "
            f"{domain.account_id}, e.g. {role_arn(domain.account_id)}; not account "
            f"{match['account']}.",
            f"{field}.ExecutionRole",
        )


def in_domain_account(domain: Domain, settings: dict[str, Any]) -> dict[str, Any]:
    """For CreateDomain, whose caller cannot know the new domain's account yet: an
    ExecutionRole keeps its role name and moves to the new domain's account."""
    role = settings.get("ExecutionRole")
    match = ROLE_ARN.fullmatch(role) if isinstance(role, str) else None
    if match is None:
        return settings
    return {**settings, "ExecutionRole": role_arn(domain.account_id, match["name"])}


def execution_role(profile: UserProfile) -> str:
    """The role a profile's work runs as: its own UserSettings.ExecutionRole, else its
    domain's (DefaultUserSettings.ExecutionRole, by default `role/studio` of the domain's
    account). What a Create* request that leaves RoleArn out should default to."""
    return (profile.user_settings or {}).get("ExecutionRole") or profile.domain.execution_role
