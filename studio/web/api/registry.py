"""The operations Studio answers, by SageMaker's names, and what they share: the caller's
domain, pages of results and timestamps as boto3 reads them."""

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
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


def moment(params: dict[str, Any], field: str) -> datetime | None:
    """A timestamp member of a request: seconds since the epoch, as botocore sends it, or ISO
    8601; None when absent."""
    value = params.get(field)
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise ValidationException(
        f"{field} must be a timestamp: seconds since the epoch or an ISO 8601 date and time.",
        field,
    )


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
