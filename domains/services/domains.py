"""CreateDomain, DescribeDomain, ListDomains, UpdateDomain, DeleteDomain."""

from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from domains.models import (
    AppNetworkAccessType,
    Domain,
    Policy,
    RetentionType,
    StudioStatus,
)
from domains.permissions import User, authorize, visible_domains
from domains.services.lifecycle_configs import check_attachable
from domains.services.lookup import get_domain, get_policies
from domains.services.roles import check_execution_role, in_domain_account
from domains.services.tags import forget_tags, save_tags, validate_tags
from domains.user_settings import validate_user_settings
from studio.core.errors import ResourceInUse, ValidationException
from studio.core.events import publish
from studio.core.lifecycle import record_creation, transition
from studio.core.queue import enqueue
from studio.core.shapes import validate_name

# Every new domain gets this policy as its default, so that its members can work at once;
# admins narrow it or attach others.
DEFAULT_POLICY_NAME = "DataScientist"
DEFAULT_POLICY_ALLOW = ["sagemaker:*", "studio:*Dataset*"]


def _validate_network(value: str) -> str:
    if value not in AppNetworkAccessType.values:
        raise ValidationException(
            f"AppNetworkAccessType must be one of {', '.join(AppNetworkAccessType.values)}, "
            f"not {value!r}.",
            "AppNetworkAccessType",
        )
    return value


def create_domain(
    actor: User,
    *,
    name: str,
    default_user_settings: dict[str, Any] | None = None,
    app_network_access_type: str = AppNetworkAccessType.PUBLIC_INTERNET_ONLY,
    tags: list[dict[str, str]] | None = None,
) -> Domain:
    """Superusers only: an access key acts as its profile, never as a superuser, so the API's
    CreateDomain is refused to every key. An ExecutionRole in the defaults keeps its name in
    the new domain's account (the caller cannot know that account yet)."""
    authorize(actor, "sagemaker:CreateDomain")
    validate_name(name, "DomainName", "DomainName")
    settings = validate_user_settings(default_user_settings, "DefaultUserSettings")
    _validate_network(app_network_access_type)
    validate_tags(tags)

    with transaction.atomic():
        if Domain.objects.filter(name=name).exists():
            raise ResourceInUse(f"A domain named {name} already exists.")
        domain = Domain.objects.create(
            name=name,
            status=StudioStatus.PENDING,
            default_user_settings=settings,
            app_network_access_type=app_network_access_type,
        )
        domain.default_user_settings = in_domain_account(domain, settings)
        check_attachable(domain, domain.default_user_settings, "DefaultUserSettings")
        domain.save(update_fields=["default_user_settings"])
        policy = Policy.objects.create(
            domain=domain,
            name=DEFAULT_POLICY_NAME,
            description="Default for the domain's members: every SageMaker action, and datasets.",
            allow=DEFAULT_POLICY_ALLOW,
            # Fair share from the start; the domain's admins change them on this policy.
            max_concurrent_jobs=django_settings.STUDIO_DEFAULT_MAX_CONCURRENT_JOBS,
            max_concurrent_apps=django_settings.STUDIO_DEFAULT_MAX_CONCURRENT_APPS,
            max_runtime_in_seconds=django_settings.STUDIO_DEFAULT_MAX_RUNTIME_SECONDS,
        )
        domain.default_policies.add(policy)
        record_creation(domain)
        save_tags(actor, domain.arn, tags)
        enqueue("domains.tasks.provision_domain", domain.pk)
    return domain


def describe_domain(actor: User, domain_id: str) -> Domain:
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:DescribeDomain", domain=domain)
    return domain


def list_domains(actor: User) -> QuerySet[Domain]:
    """Domains the actor can see; ListDomains itself needs no policy, as it reveals only those."""
    return visible_domains(actor).order_by("name")


def update_domain(
    actor: User,
    domain_id: str,
    *,
    default_user_settings: dict[str, Any] | None = None,
    app_network_access_type: str | None = None,
    default_policies: list[str] | None = None,
) -> Domain:
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:UpdateDomain", domain=domain)
    if default_user_settings is not None:
        validate_user_settings(default_user_settings, "DefaultUserSettings")
        check_execution_role(domain, default_user_settings, "DefaultUserSettings")
        check_attachable(domain, default_user_settings, "DefaultUserSettings")
    if app_network_access_type is not None:
        _validate_network(app_network_access_type)
    with transaction.atomic():
        domain = get_domain(actor, domain_id, for_update=True)
        if domain.status != StudioStatus.IN_SERVICE:
            raise ResourceInUse(f"Domain {domain_id} is {domain.status}; wait until InService.")
        changed = []
        if default_user_settings is not None:
            domain.default_user_settings = default_user_settings
            changed.append("default_user_settings")
        if app_network_access_type is not None:
            domain.app_network_access_type = app_network_access_type
            changed.append("app_network_access_type")
        if changed:
            domain.last_modified_at = timezone.now()
            domain.save(update_fields=[*changed, "last_modified_at"])
        if default_policies is not None:
            domain.default_policies.set(get_policies(domain, default_policies, "DefaultPolicies"))
        publish(domain.event("updated"))
    return domain


def delete_domain(actor: User, domain_id: str, *, retention: str = RetentionType.RETAIN) -> Domain:
    """Start deleting a domain; the worker removes it (and, with Delete, its home volume).

    As in SageMaker, the domain's user profiles must be deleted (or be deleting) first.
    """
    if retention not in RetentionType.values:
        raise ValidationException(
            f"RetentionPolicy.HomeEfsFileSystem must be Retain or Delete, not {retention!r}.",
            "RetentionPolicy.HomeEfsFileSystem",
        )
    domain = get_domain(actor, domain_id)
    authorize(actor, "sagemaker:DeleteDomain", domain=domain)

    with transaction.atomic():
        domain = get_domain(actor, domain_id, for_update=True)
        live = domain.profiles.exclude(status=StudioStatus.DELETING).count()
        if live:
            raise ResourceInUse(
                f"Domain {domain_id} still has {live} user profile(s); delete them first."
            )
        domain.home_retention = retention
        domain.save(update_fields=["home_retention"])
        transition(domain, StudioStatus.DELETING)
        forget_tags(domain.arn)
        enqueue("domains.tasks.finish_domain_deletion", domain.pk)
    return domain
