"""The operations Studio answers, by SageMaker's names, and what they share: the caller's
domain, pages of results and timestamps as boto3 reads them."""

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from studio.core.errors import ResourceNotFound, ValidationException
from studio.web.api.auth import Caller

Operation = Callable[[Caller, dict[str, Any]], dict[str, Any]]
OPERATIONS: dict[str, Operation] = {}

DEFAULT_PAGE = 10  # SageMaker's default MaxResults for its List operations


def operation(name: str) -> Callable[[Operation], Operation]:
    """Register `name` (e.g. "ListApps"); its request is validated against SageMaker's own
    request shape before the function runs."""

    def register(function: Operation) -> Operation:
        OPERATIONS[name] = function
        return function

    return register


def domain_of(caller: Caller, domain_id: str) -> str:
    """An access key acts in its own profile's domain only: any other is unknown to it."""
    if domain_id != caller.domain_id:
        raise ResourceNotFound(f"Domain {domain_id} does not exist.")
    return domain_id


def timestamp(value: datetime | None) -> float | None:
    """botocore reads JSON timestamps as seconds since the epoch."""
    return value.timestamp() if value else None


def page(items: Sequence[Any], params: dict[str, Any]) -> tuple[Sequence[Any], str | None]:
    """One page of `items` for MaxResults and NextToken, and the token for the next page."""
    size = params.get("MaxResults") or DEFAULT_PAGE
    token = params.get("NextToken")
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValidationException(
                "NextToken is not a token this operation returned.", "NextToken"
            ) from None
    chunk = items[start : start + size]
    following = start + size
    more = following < len(items)
    return chunk, base64.urlsafe_b64encode(str(following).encode()).decode() if more else None


def listing(
    key: str, items: Iterable[Any], summary: Callable[[Any], dict], params: dict[str, Any]
) -> dict[str, Any]:
    """A List operation's answer: one page of summaries under `key`, and NextToken if more."""
    chunk, token = page(list(items), params)
    return without_none({key: [summary(item) for item in chunk], "NextToken": token})


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    """SageMaker leaves out members it has no value for."""
    return {k: v for k, v in data.items() if v is not None and v != ""}
