"""Where the web process listens for notebook containers: a Unix socket in the data directory
(containers have no network). The web server binds it (studio/web/server.py); the notebook
launcher mounts its directory into each container, read-only."""

from pathlib import Path

from django.conf import settings

API_SOCKET_NAME = "api.sock"


def api_socket_dir() -> Path:
    return Path(settings.DATA_DIR) / "runtime" / "api"
