"""Sends requests signed for an AWS service to that service's handler, whatever their path,
before the dashboard's middleware (sessions, CSRF) sees them: the endpoint URL a client is
given (AWS_ENDPOINT_URL, or one per service) may be Studio's root for every service.

A request goes where its SigV4 credential scope says (`s3`, `sts`, `iam`, `logs`), as AWS's own
endpoints are told apart by host; SageMaker's JSON API is known by `X-Amz-Target` as before.
"""

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string

from studio.web.api.sigv4 import signing_service
from studio.web.api.views import dispatch, is_api_request

# The handler of each service Studio speaks besides SageMaker: `dispatch(request)` each.
SERVICES = {
    "s3": "studio.web.s3.views.dispatch",
    "sts": "studio.web.api.sts.dispatch",
    "iam": "studio.web.api.iam.dispatch",
    "logs": "studio.web.api.logs.dispatch",
}


@cache
def handler(service: str) -> Callable[[HttpRequest], HttpResponse]:
    return import_string(SERVICES[service])


def service_of(request: HttpRequest) -> str | None:
    """The AWS service `request` is for, or None for the dashboard's own requests."""
    service = signing_service(
        request.headers.get("Authorization", ""), request.META.get("QUERY_STRING", "")
    )
    if service is None and is_api_request(request):
        return "sagemaker"  # unsigned: the API says what is missing
    return service


def unserved(request: HttpRequest, service: str) -> HttpResponse:
    """A request signed for an AWS service Studio does not speak: refused in the shape its
    protocol's parser in botocore reads (JSON for X-Amz-Target protocols, XML otherwise),
    rather than answered by the dashboard."""
    message = (
        f"Studio does not serve the AWS service {service!r}: it answers sagemaker, "
        "sagemaker-runtime, s3, sts, iam (GetRole, SimulatePrincipalPolicy) and logs."
    )
    if "X-Amz-Target" in request.headers:
        return JsonResponse(
            {"__type": "InvalidAction", "message": message},
            status=400,
            content_type="application/x-amz-json-1.1",
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
        f"<Code>InvalidAction</Code><Message>{message}</Message></Error></ErrorResponse>"
    )
    return HttpResponse(body, status=400, content_type="text/xml")


class SageMakerApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        service = service_of(request)
        if service == "sagemaker":
            return dispatch(request)
        if service in SERVICES:
            return handler(service)(request)
        if service is not None:
            return unserved(request, service)
        return self.get_response(request)
