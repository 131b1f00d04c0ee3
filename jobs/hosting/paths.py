"""Where an endpoint's files are on the worker's host.

`$STUDIO_DATA_DIR/hosting/<domain id>/<endpoint pk>/` (by primary key: a deleted endpoint's
name can be reused at once, while its old instances still drain), root's, holding

- `models/<generation>-<variant>/model/`: the variant's model.tar.gz, unpacked by the confined
  helper as the endpoint owner's uid (`studio/core/storage/confined.py`), mounted read-only at
  /opt/ml/model in each of the variant's containers;
- `instances/<instance pk>/`: an instance's runtime directory, its server's uid's, mounted at
  /run/studio; the server binds `serve.sock` there. The container can replace that name with
  anything, so the router and the health checks connect only through
  `studio.core.unix_socket`, which checks it is a socket the server's uid owns.
"""

from pathlib import Path

from django.conf import settings

from jobs.models import Endpoint, EndpointInstance

SOCKET_NAME = "serve.sock"
RUNDIR = "/run/studio"  # where the container sees its runtime directory
MODEL_DIR = "/opt/ml/model"


def endpoint_dir(endpoint: Endpoint) -> Path:
    # Both parts are Studio's own (a domain id it generated, a primary key): no user's name.
    return Path(settings.DATA_DIR) / "hosting" / endpoint.domain.domain_id / str(endpoint.pk)


def model_tree(endpoint: Endpoint, generation: int, variant_index: int) -> Path:
    """The confined tree whose `model/` holds one variant's unpacked model (by the variant's
    index in its config: a variant's name is the user's)."""
    return endpoint_dir(endpoint) / "models" / f"{generation}-{variant_index}"


def instance_dir(instance: EndpointInstance) -> Path:
    return endpoint_dir(instance.endpoint) / "instances" / str(instance.pk)


def instance_socket(instance: EndpointInstance) -> Path:
    """The path of an instance's server socket: connect only through studio.core.unix_socket,
    checking the socket belongs to `instance.uid`."""
    return instance_dir(instance) / SOCKET_NAME
