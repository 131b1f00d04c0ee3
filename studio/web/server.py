"""The web process: the ASGI application on TCP, for browsers and API clients, and on a Unix
socket in the data directory, for notebook containers, which have no network.

Containers mount the socket's directory and reach the API through a forwarder of their own
(domains/notebooks/api_forwarder.py); over that socket only the API and /healthz answer
(studio/web/asgi.py), so a kernel cannot reach the dashboard, the event websocket or other
people's notebooks.
"""

import argparse
import os
import socket
from typing import TYPE_CHECKING

import uvicorn

from studio.core.api_socket import API_SOCKET_NAME, api_socket_dir

if TYPE_CHECKING:  # importing the proxy at run time would need Django set up first
    from studio.web.proxy.http import ASGIApp


def bind_api_socket() -> socket.socket:
    directory = api_socket_dir()
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    path = directory / API_SOCKET_NAME
    path.unlink(missing_ok=True)  # left by a web process that was killed
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    # Connecting needs write permission: any container's uid may connect, and every request
    # on it is authenticated by its own SigV4 signature.
    path.chmod(0o666)
    return sock


def server(
    app: "ASGIApp | str", host: str, port: int, **options
) -> tuple[uvicorn.Server, list[socket.socket]]:
    """A uvicorn server for `app` and the sockets to run it on: TCP host:port and the API's."""
    # Channels has no lifespan protocol; "off" spares a warning on every start.
    config = uvicorn.Config(app, host=host, port=port, lifespan="off", **options)
    return uvicorn.Server(config), [config.bind_socket(), bind_api_socket()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info", choices=["warning", "info", "debug"])
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    web, sockets = server(
        "studio.web.asgi:application", args.host, args.port, log_level=args.log_level
    )
    web.run(sockets=sockets)


if __name__ == "__main__":
    main()
