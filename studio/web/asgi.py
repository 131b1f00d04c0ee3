"""The web process: Django for HTTP (and SageMaker's API), Channels for the dashboard's
websocket, the notebook proxy for every request to a space's own host (HTTP and websocket
alike; by `Host`) and for the handoff under /jupyter/ on Studio's, and the invocation router
for sagemaker-runtime's InvokeEndpoint. A request signed for S3, STS or CloudWatch Logs goes
straight to Django (studio/web/api/middleware.py), whatever its host or path: S3's
virtual-hosted addressing puts a bucket in `Host`, which must not reach the notebook proxy.
On the socket notebook containers use, only the AWS services and InvokeEndpoint."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from studio.core.api_socket import API_SOCKET_NAME, api_socket_dir  # noqa: E402
from studio.web.api.middleware import SERVICES  # noqa: E402
from studio.web.api.sigv4 import signing_service  # noqa: E402
from studio.web.consumers import EventsConsumer  # noqa: E402
from studio.web.proxy import http, websocket, with_notebook_proxy  # noqa: E402
from studio.web.proxy.http import ASGIApp, Receive, Scope, Send  # noqa: E402
from studio.web.router import is_invocation, with_invocation_router  # noqa: E402

OPEN_ON_API_SOCKET = frozenset({"/", "/healthz"})
ONLY_THE_API = "Only Studio's API answers on this socket."


def signed_for_a_service(scope: Scope) -> bool:
    """Whether an HTTP request is signed for S3, STS or Logs (not checked here: Django does)."""
    if scope["type"] != "http":
        return False
    authorization = dict(scope.get("headers") or []).get(b"authorization", b"")
    service = signing_service(
        authorization.decode("latin-1"), scope.get("query_string", b"").decode("latin-1")
    )
    return service in SERVICES


def with_aws_services(app: ASGIApp) -> ASGIApp:
    """`app`, with requests signed for S3, STS or Logs sent to Django whatever their host."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if signed_for_a_service(scope):
            await django_asgi_app(scope, receive, send)
        else:
            await app(scope, receive, send)

    return route


def only_api_on_socket(app: ASGIApp) -> ASGIApp:
    """`app`, answering what came in on the notebooks' API socket only for the API's paths."""
    api_socket = str(api_socket_dir() / API_SOCKET_NAME)

    async def gate(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("server") != (api_socket, None) or scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
        elif scope["type"] == "websocket":
            await receive()  # websocket.connect
            await websocket.deny(scope, send, 404, ONLY_THE_API.encode(), 4404)
        elif not (
            scope["path"] in OPEN_ON_API_SOCKET
            or is_invocation(scope)
            or signed_for_a_service(scope)
        ):
            await http.send_plain(send, 404, ONLY_THE_API)
        else:
            await app(scope, receive, send)

    return gate


application = only_api_on_socket(
    with_aws_services(
        with_notebook_proxy(
            with_invocation_router(
                ProtocolTypeRouter(
                    {
                        "http": django_asgi_app,
                        "websocket": AllowedHostsOriginValidator(
                            AuthMiddlewareStack(
                                URLRouter([path("ws/events/", EventsConsumer.as_asgi())])
                            )
                        ),
                    }
                )
            )
        )
    )
)
