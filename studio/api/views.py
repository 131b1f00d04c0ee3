"""The API's one endpoint: POST with `X-Amz-Target: SageMaker.<Operation>` and a JSON body."""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse

from studio.api import jobs, notebooks, tenancy  # noqa: F401  (they register their operations)
from studio.api.auth import authenticate
from studio.api.registry import OPERATIONS
from studio.errors import StudioError, UnknownOperation, ValidationException
from studio.shapes import input_shape, validate

TARGET_PREFIX = "SageMaker."
CONTENT_TYPE = "application/x-amz-json-1.1"


def is_api_request(request: HttpRequest) -> bool:
    return request.method == "POST" and "HTTP_X_AMZ_TARGET" in request.META


def _answer(status: int, data: dict) -> HttpResponse:
    return JsonResponse(data, status=status, content_type=CONTENT_TYPE)


def _error(error: StudioError) -> HttpResponse:
    response = _answer(error.http_status, error.as_dict())
    response["x-amzn-ErrorType"] = error.code
    return response


def dispatch(request: HttpRequest) -> HttpResponse:
    target = request.headers.get("X-Amz-Target", "")
    try:
        caller = authenticate(request)
        name = target.removeprefix(TARGET_PREFIX)
        function = OPERATIONS.get(name) if target.startswith(TARGET_PREFIX) else None
        if function is None:
            raise UnknownOperation(
                f"Studio does not implement {target or 'an empty X-Amz-Target'}."
            )
        try:
            params = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValidationException(f"The request body is not JSON: {e}.") from None
        validate(params, input_shape(name), "")
        return _answer(200, function(caller, params))
    except StudioError as error:
        return _error(error)
