"""API access keys of a user profile: id + secret, the secret shown once and kept encrypted."""

import secrets
import string

from django.db import transaction
from django.db.models import QuerySet

from domains.models import AccessKey, AccessKeyStatus, UserProfile
from domains.permissions import User, authorize, visible_domains
from domains.services.lookup import get_domain, get_profile
from studio.core.crypto import encrypt
from studio.core.errors import ResourceLimitExceeded, ResourceNotFound, ValidationException

MAX_KEYS_PER_PROFILE = 2  # as IAM: enough to rotate, few enough to keep track of
_ID_ALPHABET = string.ascii_uppercase + "234567"


def new_key_id(prefix: str = "SKIA") -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return secrets.token_urlsafe(30)[:40]


def create_access_key(actor: User, domain_id: str, profile_name: str) -> tuple[AccessKey, str]:
    """Issue a key; returns it with its secret, which is never shown again."""
    domain = get_domain(actor, domain_id)
    profile = get_profile(domain, profile_name)
    authorize(actor, "studio:CreateAccessKey", domain=domain, owner=profile)
    secret = new_secret()
    with transaction.atomic():
        UserProfile.objects.select_for_update().get(pk=profile.pk)
        if profile.access_keys.filter(app=None).count() >= MAX_KEYS_PER_PROFILE:
            raise ResourceLimitExceeded(
                f"User profile {profile_name} already has {MAX_KEYS_PER_PROFILE} access keys; "
                "delete one before issuing another."
            )
        key = AccessKey.objects.create(
            profile=profile, access_key_id=new_key_id(), secret_ciphertext=encrypt(secret)
        )
    return key, secret


def list_access_keys(actor: User, domain_id: str, profile_name: str) -> QuerySet[AccessKey]:
    domain = get_domain(actor, domain_id)
    profile = get_profile(domain, profile_name)
    authorize(actor, "studio:ListAccessKeys", domain=domain, owner=profile)
    return profile.access_keys.filter(app=None)


def _get_key(actor: User, access_key_id: str) -> AccessKey:
    key = (
        AccessKey.objects.select_related("profile__domain")
        .filter(
            access_key_id=access_key_id,
            app=None,  # an app's key lives and dies with the app
            profile__domain__in=visible_domains(actor),
        )
        .first()
    )
    if key is None:
        raise ResourceNotFound(f"Access key {access_key_id} does not exist.")
    return key


def update_access_key(actor: User, access_key_id: str, status: str) -> AccessKey:
    if status not in AccessKeyStatus.values:
        raise ValidationException("Status must be Active or Inactive.", "Status")
    key = _get_key(actor, access_key_id)
    authorize(actor, "studio:UpdateAccessKey", domain=key.profile.domain, owner=key.profile)
    key.status = status
    key.save(update_fields=["status"])
    return key


def delete_access_key(actor: User, access_key_id: str) -> None:
    key = _get_key(actor, access_key_id)
    authorize(actor, "studio:DeleteAccessKey", domain=key.profile.domain, owner=key.profile)
    key.delete()
