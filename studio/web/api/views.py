"""The API's one endpoint: POST with `X-Amz-Target: SageMaker.<Operation>` and a JSON body."""

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from studio.core.errors import StudioError, UnknownOperation, ValidationException
from studio.core.shapes import input_shape, reject_nulls, validate
from studio.web.api import (  # noqa: F401  (they register their operations)
    hosting,
    images,
    jobs,
    model_registry,
    notebooks,
    presigned_domain_urls,
    tenancy,
    transform,
)
from studio.web.api.auth import authenticate
from studio.web.api.json_protocol import answer, error_answer, failure_answer
from studio.web.api.registry import OPERATIONS

log = logging.getLogger(__name__)

TARGET_PREFIX = "SageMaker."
# SageMaker's deepest request shapes nest about a dozen levels; a body deeper than this is not
# one, and the walks that validate it are recursive.
MAX_DEPTH = 64


def is_api_request(request: HttpRequest) -> bool:
    return request.method == "POST" and "HTTP_X_AMZ_TARGET" in request.META


def dispatch(request: HttpRequest) -> HttpResponse:
    target = request.headers.get("X-Amz-Target", "")
    try:
        _read_body(request)
        caller = authenticate(request)
        name = target.removeprefix(TARGET_PREFIX)
        function = OPERATIONS.get(name) if target.startswith(TARGET_PREFIX) else None
        if function is None:
            raise UnknownOperation(
                f"Studio does not implement {target or 'an empty X-Amz-Target'}."
            )
        params = _params(request)
        reject_nulls(params)
        validate(params, input_shape(name), "")
        return answer(200, function(caller, params))
    except StudioError as error:
        return error_answer(error)
    except Exception:
        # A bug, not the caller's doing: answered as AWS does, and logged whole for us.
        response = failure_answer()
        log.exception("API %s failed (request %s)", target, response["x-amzn-RequestId"])
        return response


def _read_body(request: HttpRequest) -> None:
    """Read (and keep) the body once, refusing one larger than Django holds in memory."""
    try:
        request.body  # noqa: B018  (reading it is the point)
    except RequestDataTooBig:
        raise ValidationException(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        ) from None


def _params(request: HttpRequest) -> dict:
    try:
        params = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValidationException(f"The request body is not JSON: {e}.") from None
    except RecursionError:
        raise ValidationException(
            "The request body is nested too deeply; no SageMaker request is."
        ) from None
    if not isinstance(params, dict):
        raise ValidationException("The request body must be a JSON object.")
    if _depth(params) > MAX_DEPTH:
        raise ValidationException(
            f"The request body is nested more than {MAX_DEPTH} levels deep; no SageMaker "
            "request is."
        )
    return params


def _depth(value: object) -> int:
    """How deeply objects and lists nest in `value`, counted without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            todo.extend((child, level + 1) for child in children)
    return deepest
