"""Who is calling: the access key that signed the request, and the profile it belongs to."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone

from domains.models import AccessKey, AccessKeyStatus, UserProfile
from domains.notebooks import credentials
from domains.permissions import acting_as
from studio.core.crypto import decrypt
from studio.core.errors import InvalidSignature, UnrecognizedClient
from studio.web.api.sigv4 import Credential, SignedRequest, parse_authorization, verify

SERVICE = "sagemaker"  # the signing name of both sagemaker and sagemaker-runtime
SESSION_PREFIX = "ASIA"  # as AWS marks temporary (STS session) access key ids
# last_used_at is for people ("is this key still used?"): a write per minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    key: AccessKey

    @property
    def profile(self) -> UserProfile:
        return self.key.profile

    @cached_property
    def user(self) -> AbstractBaseUser:
        """The actor services authorize: the key's profile, never the (super)user behind it,
        and for a shared space's app key, held to that space's scope."""
        return acting_as(self.key.profile, credentials.scope_of(self.key))

    @property
    def domain_id(self) -> str:
        return self.key.profile.domain.domain_id


def signed_request(request: HttpRequest) -> SignedRequest:
    raw_path = getattr(request, "scope", {}).get("raw_path")
    return SignedRequest(
        method=request.method or "POST",
        path=raw_path.decode("latin-1") if raw_path else request.path,
        query=request.META.get("QUERY_STRING", ""),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.body,
    )


def authenticate(request: HttpRequest, service: str = SERVICE) -> Caller:
    """The caller whose key signed `request` for `service` (the credential scope's service:
    sagemaker, s3, sts, logs); raises the error AWS would answer with."""
    signed = signed_request(request)
    credential = parse_authorization(signed)
    key, secret = key_of(credential, service, signed.headers.get("x-amz-security-token"))
    verify(signed, credential, secret, now=datetime.now(UTC))
    return used(key)


def key_of(
    credential: Credential, service: str, session_token: str | None = None
) -> tuple[AccessKey, str]:
    """The active key `credential` names and its secret, if it is scoped to `service` in this
    installation's region; raises the error AWS would answer with. Session credentials (STS's
    AssumeRole: an `ASIA` key id and its token) stand for their parent key, with their own
    secret."""
    if credential.access_key_id.startswith(SESSION_PREFIX):
        from studio.web.api.sts import session_key  # sts answers with this module's callers

        key, secret = session_key(credential.access_key_id, session_token)
        _check_scope(credential, service)
        return key, secret
    key = (
        AccessKey.objects.select_related("profile__domain", "profile__user", "app__space__domain")
        .filter(access_key_id=credential.access_key_id)
        .first()
    )
    if key is None or key.status != AccessKeyStatus.ACTIVE:
        raise UnrecognizedClient("The security token included in the request is invalid.")
    _check_scope(credential, service)
    return key, decrypt(key.secret_ciphertext)


def _check_scope(credential: Credential, service: str) -> None:
    if credential.service != service:
        raise InvalidSignature(
            f"Credential should be scoped to service {service}, not {credential.service}."
        )
    if credential.region != settings.STUDIO_REGION:
        raise InvalidSignature(
            f"Credential should be scoped to region {settings.STUDIO_REGION}, not "
            f"{credential.region}; set AWS_DEFAULT_REGION={settings.STUDIO_REGION}."
        )


def used(key: AccessKey) -> Caller:
    """The caller of a request `key` signed, its last use recorded."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        AccessKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return Caller(key)
