"""AWS's JSON protocol answers, which SageMaker and CloudWatch Logs speak: a JSON body of type
`application/x-amz-json-1.1`, a request id on every answer, errors as `{"__type", "message"}`
with `x-amzn-ErrorType`."""

import uuid

from django.http import HttpResponse, JsonResponse

from studio.core.errors import StudioError

CONTENT_TYPE = "application/x-amz-json-1.1"
FAILED = "Studio failed on this request; its web log says why."


def answer(status: int, data: dict) -> HttpResponse:
    response = JsonResponse(data, status=status, content_type=CONTENT_TYPE)
    # Every answer, success or error, carries a request id as AWS's do (botocore reads it into
    # ResponseMetadata.RequestId); Studio's log names it when a request fails.
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    return response


def error_answer(error: StudioError) -> HttpResponse:
    response = answer(error.http_status, error.as_dict())
    response["x-amzn-ErrorType"] = error.code
    return response


def failure_answer() -> HttpResponse:
    """A bug, not the caller's doing: answered as AWS does (the caller logs it whole)."""
    return error_answer(StudioError(FAILED))
