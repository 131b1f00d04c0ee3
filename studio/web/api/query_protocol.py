"""AWS's query protocol, which STS and IAM speak: a form-encoded `Action=...&Version=...`
(POSTed by botocore), answered in XML (`<ActionResponse><ActionResult>...`), errors as
`<ErrorResponse><Error><Type/><Code/><Message/></Error>`. One dispatcher for every service of
this protocol Studio answers; each passes its namespace and operations."""

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from studio.core.errors import StudioError
from studio.web.api.auth import Caller, authenticate

log = logging.getLogger(__name__)

# The codes these services answer for what studio/web/api/auth.py refuses.
AUTH_CODES = {
    "UnrecognizedClientException": "InvalidClientTokenId",
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "IncompleteSignatureException": "IncompleteSignature",
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "ExpiredTokenException": "ExpiredToken",
}

QueryOperation = Callable[[Caller, dict[str, str]], str]
# What XML 1.0 cannot carry at all, escaped or not (a caller's name may hold any of it).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text(value: str) -> str:
    """`value` as XML character data: escaped, and what XML cannot hold replaced by U+FFFD."""
    return escape(_NOT_XML.sub("\ufffd", value))


class QueryError(StudioError):
    """An error of a query-protocol service: its code, HTTP status and whether the caller
    (Sender) or the service is at fault."""

    def __init__(self, code: str, message: str, status: int = 400, fault: str = "Sender"):
        super().__init__(message)
        self.code = code
        self.http_status = status
        self.fault = fault


@dataclass(frozen=True)
class QueryService:
    """What tells one query-protocol service from another."""

    signing_name: str  # the credential scope's service: sts, iam
    namespace: str  # the XML namespace of its answers
    version: str
    operations: dict[str, QueryOperation]


def members(values: dict[str, str], escaped: bool = False) -> str:
    """XML elements of `values` (already XML when `escaped`)."""
    return "".join(f"<{k}>{v if escaped else text(v)}</{k}>" for k, v in values.items())


def _xml(status: int, body: str, request_id: str) -> HttpResponse:
    response = HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?>\n{body}', status=status, content_type="text/xml"
    )
    response["x-amzn-RequestId"] = request_id
    return response


def _result(service: QueryService, action: str, result: str, request_id: str) -> HttpResponse:
    return _xml(
        200,
        f'<{action}Response xmlns="{service.namespace}"><{action}Result>{result}'
        f"</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId>"
        f"</ResponseMetadata></{action}Response>",
        request_id,
    )


def _error(service: QueryService, error: StudioError, request_id: str) -> HttpResponse:
    if not isinstance(error, QueryError):
        code = AUTH_CODES.get(error.code, error.code)
        fault = "Receiver" if error.http_status >= 500 else "Sender"
        error = QueryError(code, error.message, error.http_status, fault)
    return _xml(
        error.http_status,
        f'<ErrorResponse xmlns="{service.namespace}"><Error><Type>{error.fault}</Type>'
        f"<Code>{text(error.code)}</Code><Message>{text(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>",
        request_id,
    )


def _params(request: HttpRequest) -> dict[str, str]:
    """The query's parameters: the form body of a POST (as botocore sends), else the URL's."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise QueryError(
            "ValidationError",
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        ) from None
    query = body.decode("utf-8", errors="replace") if body else request.META.get("QUERY_STRING", "")
    return dict(parse_qsl(query, keep_blank_values=True))


def dispatch(service: QueryService, request: HttpRequest) -> HttpResponse:
    """A request signed for `service`, whatever its path (studio/web/api/middleware.py)."""
    request_id = str(uuid.uuid4())
    action = ""
    try:
        params = _params(request)
        caller = authenticate(request, service=service.signing_name)
        action = params.get("Action", "")
        operation = service.operations.get(action)
        if operation is None:
            raise QueryError(
                "InvalidAction",
                f"Could not find operation {action or '(no Action)'} for version "
                f"{params.get('Version', service.version)}; Studio's "
                f"{service.signing_name.upper()} answers {', '.join(service.operations)}.",
            )
        return _result(service, action, operation(caller, params), request_id)
    except StudioError as error:
        return _error(service, error, request_id)
    except Exception:
        log.exception("%s %s failed", service.signing_name, action)
        failure = QueryError(
            "InternalFailure",
            "Studio failed on this request; its web log says why.",
            500,
            "Receiver",
        )
        return _error(service, failure, request_id)
