"""Sends requests signed for an AWS service to that service's handler, whatever their path,
before the dashboard's middleware (sessions, CSRF) sees them: the endpoint URL a client is
given (AWS_ENDPOINT_URL, or one per service) may be Studio's root for every service.

A request goes where its SigV4 credential scope says (`s3`, `sts`, `logs`), as AWS's own
endpoints are told apart by host; SageMaker's JSON API is known by `X-Amz-Target` as before.
"""

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from studio.web.api.sigv4 import signing_service
from studio.web.api.views import dispatch, is_api_request

# The handler of each service Studio speaks besides SageMaker: `dispatch(request)` each.
SERVICES = {
    "s3": "studio.web.s3.views.dispatch",
    "sts": "studio.web.api.sts.dispatch",
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
    if service in SERVICES:
        return service
    return "sagemaker" if is_api_request(request) else None


class SageMakerApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        service = service_of(request)
        if service == "sagemaker":
            return dispatch(request)
        if service is not None:
            return handler(service)(request)
        return self.get_response(request)
