"""AWS STS's query API (form-encoded `Action=...&Version=2011-06-15`, XML answers), as much of
it as SageMaker's SDK and users' scripts ask: GetCallerIdentity, which the SDK's
`Session()` and `get_execution_role()` call first, and AssumeRole.

A key's identity is its profile acting in the profile's execution role, as a SageMaker Studio
user's credentials are that role's session: the ARN is
`arn:aws:sts::<domain account>:assumed-role/<role name>/<profile name>`, from which the SDK
derives the role ARN `arn:aws:iam::<domain account>:role/<role name>` it passes to jobs.

AssumeRole answers for the caller's own execution role only (policies, not roles, grant rights
here) with session credentials that act as the caller's own key: derived, never stored, valid
until they expire and only while that key is Active (below; docs/sts-and-logs.md)."""

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from domains.models import DEFAULT_ROLE_NAME, AccessKey, AccessKeyStatus
from domains.services.roles import execution_role
from studio.core.crypto import decrypt
from studio.core.errors import StudioError, UnrecognizedClient
from studio.web.api import query_protocol
from studio.web.api.auth import SESSION_PREFIX, Caller
from studio.web.api.query_protocol import QueryError, QueryService, members

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
VERSION = "2011-06-15"
ROLE_ARN = re.compile(
    r"arn:aws[a-z\-]*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@\-]+/)*(?P<name>[\w+=,.@\-]+)"
)
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")


class ExpiredToken(StudioError):
    code = "ExpiredTokenException"
    http_status = 400


def role_name(role_arn: str) -> str:
    match = ROLE_ARN.fullmatch(role_arn)
    return match["name"] if match else DEFAULT_ROLE_NAME


def role_id(account_id: str, name: str) -> str:
    """A role's unique id, as IAM's look (`AROA` and 17 more): the same for the same role."""
    digest = hashlib.sha256(f"{account_id}:{name}".encode()).hexdigest().upper()
    return "AROA" + digest[:17]


def _identity(caller: Caller) -> tuple[str, str, str]:
    """(Account, UserId, Arn) of the caller's key."""
    account = caller.profile.domain.account_id
    name = role_name(execution_role(caller.profile))
    session = caller.profile.name
    return (
        account,
        f"{role_id(account, name)}:{session}",
        f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
    )


def get_caller_identity(caller: Caller, params: dict[str, str]) -> str:
    account, user_id, arn = _identity(caller)
    return members({"UserId": user_id, "Account": account, "Arn": arn})


def assume_role(caller: Caller, params: dict[str, str]) -> str:
    role, session = params.get("RoleArn"), params.get("RoleSessionName")
    if not role:
        raise QueryError("ValidationError", "RoleArn is required.")
    if not session:
        raise QueryError("ValidationError", "RoleSessionName is required.")
    if not SESSION_NAME.fullmatch(session):
        raise QueryError(
            "ValidationError",
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy "
            "constraint: Member must have length between 2 and 64 and satisfy regular "
            r"expression pattern: [\w+=,.@-]*",
        )
    duration = params.get("DurationSeconds", str(DEFAULT_SESSION_SECONDS))
    if not duration.isdigit() or not MIN_SESSION_SECONDS <= int(duration) <= MAX_SESSION_SECONDS:
        raise QueryError(
            "ValidationError",
            "1 validation error detected: Value at 'durationSeconds' failed to satisfy "
            f"constraint: Member must have value between {MIN_SESSION_SECONDS} and "
            f"{MAX_SESSION_SECONDS}",
        )
    account, _, arn = _identity(caller)
    if caller.profile.is_suspended:
        raise QueryError(
            "AccessDenied",
            f"User: {arn} is not authorized to perform: sts:AssumeRole: the user profile is "
            "suspended; ask a domain admin to resume it.",
            403,
        )
    own = execution_role(caller.profile)
    if role != own:
        raise QueryError(
            "AccessDenied",
            f"User: {arn} is not authorized to perform: sts:AssumeRole on resource: {role}. "
            f"A Studio key may assume only its profile's execution role, {own}.",
            403,
        )
    key_id, secret, token, expires = issue_session(caller.key.access_key_id, int(duration))
    name = role_name(own)
    return members(
        {
            "Credentials": members(
                {
                    "AccessKeyId": key_id,
                    "SecretAccessKey": secret,
                    "SessionToken": token,
                    "Expiration": f"{expires:%Y-%m-%dT%H:%M:%SZ}",
                }
            ),
            "AssumedRoleUser": members(
                {
                    "AssumedRoleId": f"{role_id(account, name)}:{session}",
                    "Arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
                }
            ),
        },
        escaped=True,
    )


# --- Session credentials -------------------------------------------------------------------
#
# AssumeRole's credentials are derived, not stored: the session token is the parent key's id,
# the session's expiry and name, signed with SECRET_KEY; the access key id is a digest of the
# token (so the pair cannot be mixed); the secret is an HMAC of the token keyed with the
# parent key's own secret. Nothing outlives the parent key: a request signed with session
# credentials is checked against the parent key, which must still exist and be Active, and
# is refused once the session expires.

MIN_SESSION_SECONDS, DEFAULT_SESSION_SECONDS, MAX_SESSION_SECONDS = 900, 3600, 43200
_SALT = "studio.web.api.sts.session"


def _session_key_id(token: str) -> str:
    digest = hashlib.sha256(token.encode()).digest()
    return SESSION_PREFIX + base64.b32encode(digest).decode()[:16]


def _session_secret(token: str, parent_secret: str) -> str:
    mac = hmac.digest(parent_secret.encode(), f"{_SALT}:{token}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac).decode()[:40]


def issue_session(parent_key_id: str, seconds: int) -> tuple[str, str, str, datetime]:
    """Credentials for `seconds` that act as the key `parent_key_id`: (access key id, secret,
    session token, expiry)."""
    parent = AccessKey.objects.get(access_key_id=parent_key_id)
    expires = timezone.now().replace(microsecond=0) + timedelta(seconds=seconds)
    token = signing.dumps({"k": parent_key_id, "e": int(expires.timestamp())}, salt=_SALT)
    secret = _session_secret(token, decrypt(parent.secret_ciphertext))
    return _session_key_id(token), secret, token, expires


def is_session_key(access_key_id: str) -> bool:
    return access_key_id.startswith(SESSION_PREFIX)


def session_key(access_key_id: str, token: str | None) -> tuple[AccessKey, str]:
    """The parent key of session credentials and the session's secret, for checking a request
    signed with them; raises what STS-issued credentials are refused with."""
    invalid = UnrecognizedClient("The security token included in the request is invalid.")
    if not token or _session_key_id(token) != access_key_id:
        raise invalid
    try:
        session = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise invalid from None
    if not isinstance(session, dict) or not isinstance(session.get("e"), int):
        raise invalid
    if session["e"] <= timezone.now().timestamp():
        raise ExpiredToken("The security token included in the request is expired")
    parent = (
        AccessKey.objects.select_related("profile__domain", "profile__user", "app__space__domain")
        .filter(access_key_id=session.get("k"), status=AccessKeyStatus.ACTIVE)
        .first()
    )
    if parent is None:
        raise invalid
    return parent, _session_secret(token, decrypt(parent.secret_ciphertext))


STS = QueryService(
    signing_name="sts",
    namespace=NAMESPACE,
    version=VERSION,
    operations={"GetCallerIdentity": get_caller_identity, "AssumeRole": assume_role},
)


def dispatch(request: HttpRequest) -> HttpResponse:
    return query_protocol.dispatch(STS, request)
