"""Signing in with an identity provider (OpenID Connect): who the person is, and which domains
and roles an admin's `IdentityMapping`s give them.

A person is their provider's (issuer, subject) pair (`ExternalIdentity`), never an email address
or a username, so an identity provider account can never take over a local account that happens
to share its name. At every sign-in the mappings are applied again: a profile is created in
each mapped domain that has none, and a profile's role follows the mapping (Member to Admin and
back). Studio never deletes or suspends a profile because a mapping stopped matching: that
would take a person's work with it; their domain's admins decide. Someone no mapping matches
is refused, and no account is made for them.

The web side (studio/web/oidc.py) verifies the provider's tokens and calls `sign_in` with
claims it trusts.
"""

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from domains.models import (
    Domain,
    ExternalIdentity,
    IdentityMapping,
    ProfileRole,
    StudioStatus,
    UserProfile,
)
from domains.services.profiles import create_user_profile, update_user_profile
from studio.core.errors import StudioError

log = logging.getLogger(__name__)

# Django's username rule (letters, digits and @.+-_, at most 150 characters).
_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]+", re.ASCII)
_USERNAME_MAX = 150
# A UserProfileName: letters, digits and dashes, at most 63 characters.
_PROFILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9]+")
_PROFILE_NAME_MAX = 63
_RANK = {ProfileRole.MEMBER: 0, ProfileRole.ADMIN: 1}


class NotAssigned(Exception):
    """No `IdentityMapping` matches the person's claims: they may not use Studio."""

    def __init__(self, who: str):
        super().__init__(
            f"Your identity provider account ({who}) is not assigned to any Studio domain. "
            "Ask your Studio administrator to give your group or account access."
        )
        self.message = str(self)


@dataclass(frozen=True)
class Assignment:
    """What the mappings give a person in one domain."""

    domain: Domain
    role: str


def _claim_values(claims: Mapping[str, Any], claim: str) -> set[str]:
    """A claim's values as strings: a list claim (`groups`) gives each item, a scalar itself."""
    value = claims.get(claim)
    if value is None:
        return set()
    items = value if isinstance(value, list | tuple) else [value]
    return {str(item).lower() if isinstance(item, bool) else str(item) for item in items}


def assignments_for(claims: Mapping[str, Any]) -> list[Assignment]:
    """The domains and roles the admins' mappings give someone with `claims`; where several
    mappings name one domain, the highest role wins."""
    best: dict[int, Assignment] = {}
    for mapping in IdentityMapping.objects.select_related("domain").order_by("pk"):
        if mapping.value not in _claim_values(claims, mapping.claim):
            continue
        held = best.get(mapping.domain_id)
        if held is None or _RANK[ProfileRole(mapping.role)] > _RANK[ProfileRole(held.role)]:
            best[mapping.domain_id] = Assignment(mapping.domain, mapping.role)
    return sorted(best.values(), key=lambda a: a.domain.name)


def identity_provider_actor() -> AbstractBaseUser:
    """Who sign-in acts as when it applies the mappings: an installation-wide admin, as the
    mappings are rules only superusers write (domains/admin/identity.py). Never saved, so no
    one can sign in as it; its id, 0, is no account's (ids start at 1), so it holds no profile
    and the services' policy checks see the superuser it stands for."""
    return get_user_model()(pk=0, username="identity-provider", is_superuser=True, is_active=True)


def _describe(claims: Mapping[str, Any]) -> str:
    return str(claims.get("preferred_username") or claims.get("email") or claims["sub"])


