"""Finding resources the actor may know exist; anything else is ResourceNotFound."""

from domains.models import Domain, Policy, UserProfile
from domains.permissions import User, visible_domains
from studio.core.errors import ResourceNotFound
from studio.core.shapes import validate


def get_domain(actor: User, domain_id: str, *, for_update: bool = False) -> Domain:
    validate(domain_id, "DomainId", "DomainId")
    qs = visible_domains(actor)
    if for_update:
        qs = Domain.objects.select_for_update().filter(pk__in=qs.values("pk"))
    domain = qs.filter(domain_id=domain_id).first()
    if domain is None:
        raise ResourceNotFound(f"Domain {domain_id} does not exist.")
    return domain


def get_profile(domain: Domain, name: str) -> UserProfile:
    validate(name, "UserProfileName", "UserProfileName")
    profile = (
        UserProfile.objects.select_related("domain", "user")
        .filter(domain=domain, name=name)
        .first()
    )
    if profile is None:
        raise ResourceNotFound(f"User profile {name} does not exist in domain {domain.domain_id}.")
    return profile


def get_policies(domain: Domain, names: list[str], field: str) -> list[Policy]:
    found = {p.name: p for p in Policy.objects.filter(domain=domain, name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise ResourceNotFound(
            f"{field}: no policy named {', '.join(missing)} in domain {domain.domain_id}."
        )
    return [found[n] for n in names]
