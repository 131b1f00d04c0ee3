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
import logging
import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from domains.models import AccessKey, AccessKeyStatus, UserProfile
from studio.core.crypto import decrypt
from studio.core.errors import StudioError, UnrecognizedClient
from studio.web.api.auth import Caller, authenticate

log = logging.getLogger(__name__)

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
VERSION = "2011-06-15"
DEFAULT_ROLE_NAME = "studio"  # the execution role when neither profile nor domain names one
ROLE_ARN = re.compile(
    r"arn:aws[a-z\-]*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@\-]+/)*(?P<name>[\w+=,.@\-]+)"
)
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")


class StsError(StudioError):
    """An STS error: its code, HTTP status and whether the caller (Sender) or STS is at fault."""

    def __init__(self, code: str, message: str, status: int = 400, fault: str = "Sender"):
        super().__init__(message)
        self.code = code
        self.http_status = status
        self.fault = fault


class ExpiredToken(StudioError):
    code = "ExpiredTokenException"
    http_status = 400


# The codes STS answers for what studio/web/api/auth.py refuses.
AUTH_CODES = {
    "UnrecognizedClientException": "InvalidClientTokenId",
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "IncompleteSignatureException": "IncompleteSignature",
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "ExpiredTokenException": "ExpiredToken",
}


def execution_role(profile: UserProfile) -> str:
    """The role a profile's jobs run as: its UserSettings.ExecutionRole, else its domain's
    DefaultUserSettings.ExecutionRole, else the domain account's `studio` role."""
    domain = profile.domain
    return (
        (profile.user_settings or {}).get("ExecutionRole")
        or (domain.default_user_settings or {}).get("ExecutionRole")
        or f"arn:aws:iam::{domain.account_id}:role/{DEFAULT_ROLE_NAME}"
    )


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
    return _members({"UserId": user_id, "Account": account, "Arn": arn})


def assume_role(caller: Caller, params: dict[str, str]) -> str:
    role, session = params.get("RoleArn"), params.get("RoleSessionName")
    if not role:
        raise StsError("ValidationError", "RoleArn is required.")
    if not session:
        raise StsError("ValidationError", "RoleSessionName is required.")
    if not SESSION_NAME.fullmatch(session):
        raise StsError(
            "ValidationError",
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy "
            "constraint: Member must have length between 2 and 64 and satisfy regular "
            r"expression pattern: [\w+=,.@-]*",
        )
    duration = params.get("DurationSeconds", str(DEFAULT_SESSION_SECONDS))
    if not duration.isdigit() or not MIN_SESSION_SECONDS <= int(duration) <= MAX_SESSION_SECONDS:
        raise StsError(
            "ValidationError",
            "1 validation error detected: Value at 'durationSeconds' failed to satisfy "
            f"constraint: Member must have value between {MIN_SESSION_SECONDS} and "
            f"{MAX_SESSION_SECONDS}",
        )
    account, _, arn = _identity(caller)
    if caller.profile.is_suspended:
        raise StsError(
            "AccessDenied",
            f"User: {arn} is not authorized to perform: sts:AssumeRole: the user profile is "
            "suspended; ask a domain admin to resume it.",
            403,
        )
    own = execution_role(caller.profile)
    if role != own:
        raise StsError(
            "AccessDenied",
            f"User: {arn} is not authorized to perform: sts:AssumeRole on resource: {role}. "
            f"A Studio key may assume only its profile's execution role, {own}.",
            403,
        )
    key_id, secret, token, expires = issue_session(caller.key.access_key_id, int(duration))
    name = role_name(own)
    return _members(
        {
            "Credentials": _members(
                {
                    "AccessKeyId": key_id,
                    "SecretAccessKey": secret,
                    "SessionToken": token,
                    "Expiration": f"{expires:%Y-%m-%dT%H:%M:%SZ}",
                }
            ),
            "AssumedRoleUser": _members(
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

SESSION_PREFIX = "ASIA"  # as AWS marks temporary access key ids
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


OPERATIONS = {"GetCallerIdentity": get_caller_identity, "AssumeRole": assume_role}


def _members(values: dict[str, str], escaped: bool = False) -> str:
    """XML elements of `values` (already XML when `escaped`)."""
    return "".join(f"<{k}>{v if escaped else escape(v)}</{k}>" for k, v in values.items())


def _xml(status: int, body: str, request_id: str) -> HttpResponse:
    response = HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?>\n{body}',
        status=status,
        content_type="text/xml",
    )
    response["x-amzn-RequestId"] = request_id
    return response


def _result(action: str, members: str, request_id: str) -> HttpResponse:
    return _xml(
        200,
        f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{members}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>",
        request_id,
    )


def _error(error: StudioError, request_id: str) -> HttpResponse:
    if not isinstance(error, StsError):
        code = AUTH_CODES.get(error.code, error.code)
        fault = "Receiver" if error.http_status >= 500 else "Sender"
        error = StsError(code, error.message, error.http_status, fault)
    return _xml(
        error.http_status,
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{error.fault}</Type>'
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>",
        request_id,
    )


def _params(request: HttpRequest) -> dict[str, str]:
    """The query's parameters: the form body of a POST (as botocore sends), else the URL's."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise StsError(
            "ValidationError",
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        ) from None
    query = body.decode("utf-8", errors="replace") if body else request.META.get("QUERY_STRING", "")
    return dict(parse_qsl(query, keep_blank_values=True))


def dispatch(request: HttpRequest) -> HttpResponse:
    """A request signed for `sts`, whatever its path (studio/web/api/middleware.py)."""
    request_id = str(uuid.uuid4())
    action = ""
    try:
        params = _params(request)
        caller = authenticate(request, service="sts")
        action = params.get("Action", "")
        operation = OPERATIONS.get(action)
        if operation is None:
            raise StsError(
                "InvalidAction",
                f"Could not find operation {action or '(no Action)'} for version "
                f"{params.get('Version', VERSION)}; Studio's STS answers "
                f"{' and '.join(OPERATIONS)}.",
            )
        return _result(action, operation(caller, params), request_id)
    except StudioError as error:
        return _error(error, request_id)
    except Exception:
        log.exception("STS %s failed", action)
        return _error(
            StsError(
                "InternalFailure",
                "Studio failed on this request; its web log says why.",
                500,
                "Receiver",
            ),
            request_id,
        )
