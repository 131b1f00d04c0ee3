"""What a JupyterLab app's container carries so that boto3 in a notebook calls Studio's API
with no configuration: an access key of the space's owner, and where the API is.

The key is issued when the app starts and deleted when it stops (the reconciler deletes any
a crash left behind), so the profile's own long-lived keys never enter a container and a
key read from a kernel dies with the server. It signs as the space's owner: in a shared
space every member's code runs with the owner's permissions, as in SageMaker, where a shared
space has one execution role (docs/notebooks.md).
"""

from pathlib import Path

from django.conf import settings
from django.db.models import Q

from domains.models import AccessKey, AccessKeyStatus, App, AppStatus
from domains.services.access_keys import new_key_id, new_secret
from studio.crypto import encrypt

# Where the API answers inside the container: the forwarder listens there. Any port works,
# the container's loopback is its own; this one is unlikely to clash with a user's servers.
API_PORT = 8989
API_DIR_IN_CONTAINER = "/run/studio-api"
FORWARDER = Path(__file__).with_name("api_forwarder.py")
KEY_PREFIX = "SKSA"  # as AWS's "ASIA": a short-lived key


def issue(app: App, status: str = AccessKeyStatus.ACTIVE) -> tuple[AccessKey, str]:
    """A fresh key for `app` (any earlier one deleted), with its secret. A warm server's key
    is issued Inactive and activated when the app claims the server."""
    revoke(app)
    secret = new_secret()
    key = AccessKey.objects.create(
        profile=app.space.owner,
        app=app,
        access_key_id=new_key_id(KEY_PREFIX),
        secret_ciphertext=encrypt(secret),
        status=status,
    )
    return key, secret


def activate(app: App) -> None:
    AccessKey.objects.filter(app=app).update(status=AccessKeyStatus.ACTIVE)


def revoke(app: App) -> None:
    AccessKey.objects.filter(app=app).delete()


def revoke_stopped() -> int:
    """Delete the keys of apps that are neither starting, running nor warm; how many."""
    in_use = Q(app__status__in=[AppStatus.PENDING, AppStatus.IN_SERVICE]) | Q(
        app__warm_server__isnull=False
    )
    return AccessKey.objects.filter(app__isnull=False).exclude(in_use).delete()[0]


def environment(key: AccessKey, secret: str) -> dict[str, str]:
    """The variables boto3 reads: credentials, region, and Studio as SageMaker's endpoint."""
    endpoint = f"http://127.0.0.1:{API_PORT}"
    return {
        "AWS_ACCESS_KEY_ID": key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": settings.STUDIO_REGION,
        "AWS_REGION": settings.STUDIO_REGION,
        "AWS_ENDPOINT_URL_SAGEMAKER": endpoint,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint,
    }


def forwarder_command(rundir_in_container: str) -> str:
    """The shell step that starts the forwarder in the background, before the server."""
    from studio.web import API_SOCKET_NAME

    return (
        f"python3 {rundir_in_container}/{FORWARDER.name} {API_PORT} "
        f"{API_DIR_IN_CONTAINER}/{API_SOCKET_NAME} &"
    )
