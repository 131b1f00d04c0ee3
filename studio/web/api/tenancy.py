"""Domains and user profiles, read: SageMaker's DescribeDomain, ListDomains,
DescribeUserProfile and ListUserProfiles, within the key's own domain."""

from typing import Any

from domains.models import Domain, UserProfile
from domains.services import domains, profiles
from studio.web.api.auth import Caller
from studio.web.api.registry import domain_of, listing, operation, timestamp, without_none


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
            "DefaultUserSettings": domain.default_user_settings or None,
        }
    )


@operation("ListUserProfiles")
def list_user_profiles(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    domain_id = domain_of(caller, params.get("DomainIdEquals", caller.domain_id))
    found = profiles.list_user_profiles(caller.user, domain_id).select_related("domain")
    if params.get("UserProfileNameContains"):
        found = found.filter(name__contains=params["UserProfileNameContains"])
    return listing("UserProfiles", found.order_by("name"), _profile_summary, params)


@operation("DescribeUserProfile")
def describe_user_profile(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    profile = profiles.describe_user_profile(
        caller.user, domain_of(caller, params["DomainId"]), params["UserProfileName"]
    )
    return without_none(
        {
            **_profile_summary(profile),
            "UserProfileArn": profile.arn,
            "FailureReason": profile.failure_reason,
            "UserSettings": profile.user_settings or None,
        }
    )
