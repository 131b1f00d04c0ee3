"""Storage: the artifact store (`store.py`) and the rules for the URIs a request names.

`artifact_store()` is the one way to reach objects (DESIGN.md §3.6). This module decides which
URIs a job of a domain may name at all (`check_access`, `check_request_uris`), reading them with
`uris.parse_uri`, the parser every backend uses, so that what the check let through is exactly
what is read or written (docs/security.md, "URIs"). `file://` URIs are accepted where
SageMaker's local mode accepts them, name a path on the worker's host, and are refused unless
an admin sets STUDIO_ALLOW_FILE_URIS.

Reserved buckets: the `studio` bucket and every `studio-*` or `studio.*` bucket belong to the
platform. `studio-<domain id>` is that domain's own bucket; a job may name only its own domain's
(AccessDenied for the rest). Buckets named otherwise are shared by all domains, as buckets in
one AWS account are.
"""

import re

from studio.core.errors import AccessDenied
from studio.core.storage.store import (
    CHUNK,
    ArtifactStore,
    StoredObject,
    artifact_store,
    child_uri,
    refuse_host_files,
)
from studio.core.storage.uris import ParsedUri, names_storage, parse_uri

__all__ = [
    "CHUNK",
    "ArtifactStore",
    "ParsedUri",
    "StoredObject",
    "artifact_store",
    "check_access",
    "check_request_uris",
    "domain_bucket",
    "join",
    "parse_uri",
]

DOMAIN_BUCKET_PREFIX = "studio-"
_RESERVED_BUCKET = re.compile(r"studio([.-].*)?")


def domain_bucket(domain_id: str) -> str:
    return f"{DOMAIN_BUCKET_PREFIX}{domain_id}"


def check_access(uri: str, domain_id: str, field: str) -> ParsedUri:
    """Refuse a URI that a job of domain `domain_id` may not read or write: a malformed one,
    another domain's or the platform's bucket, or (unless an admin allows them) the worker
    host's own files. The URI as every reader will parse it, otherwise."""
    parsed = parse_uri(uri, field)
    refuse_host_files(parsed, field)
    own = domain_bucket(domain_id)
    if parsed.scheme == "s3" and _RESERVED_BUCKET.fullmatch(parsed.bucket) and parsed.bucket != own:
        raise AccessDenied(
            f"{field}: bucket {parsed.bucket} belongs to another domain or to the platform. "
            f"Use this domain's bucket, s3://{own}/, or a shared one."
        )
    return parsed


def check_request_uris(request: object, domain_id: str, path: str = "") -> None:
    """`check_access` for every value anywhere in a job request that a reader of the store
    would take as a URI (whatever its case, surrounding space or JSON quoting), under the name
    of the member that holds it."""
    if isinstance(request, dict):
        for key, value in request.items():
            check_request_uris(value, domain_id, f"{path}.{key}" if path else key)
    elif isinstance(request, list):
        for i, value in enumerate(request):
            check_request_uris(value, domain_id, f"{path}[{i}]")
    elif isinstance(request, str) and names_storage(request):
        check_access(request, domain_id, path)


def join(uri: str, *parts: str, field: str = "S3Uri") -> str:
    """`uri` with `parts` appended as key segments, in the parser's form: `" S3://b/x"`
    and `"a"` give `s3://b/x/a`. Parts that would break a key rule (`..`, empty) are refused."""
    joined = child_uri(str(parse_uri(uri, field)), "/".join(parts))
    parse_uri(joined, field)
    return joined
