"""Presigned S3 URLs made by Studio itself, for the dashboard to hand out (docs/s3.md,
"Presigned URLs"): query-string SigV4 with one of the profile's own active keys, exactly as
boto3's `generate_presigned_url` with `signature_version="s3v4"` makes them, so the endpoint
checks them as any other; the policy is checked first, as for the action itself."""

from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from django.conf import settings

from domains.models import AccessKey, AccessKeyStatus, UserProfile
from domains.permissions import acting_as, authorize
from studio.core.crypto import decrypt
from studio.core.errors import AccessDenied, ValidationException
from studio.core.storage import parse_uri
from studio.core.storage.buckets import owner_of
from studio.web.api.auth import Caller
from studio.web.api.sigv4 import (
    MAX_PRESIGNED_EXPIRES,
    Credential,
    SignedRequest,
    signature,
)

ACTIONS = {"GET": "s3:GetObject", "PUT": "s3:PutObject"}


def presign(
    caller_or_profile: Caller | UserProfile,
    method: str,
    uri: str,
    expires: int,
    *,
    endpoint: str,
) -> str:
    """A URL at `endpoint` (Studio's root, e.g. `request.build_absolute_uri("/")`) that lets
    whoever holds it `method` (GET or PUT) the object `uri` for `expires` seconds, signed with
    one of the profile's active keys. AccessDenied if the profile may not do that itself."""
    if isinstance(caller_or_profile, Caller):
        profile, user = caller_or_profile.profile, caller_or_profile.user
        keys = AccessKey.objects.filter(pk=caller_or_profile.key.pk)
    else:
        profile, user = caller_or_profile, acting_as(caller_or_profile)
        keys = profile.access_keys.filter(app__isnull=True)
    if method not in ACTIONS:
        raise ValidationException("Method must be GET or PUT.", "Method")
    if not 1 <= expires <= MAX_PRESIGNED_EXPIRES:
        raise ValidationException(
            f"ExpiresIn must be 1 to {MAX_PRESIGNED_EXPIRES} seconds.", "ExpiresIn"
        )
    parsed = parse_uri(uri, "S3Uri")
    if parsed.scheme != "s3" or not parsed.key or parsed.key.endswith("/"):
        raise ValidationException("S3Uri must name an object: s3://bucket/key.", "S3Uri")
    owner = owner_of(parsed.bucket)
    if owner.platform or (owner.domain is not None and owner.domain.pk != profile.domain.pk):
        raise AccessDenied(f"S3Uri: bucket {parsed.bucket} belongs to another domain.")
    authorize(user, ACTIONS[method], domain=owner.domain or profile.domain)
    key = keys.filter(status=AccessKeyStatus.ACTIVE).order_by("-created_at").first()
    if key is None:
        raise ValidationException(
            "A link is signed with one of your access keys: create one first.", "AccessKey"
        )
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    host = urlsplit(endpoint).netloc
    path = "/" + quote(parsed.bucket) + "/" + quote(parsed.key, safe="/~")
    scope = f"{stamp[:8]}/{settings.STUDIO_REGION}/s3/aws4_request"
    query = "&".join(
        f"{name}={quote(value, safe='-_.~')}"
        for name, value in sorted(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Credential": f"{key.access_key_id}/{scope}",
                "X-Amz-Date": stamp,
                "X-Amz-Expires": str(expires),
                "X-Amz-SignedHeaders": "host",
            }.items()
        )
    )
    credential = Credential(
        key.access_key_id, stamp[:8], settings.STUDIO_REGION, "s3", ("host",), ""
    )
    request = SignedRequest(
        method=method,
        path=path,
        query=query,
        headers={"host": host},
        payload_hash="UNSIGNED-PAYLOAD",
        s3_path=True,
        presigned_date=stamp,
    )
    signed = signature(request, credential, decrypt(key.secret_ciphertext))
    return f"{endpoint.rstrip('/')}{path}?{query}&X-Amz-Signature={signed}"
