"""Storage: the artifact store (`store.py`) and the rules for the URIs a request names.

`artifact_store()` is the one way to reach objects (DESIGN.md §3.6). This module decides which
URIs a job of a domain may name at all (`check_access`, `check_request_uris`), reading them with
`uris.parse_uri`, the parser every backend uses, so that what the check let through is exactly
what is read or written (docs/security.md, "URIs"). `file://` URIs are accepted where
SageMaker's local mode accepts them, name a path on the worker's host, and are refused unless
an admin sets STUDIO_ALLOW_FILE_URIS.

Buckets belong to a domain, to the platform or to nobody (`buckets.owner_of`, the rule the S3
endpoint reads too): `studio-<domain id>` and `sagemaker-<region>-<account id>` by name, a
bucket created through the S3 endpoint by its row; every other `studio`, `studio-*` or
`studio.*` bucket is the platform's. A job may name its own domain's buckets and shared ones
(AccessDenied for the rest). Buckets named otherwise and created by nobody are shared by all
domains, as buckets in one AWS account are.
"""

from studio.core.errors import AccessDenied
from studio.core.storage.buckets import RESERVED, domain_bucket, owner_of
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


def check_access(uri: str, domain_id: str, field: str) -> ParsedUri:
    """Refuse a URI that a job of domain `domain_id` may not read or write: a malformed one,
    another domain's or the platform's bucket, or (unless an admin allows them) the worker
    host's own files. The URI as every reader will parse it, otherwise."""
    parsed = parse_uri(uri, field)
    refuse_host_files(parsed, field)
    if parsed.scheme != "s3" or parsed.bucket == domain_bucket(domain_id):
        return parsed
    # Every other studio-* name is another domain's or the platform's: no need to ask which.
    owner = None if RESERVED.fullmatch(parsed.bucket) else owner_of(parsed.bucket)
    if owner is None or (
        not owner.shared and (owner.domain is None or owner.domain.domain_id != domain_id)
    ):
        raise AccessDenied(
            f"{field}: bucket {parsed.bucket} belongs to another domain or to the platform. "
            f"Use this domain's bucket, s3://{domain_bucket(domain_id)}/, or a shared one."
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
