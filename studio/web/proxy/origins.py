"""Which origin a request came to: Studio's, or one space's own.

Each space is served at `<label>.<STUDIO_SPACES_DOMAIN>`, on the scheme and port Studio is
reached on. The label is a digest of the domain id and the space's name, so it fits a DNS
label whatever the names, and the host alone never says which space it is: the path does
(`/jupyter/<domain id>/<space>/...`, Jupyter's base URL), and the host must be that space's.
"""

import hashlib
import re

from django.conf import settings
from django.http.request import split_domain_port, validate_host

LABEL_PREFIX = "sp-"
LABEL_DIGEST_CHARS = 20  # 80 bits: no two spaces share a host
LABEL = re.compile(rf"{LABEL_PREFIX}[0-9a-f]{{{LABEL_DIGEST_CHARS}}}")


def space_label(domain_id: str, space_name: str) -> str:
    """The DNS label of a space's host name (23 characters, far under DNS's 63)."""
    digest = hashlib.sha256(f"{domain_id}/{space_name}".encode()).hexdigest()
    return LABEL_PREFIX + digest[:LABEL_DIGEST_CHARS]


def host_header(headers: list[tuple[bytes, bytes]]) -> str:
    return next((v.decode("latin-1") for n, v in headers if n.lower() == b"host"), "").strip()


def host_name(host: str) -> str:
    """The name part of a Host header, lower case, without port or trailing dot."""
    return split_domain_port(host)[0]


def is_space_host(host: str) -> bool:
    """Whether a Host header names something under the spaces domain (a space's host, or a
    name that is no space's): never Studio's own pages."""
    return host_name(host).endswith("." + settings.STUDIO_SPACES_DOMAIN)


def label_of(host: str) -> str | None:
    """The space label a Host header carries, or None if it is not a space host's."""
    name = host_name(host)
    label, _, rest = name.partition(".")
    if rest != settings.STUDIO_SPACES_DOMAIN or not LABEL.fullmatch(label):
        return None
    return label


def studio_host(host: str) -> bool:
    """Whether a Host header is one Studio answers on (ALLOWED_HOSTS), and not a space's."""
    return not is_space_host(host) and validate_host(host_name(host), settings.ALLOWED_HOSTS)


def port_suffix(host: str) -> str:
    port = split_domain_port(host)[1]
    return f":{port}" if port else ""


def space_origin(scheme: str, studio: str, domain_id: str, space_name: str) -> str:
    """The origin of a space, for a request that came to Studio on host `studio`."""
    return (
        f"{scheme}://{space_label(domain_id, space_name)}.{settings.STUDIO_SPACES_DOMAIN}"
        f"{port_suffix(studio)}"
    )


def default_studio_origin(scheme: str, space_host: str) -> str:
    """Where Studio is expected when a space host has nothing better to go by: the spaces
    domain itself, on the space host's scheme and port (JupyterHub's layout: spaces are
    subdomains of Studio's own name)."""
    return f"{scheme}://{settings.STUDIO_SPACES_DOMAIN}{port_suffix(space_host)}"


def http_scheme(scope: dict) -> str:
    """http or https for an HTTP or websocket scope."""
    return "https" if scope.get("scheme", "http") in ("https", "wss") else "http"
