"""Tenancy's taggable resource types, registered with domains.services.tags: domains, user
profiles, spaces, apps and Studio lifecycle configurations."""

from domains.models import App, Domain, StudioLifecycleConfig
from domains.permissions import User
from domains.services.lookup import get_profile
from domains.services.spaces import visible_spaces
from domains.services.tags import Tagged, register
from studio.core.errors import ResourceNotFound, ValidationException


def _domain(actor: User, domain: Domain | None, rest: str) -> Tagged | None:
    if domain is None or rest != domain.domain_id:
        return None
    return Tagged(domain.arn, domain, admin_only=True)


def _profile(actor: User, domain: Domain | None, rest: str) -> Tagged | None:
    domain_id, _, name = rest.partition("/")
    if domain is None or domain_id != domain.domain_id:
        return None
    try:
        profile = get_profile(domain, name)
    except (ResourceNotFound, ValidationException):
        return None
    return Tagged(profile.arn, domain, owner=profile)


def _space(actor: User, domain: Domain | None, rest: str) -> Tagged | None:
    domain_id, _, name = rest.partition("/")
    if domain is None or domain_id != domain.domain_id:
        return None
    space = visible_spaces(actor, domain).filter(name=name).first()
    if space is None:
        return None
    return Tagged(space.arn, domain, owner=space.owner, space_id=space.pk)


def _app(actor: User, domain: Domain | None, rest: str) -> Tagged | None:
    # The ARN holds "<domain id>/<space>/<app type>/<app name>" in lower case.
    parts = rest.split("/")
    if domain is None or len(parts) != 4 or parts[0] != domain.domain_id:
        return None
    _, space_name, app_type, app_name = parts
    app = (
        App.objects.select_related("space__domain", "space__owner")
        .filter(
            space__in=visible_spaces(actor, domain),
            space__name__iexact=space_name,
            app_type__iexact=app_type,
            app_name__iexact=app_name,
        )
        .first()
    )
    if app is None:
        return None
    return Tagged(app.arn, domain, owner=app.space.owner, space_id=app.space_id)


def _lifecycle_config(actor: User, domain: Domain | None, rest: str) -> Tagged | None:
    config = (
        StudioLifecycleConfig.objects.select_related("domain").filter(name=rest, domain=domain)
    ).first()
    if config is None:
        return None
    return Tagged(config.arn, domain, admin_only=True)


register("domain", _domain)
register("user-profile", _profile)
register("space", _space)
register("app", _app)
register("studio-lifecycle-config", _lifecycle_config)