def _free_username(claims: Mapping[str, Any]) -> str:
    """A username for a new account: the provider's preferred_username, else the email
    address, made to fit Django's rule, with -2, -3... when the name is taken (by a local
    account, or another provider's)."""
    wanted = str(claims.get("preferred_username") or claims.get("email") or "")
    base = _USERNAME_UNSAFE.sub("-", wanted).strip("-.")[: _USERNAME_MAX - 4]
    if not base:
        base = "sso-" + hashlib.sha256(str(claims["sub"]).encode()).hexdigest()[:12]
    users = get_user_model().objects
    name, n = base, 1
    while users.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _free_profile_name(user: Any, domain: Domain) -> str:
    base = _PROFILE_NAME_UNSAFE.sub("-", user.get_username()).strip("-")[: _PROFILE_NAME_MAX - 4]
    base = base or f"user-{user.pk}"
    name, n = base, 1
    while domain.profiles.filter(name=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _update_details(user: Any, claims: Mapping[str, Any]) -> None:
    """Keep what the provider says about the person (name, email) current."""
    fields = {
        "email": claims.get("email"),
        "first_name": claims.get("given_name"),
        "last_name": claims.get("family_name"),
    }
    changed = []
    for field, value in fields.items():
        limit = user._meta.get_field(field).max_length
        if value is not None and getattr(user, field) != str(value)[:limit]:
            setattr(user, field, str(value)[:limit])
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


def _user_for(issuer: str, claims: Mapping[str, Any]) -> Any:
    linked = ExternalIdentity.objects.select_related("user").filter(
        issuer=issuer, subject=str(claims["sub"])
    )
    if (identity := linked.first()) is not None:
        return identity.user
    try:
        with transaction.atomic():
            user = get_user_model()(username=_free_username(claims))
            # Their provider checks who they are; a local password would be a second way in.
            user.set_unusable_password()
            user.save()
            ExternalIdentity.objects.create(user=user, issuer=issuer, subject=str(claims["sub"]))
    except IntegrityError:
        # The same person signing in from two tabs at once: the other sign-in linked them.
        if (identity := linked.first()) is None:
            raise
        return identity.user
    return user


def _apply(actor: AbstractBaseUser, user: Any, assignment: Assignment) -> None:
    domain = assignment.domain
    profile = UserProfile.objects.filter(domain=domain, user=user).first()
    if profile is None:
        create_user_profile(
            actor,
            domain.domain_id,
            name=_free_profile_name(user, domain),
            user=user,
            role=assignment.role,
        )
    elif profile.role != assignment.role and profile.status == StudioStatus.IN_SERVICE:
        # A profile not InService acts in nothing (`authorize` refuses it), so its role is
        # brought up to date at the first sign-in after the worker has finished with it.
        update_user_profile(actor, domain.domain_id, profile.name, role=assignment.role)


def _sync_staff(user: Any) -> None:
    """Domain admins enter the admin console, which admits only staff; staff rights go with
    the last Admin profile. What they see there is decided by their Admin profiles."""
    if user.is_superuser:
        return
    admin = UserProfile.objects.filter(user=user, role=ProfileRole.ADMIN).exists()
    if user.is_staff != admin:
        user.is_staff = admin
        user.save(update_fields=["is_staff"])


def sign_in(issuer: str, claims: Mapping[str, Any]) -> AbstractBaseUser:
    """The user for a person the provider `issuer` vouches for with `claims` (verified by the
    caller; `sub` required), created at their first sign-in, with a profile in every domain the
    mappings give them and the role they give. Raises NotAssigned when no mapping matches; a
    deactivated account is returned unchanged, for the caller to refuse.

    A domain that cannot take a profile now (not InService) is skipped and logged, so that
    one domain's state never locks someone out of the others."""
    assignments = assignments_for(claims)
    if not assignments:
        raise NotAssigned(_describe(claims))
    actor = identity_provider_actor()
    with transaction.atomic():
        user = _user_for(issuer, claims)
        if not user.is_active:
            # A deactivated account stays as it is; the caller refuses it.
            return user
        _update_details(user, claims)
        for assignment in assignments:
            try:
                with transaction.atomic():
                    _apply(actor, user, assignment)
            except StudioError as error:
                log.warning(
                    "sign-in of %s: no change to their profile in domain %s: %s",
                    user.get_username(),
                    assignment.domain.domain_id,
                    error.message,
                )
        _sync_staff(user)
    return user
