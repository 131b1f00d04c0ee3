"""Sends SageMaker API requests to the API, whatever their path, before the dashboard's
middleware (sessions, CSRF) sees them: the endpoint URL boto3 is given may be Studio's root."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from studio.web.api.views import dispatch, is_api_request


class SageMakerApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_request(request):
            return dispatch(request)
        return self.get_response(request)
