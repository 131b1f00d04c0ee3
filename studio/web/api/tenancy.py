"""Domains and user profiles: SageMaker's Create, Describe, List, Update and Delete of each,
within the key's own domain.

An access key acts as its profile (Caller.user), never as the (super)user behind it: a domain
admin's key manages its own domain's profiles and settings, a member's key administers
nothing, and CreateDomain — a superuser's action in the console — is refused to every key.
"""

from typing import Any

from django.db.models import QuerySet

from domains.models import Domain, UserProfile
from domains.services import domains, profiles
from domains.services.roles import execution_role
from studio.core.errors import ValidationException
from studio.web.api.auth import Caller
from studio.web.api.registry import (
    domain_of,
    listing,
    moment,
    operation,
    timestamp,
    without_none,
)

# SortBy values of ListUserProfiles and ListSpaces, and the field each orders by.
SORT_FIELDS = {"CreationTime": "created_at", "LastModifiedTime": "last_modified_at"}


def sorted_by(
    found: QuerySet,
    params: dict[str, Any],
    fields: dict[str, str],
    *,
    default_by: str = "CreationTime",
    default_order: str = "Ascending",
) -> QuerySet:
    """Order a List operation's rows by its SortBy and SortOrder (botocore's enums, checked
    before this runs), SageMaker's defaults otherwise; the primary key breaks ties, so pages
    never repeat or skip a row."""
    field = fields[params.get("SortBy") or default_by]
    descending = (params.get("SortOrder") or default_order) == "Descending"
    sign = "-" if descending else ""
    return found.order_by(f"{sign}{field}", f"{sign}pk")


def created_between(found: QuerySet, params: dict[str, Any], prefix: str = "Creation") -> QuerySet:
    """CreationTimeAfter/Before (and for `prefix` "Modified", ModifiedTimeAfter/Before)."""
    field = "created_at" if prefix == "Creation" else "last_modified_at"
    after = moment(params, f"{prefix}TimeAfter")
    before = moment(params, f"{prefix}TimeBefore")
    if after is not None:
        found = found.filter(**{f"{field}__gt": after})
    if before is not None:
        found = found.filter(**{f"{field}__lt": before})
    return found


def given_members_replaced(current: dict | None, given: dict[str, Any]) -> dict[str, Any]:
    """An Update's settings: each member given (ExecutionRole, JupyterLabAppSettings, ...)
    replaces the one stored, whole; members not given keep their values."""
    return {**(current or {}), **given}


def _domain_summary(domain: Domain) -> dict[str, Any]:
    return without_none(
        {
            "DomainArn": domain.arn,
            "DomainId": domain.domain_id,
            "DomainName": domain.name,
            "Status": domain.status,
            "CreationTime": timestamp(domain.created_at),
            "LastModifiedTime": timestamp(domain.last_modified_at),
        }
    )


def _profile_summary(profile: UserProfile) -> dict[str, Any]:
    return without_none(
        {
            "DomainId": profile.domain.domain_id,
            "UserProfileName": profile.name,
            "Status": profile.status,
            "CreationTime": timestamp(profile.created_at),
            "LastModifiedTime": timestamp(profile.last_modified_at),
        }
    )


def _retention(params: dict[str, Any]) -> str:
    return (params.get("RetentionPolicy") or {}).get("HomeEfsFileSystem") or "Retain"


