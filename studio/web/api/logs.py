"""CloudWatch Logs' JSON 1.1 API (`X-Amz-Target: Logs_20140328.<Operation>`), the subset
SageMaker's SDK and users' scripts read jobs' and endpoints' logs with: DescribeLogGroups,
DescribeLogStreams, GetLogEvents, FilterLogEvents. Requests are checked against botocore's
model of the service; the answers come from jobs/services/cloudwatch_logs.py."""

import json
import logging
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from botocore.loaders import Loader
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from jobs.services import cloudwatch_logs as logs
from jobs.services.cloudwatch_logs import InvalidParameterException
from studio.core.errors import StudioError
from studio.web.api.auth import Caller, authenticate
from studio.web.api.json_protocol import answer, error_answer, failure_answer

log = logging.getLogger(__name__)

TARGET_PREFIX = "Logs_20140328."
_GROUP_ARN = re.compile(
    r"arn:aws[a-z\-]*:logs:[a-z0-9\-]+:(?P<account>\d{12}):log-group:(?P<name>[^:*]+)(?::\*)?"
)
Operation = Callable[[Caller, dict[str, Any]], dict[str, Any]]


class UnknownOperation(StudioError):
    code = "UnknownOperationException"
    http_status = 400


class SerializationException(StudioError):
    code = "SerializationException"
    http_status = 400


@cache
def _model() -> dict:
    return Loader().load_service_model("logs", "service-2")


def _fail(path: str, rule: str) -> None:
    raise InvalidParameterException(
        f"1 validation error detected: Value at '{path}' failed to satisfy constraint: {rule}"
    )


