"""What a JupyterLab app's container carries so that boto3 in a notebook calls Studio's API
with no configuration: an access key of the space's owner, and where the API is.

The key is issued when the app starts and deleted when it stops (the reconciler deletes any
a crash left behind), so the profile's own long-lived keys never enter a container and a
key read from a kernel dies with the server. It signs as the space's owner. In a private
space only the owner runs code, and the key has the owner's full rights. In a shared space
every member runs code with it, so it acts in the space's narrower scope (`scope_of`,
`domains.space_scope`), as SageMaker runs a shared space with a space-level execution role
rather than a member's identity (docs/notebooks.md).
"""

from pathlib import Path

from django.conf import settings
from django.db.models import Q

from domains.models import AccessKey, AccessKeyStatus, App, AppStatus, SharingType
from domains.services.access_keys import new_key_id, new_secret
from domains.space_scope import SpaceScope
from studio.core.api_socket import API_SOCKET_NAME
from studio.core.crypto import encrypt

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


def scope_of(key: AccessKey) -> SpaceScope | None:
    """The scope a request signed with `key` is held to: its shared space's, for a shared
    space's app key; None (the profile's full rights) for a private space's or a profile's own.
    Read from the key's app and space at every request, so nothing stored can widen it."""
    if key.app_id is None:
        return None
    space = key.app.space
    if space.sharing_type == SharingType.PRIVATE:
        return None
    return SpaceScope(space_id=space.pk, space_name=space.name, domain_name=space.domain.name)


def environment(key: AccessKey, secret: str) -> dict[str, str]:
    """The variables boto3 reads: credentials, region, and Studio as the endpoint of every
    service it speaks (SageMaker, its runtime, S3, STS, CloudWatch Logs). botocore names each
    variable after the service's id ("CloudWatch Logs": AWS_ENDPOINT_URL_CLOUDWATCH_LOGS)."""
    endpoint = f"http://127.0.0.1:{API_PORT}"
    return {
        "AWS_ACCESS_KEY_ID": key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": settings.STUDIO_REGION,
        "AWS_REGION": settings.STUDIO_REGION,
        "AWS_ENDPOINT_URL_SAGEMAKER": endpoint,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ENDPOINT_URL_STS": endpoint,
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": endpoint,
    }


def forwarder_command(rundir_in_container: str) -> str:
    """The shell step that starts the forwarder in the background, before the server."""

    return (
        f"python3 {rundir_in_container}/{FORWARDER.name} {API_PORT} "
        f"{API_DIR_IN_CONTAINER}/{API_SOCKET_NAME} &"
    )
