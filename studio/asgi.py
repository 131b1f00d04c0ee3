"""The web process: Django for HTTP (and SageMaker's API), Channels for the dashboard's
websocket, and the notebook proxy for everything under /jupyter/ (HTTP and websocket alike);
on the socket notebook containers use, only the API."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from studio.consumers import EventsConsumer  # noqa: E402
from studio.proxy import with_notebook_proxy  # noqa: E402
from studio.web import only_api_on_socket  # noqa: E402

application = only_api_on_socket(
    with_notebook_proxy(
        ProtocolTypeRouter(
            {
                "http": django_asgi_app,
                "websocket": AllowedHostsOriginValidator(
                    AuthMiddlewareStack(URLRouter([path("ws/events/", EventsConsumer.as_asgi())]))
                ),
            }
        )
    )
)
