"""Buckets' names and owners, as the core layer sees them: the names that are reserved, and
an `Owner` answered by the lookup the domains app registers (`domains/buckets.py` holds the
rule; docs/s3.md, "Buckets"). The core knows no domains, so it asks."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DOMAIN_BUCKET_PREFIX = "studio-"
RESERVED = re.compile(r"studio([.-].*)?")


@dataclass(frozen=True)
class Owner:
    """A bucket's owner: a domain, the platform (`platform`), or nobody (shared)."""

    domain: Any = None  # a domains.models.Domain
    platform: bool = False
    # Whether the owner made it (a row, or its own studio bucket): it exists even if empty.
    created: bool = False

    @property
    def shared(self) -> bool:
        return self.domain is None and not self.platform


def domain_bucket(domain_id: str) -> str:
    return f"{DOMAIN_BUCKET_PREFIX}{domain_id}"


_lookup: Callable[[str], Owner] | None = None


def register_owner_lookup(lookup: Callable[[str], Owner]) -> None:
    """Called once by the domains app when it is ready."""
    global _lookup
    _lookup = lookup


def owner_of(bucket: str) -> Owner:
    if _lookup is None:
        raise RuntimeError("No bucket owner lookup: the domains app is not installed.")
    return _lookup(bucket)