@operation("CreateDomain")
def create_domain(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domain = domains.create_domain(
        caller.user,
        name=params["DomainName"],
        default_user_settings=params["DefaultUserSettings"],
        app_network_access_type=params.get("AppNetworkAccessType", "PublicInternetOnly"),
        tags=params.get("Tags"),
    )
    return {"DomainArn": domain.arn, "DomainId": domain.domain_id}


@operation("ListDomains")
def list_domains(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = domains.list_domains(caller.user).filter(domain_id=caller.domain_id)
    return listing("Domains", found, _domain_summary, params)


@operation("DescribeDomain")
def describe_domain(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domain = domains.describe_domain(caller.user, domain_of(caller, params["DomainId"]))
    return without_none(
        {
            **_domain_summary(domain),
            "FailureReason": domain.failure_reason,
            "AuthMode": domain.auth_mode,
            "AppNetworkAccessType": domain.app_network_access_type,
            "HomeEfsFileSystemId": domain.home_efs_file_system_id,
            # The SDK's get_execution_role() falls back to this one: always present.
            "DefaultUserSettings": {
                **(domain.default_user_settings or {}),
                "ExecutionRole": domain.execution_role,
            },
        }
    )


@operation("UpdateDomain")
def update_domain(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domain_id = domain_of(caller, params["DomainId"])
    given = params.get("DefaultUserSettings")
    settings = None
    if given is not None:
        current = domains.describe_domain(caller.user, domain_id)
        settings = given_members_replaced(current.default_user_settings, given)
    domain = domains.update_domain(
        caller.user,
        domain_id,
        default_user_settings=settings,
        app_network_access_type=params.get("AppNetworkAccessType"),
    )
    return {"DomainArn": domain.arn}


@operation("DeleteDomain")
def delete_domain(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domains.delete_domain(
        caller.user, domain_of(caller, params["DomainId"]), retention=_retention(params)
    )
    return {}


@operation("CreateUserProfile")
def create_user_profile(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("SingleSignOnUserIdentifier") or params.get("SingleSignOnUserValue"):
        raise ValidationException(
            "SingleSignOnUserIdentifier and SingleSignOnUserValue are for IAM Identity Center "
            "domains; Studio's domains use IAM auth, and a new profile gets its own account.",
            "SingleSignOnUserIdentifier",
        )
    profile = profiles.create_user_profile(
        caller.user,
        domain_of(caller, params["DomainId"]),
        name=params["UserProfileName"],
        user=profiles.NEW_ACCOUNT,
        user_settings=params.get("UserSettings"),
        tags=params.get("Tags"),
    )
    return {"UserProfileArn": profile.arn}


@operation("ListUserProfiles")
def list_user_profiles(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domain_id = domain_of(caller, params.get("DomainIdEquals", caller.domain_id))
    found = profiles.list_user_profiles(caller.user, domain_id).select_related("domain")
    if params.get("UserProfileNameContains"):
        found = found.filter(name__contains=params["UserProfileNameContains"])
    found = sorted_by(found, params, SORT_FIELDS)
    return listing("UserProfiles", found, _profile_summary, params)


@operation("DescribeUserProfile")
def describe_user_profile(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    profile = profiles.describe_user_profile(
        caller.user, domain_of(caller, params["DomainId"]), params["UserProfileName"]
    )
    own = profile.user_settings or {}
    return without_none(
        {
            **_profile_summary(profile),
            "UserProfileArn": profile.arn,
            "FailureReason": profile.failure_reason,
            "HomeEfsFileSystemUid": str(profile.home_uid) if profile.home_uid else None,
            # The SDK's get_execution_role() reads this first: the profile's own role, else
            # the domain's, as the profile's apps and jobs use.
            "UserSettings": {**own, "ExecutionRole": execution_role(profile)},
        }
    )


@operation("UpdateUserProfile")
def update_user_profile(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domain_id = domain_of(caller, params["DomainId"])
    name = params["UserProfileName"]
    given = params.get("UserSettings")
    settings = None
    if given is not None:
        current = profiles.describe_user_profile(caller.user, domain_id, name)
        settings = given_members_replaced(current.user_settings, given)
    profile = profiles.update_user_profile(caller.user, domain_id, name, user_settings=settings)
    return {"UserProfileArn": profile.arn}


@operation("DeleteUserProfile")
def delete_user_profile(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    profiles.delete_user_profile(
        caller.user, domain_of(caller, params["DomainId"]), params["UserProfileName"]
    )
    return {}