def _check(value: Any, shape_name: str, path: str) -> None:
    """A request value against CloudWatch Logs' own shape (the members these operations take
    are strings, numbers, booleans and lists of strings)."""
    spec = _model()["shapes"][shape_name]
    kind = spec["type"]
    if kind == "structure":
        if not isinstance(value, dict):
            _fail(path, "Member must be an object")
        members = spec.get("members", {})
        for key in spec.get("required", []):
            if value.get(key) is None:
                _fail(key, "Member must not be null")
        for key, item in value.items():
            if key not in members:
                raise SerializationException(f"Unknown member {key!r} in {shape_name}.")
            if item is not None:
                _check(item, members[key]["shape"], key if not path else f"{path}.{key}")
    elif kind == "list":
        if not isinstance(value, list):
            _fail(path, "Member must be a list")
        _size(len(value), spec, path, "have length")
        for i, item in enumerate(value):
            _check(item, spec["member"]["shape"], f"{path}.{i + 1}")
    elif kind == "string":
        if not isinstance(value, str):
            _fail(path, "Member must be a string")
        _size(len(value), spec, path, "have length")
        if "enum" in spec and value not in spec["enum"]:
            _fail(path, f"Member must satisfy enum value set: [{', '.join(spec['enum'])}]")
        if "pattern" in spec and not re.fullmatch(spec["pattern"], value):
            _fail(path, f"Member must satisfy regular expression pattern: {spec['pattern']}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(path, "Member must be a whole number")
        _size(value, spec, path, "be")
    elif kind == "boolean" and not isinstance(value, bool):
        _fail(path, "Member must be true or false")


def _size(size: int, spec: dict, path: str, what: str) -> None:
    if "min" in spec and size < spec["min"]:
        _fail(path, f"Member must {what} greater than or equal to {spec['min']}")
    if "max" in spec and size > spec["max"]:
        _fail(path, f"Member must {what} less than or equal to {spec['max']}")


def _group(caller: Caller, params: dict[str, Any]) -> str:
    """logGroupName, or the name in logGroupIdentifier: a name, or a log group's ARN, which
    must be of the caller's own account (another's is a group that does not exist)."""
    name = params.get("logGroupName")
    identifier = params.get("logGroupIdentifier")
    if name and identifier:
        raise InvalidParameterException(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters."
        )
    if identifier and identifier.startswith("arn:"):
        match = _GROUP_ARN.fullmatch(identifier)
        if match is None:
            raise InvalidParameterException(
                "logGroupIdentifier must be a log group's name or its ARN "
                "(arn:aws:logs:<region>:<account>:log-group:<name>)."
            )
        if match["account"] != caller.profile.domain.account_id:
            raise logs.group_missing()
        name = match["name"]
    elif identifier:
        name = identifier
    if not name:
        raise InvalidParameterException("Either logGroupName or logGroupIdentifier is required.")
    return name


def describe_log_groups(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    groups, token = logs.describe_log_groups(
        caller.user,
        caller.domain_id,
        prefix=params.get("logGroupNamePrefix") or "",
        pattern=params.get("logGroupNamePattern") or "",
        limit=params.get("limit") or logs.DEFAULT_STREAMS,
        token=params.get("nextToken"),
    )
    answer: dict[str, Any] = {
        "logGroups": [
            {
                "logGroupName": g.name,
                "creationTime": g.creation_ms,
                "metricFilterCount": 0,
                "arn": f"{g.arn}:*",
                "logGroupArn": g.arn,
                "storedBytes": 0,
                "logGroupClass": "STANDARD",
            }
            for g in groups
        ]
    }
    if token:
        answer["nextToken"] = token
    return answer


def describe_log_streams(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    infos, token = logs.describe_log_streams(
        caller.user,
        caller.domain_id,
        _group(caller, params),
        prefix=params.get("logStreamNamePrefix") or "",
        order_by=params.get("orderBy") or "LogStreamName",
        descending=bool(params.get("descending")),
        limit=params.get("limit") or logs.DEFAULT_STREAMS,
        token=params.get("nextToken"),
    )
    streams = []
    for info in infos:
        stream = {
            "logStreamName": info.stream.name,
            "creationTime": info.stream.creation_ms,
            "arn": info.stream.arn,
            "storedBytes": info.stored_bytes,
        }
        for key, value in (
            ("firstEventTimestamp", info.first_event_ms),
            ("lastEventTimestamp", info.last_event_ms),
            ("lastIngestionTime", info.last_ingestion_ms),
        ):
            if value is not None:
                stream[key] = value
        streams.append(stream)
    answer: dict[str, Any] = {"logStreams": streams}
    if token:
        answer["nextToken"] = token
    return answer


def get_log_events(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    page = logs.get_log_events(
        caller.user,
        caller.domain_id,
        _group(caller, params),
        params["logStreamName"],
        start_time=params.get("startTime"),
        end_time=params.get("endTime"),
        start_from_head=bool(params.get("startFromHead")),
        limit=params.get("limit") or logs.MAX_EVENTS,
        token=params.get("nextToken"),
    )
    return {
        "events": [
            {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.timestamp}
            for e in page.events
        ],
        "nextForwardToken": page.forward_token,
        "nextBackwardToken": page.backward_token,
    }


def filter_log_events(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    page = logs.filter_log_events(
        caller.user,
        caller.domain_id,
        _group(caller, params),
        stream_names=params.get("logStreamNames"),
        prefix=params.get("logStreamNamePrefix"),
        pattern=params.get("filterPattern") or "",
        start_time=params.get("startTime"),
        end_time=params.get("endTime"),
        limit=params.get("limit") or logs.MAX_EVENTS,
        token=params.get("nextToken"),
    )
    answer: dict[str, Any] = {
        "events": [
            {
                "logStreamName": stream.name,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.timestamp,
                "eventId": f"{e.timestamp:020d}{e.offset:020d}",
            }
            for stream, e in page.events
        ],
        "searchedLogStreams": [
            {"logStreamName": name, "searchedCompletely": done} for name, done in page.searched
        ],
    }
    if page.token:
        answer["nextToken"] = page.token
    return answer


OPERATIONS: dict[str, Operation] = {
    "DescribeLogGroups": describe_log_groups,
    "DescribeLogStreams": describe_log_streams,
    "GetLogEvents": get_log_events,
    "FilterLogEvents": filter_log_events,
}


def dispatch(request: HttpRequest) -> HttpResponse:
    """A request signed for `logs`, whatever its path (studio/web/api/middleware.py)."""
    target = request.headers.get("X-Amz-Target", "")
    try:
        try:
            body = request.body
        except RequestDataTooBig:
            raise InvalidParameterException(
                f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
            ) from None
        caller = authenticate(request, service="logs")
        name = target.removeprefix(TARGET_PREFIX)
        function = OPERATIONS.get(name) if target.startswith(TARGET_PREFIX) else None
        if function is None or request.method != "POST":
            raise UnknownOperation(
                f"Studio's CloudWatch Logs does not implement {target or 'an empty X-Amz-Target'};"
                f" it answers {', '.join(OPERATIONS)}."
            )
        try:
            params = json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SerializationException("The request body is not JSON.") from None
        _check(params, _model()["operations"][name]["input"]["shape"], "")
        return answer(200, function(caller, params))
    except StudioError as error:
        if error.code in ("ResourceNotFound", "ValidationException"):
            # A SageMaker lookup's answer is, to CloudWatch Logs, a group it does not have.
            error = logs.group_missing()
        return error_answer(error)
    except Exception:
        log.exception("Logs %s failed", target)
        return failure_answer()
