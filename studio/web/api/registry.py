"""The operations Studio answers, by SageMaker's names, and what they share: the caller's
domain, the List operations' filters and order, pages of results and timestamps as boto3
reads them."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet

from domains.services.tags import save_tags, validate_tags
from studio.core.errors import ResourceNotFound, ValidationException
from studio.web.api.auth import Caller

Operation = Callable[[Caller, dict[str, Any]], dict[str, Any]]
Created = TypeVar("Created")
OPERATIONS: dict[str, Operation] = {}

DEFAULT_PAGE = 10  # SageMaker's default MaxResults for its List operations
# NextToken is signed: a token is only ever one Studio made, and what it holds (a row's sort
# values) is never trusted as a filter value until its signature is checked.
TOKEN_SALT = "studio.web.api.registry.page"


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


def create_tagged(caller: Caller, params: dict[str, Any], create: Callable[[], Created]) -> Created:
    """`create()` (a Create* service call) and the request's Tags saved for what it made, in
    one transaction: tags AWS would refuse are refused before anything is made, and a resource
    is never left without the tags its request carried. The resource has `arn`."""
    tags = params.get("Tags")
    if not tags:
        return create()
    validate_tags(tags)
    with transaction.atomic():
        created = create()
        save_tags(caller.user, created.arn, tags)
    return created


# Filters and order


@dataclass(frozen=True)
class Columns:
    """Where a List operation's filters and SortBy values look in its model: SageMaker's
    member (or SortBy value) to the model's field; None where the model has no such column."""

    name: str | None = "name"
    created: str | None = "created_at"
    modified: str | None = "last_modified_at"
    status: str | None = "status"
    # SortBy value -> field; "CreationTime" etc. default to the columns above.
    sort: dict[str, str] = field(default_factory=dict)
    # SageMaker's default SortBy and SortOrder for the operation, as botocore documents them.
    default_sort: str = "CreationTime"
    default_order: str = "Descending"

    def sort_field(self, sort_by: str) -> str:
        fields = {
            "Name": self.name,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "Status": self.status,
            **self.sort,
        }
        chosen = fields.get(sort_by)
        if chosen is None:
            raise ValidationException(f"SortBy {sort_by} is not supported here.", "SortBy")
        return chosen


# Members named differently by some operations (ListUserProfiles' UserProfileNameContains).
NAME_CONTAINS = ("NameContains", "UserProfileNameContains", "SpaceNameContains")


def narrowed(items: QuerySet, params: dict[str, Any], columns: Columns = Columns()) -> QuerySet:
    """`items` with the List filters `params` holds applied and in the order asked for:
    NameContains (case-insensitive, as SageMaker's), CreationTimeAfter/Before,
    LastModifiedTimeAfter/Before (After inclusive, Before exclusive), StatusEquals, then
    SortBy/SortOrder (the operation's default when absent), ties broken by the primary key so
    that every order is total and pages resume exactly (see `page`). The request was validated
    against the operation's shape already, so only its own members are here."""
    for member in NAME_CONTAINS:
        if params.get(member) and columns.name:
            items = items.filter(**{f"{columns.name}__icontains": params[member]})
    bounds = (
        (columns.created, "CreationTimeAfter", "gte"),
        (columns.created, "CreationTimeBefore", "lt"),
        (columns.modified, "LastModifiedTimeAfter", "gte"),
        (columns.modified, "LastModifiedTimeBefore", "lt"),
    )
    for column, member, lookup in bounds:
        when = moment(params, member)
        if when is not None:
            if column is None:
                raise ValidationException(f"{member} is not supported here.", member)
            items = items.filter(**{f"{column}__{lookup}": when})
    if params.get("StatusEquals"):
        if columns.status is None:
            raise ValidationException("StatusEquals is not supported here.", "StatusEquals")
        items = items.filter(**{columns.status: params["StatusEquals"]})
    column = columns.sort_field(params.get("SortBy") or columns.default_sort)
    if (params.get("SortOrder") or columns.default_order) == "Ascending":
        return items.order_by(column, "pk")
    return items.order_by(f"-{column}", "-pk")


# Pages


def _bad_token() -> ValidationException:
    return ValidationException("NextToken is not a token this operation returned.", "NextToken")


def _ordering(items: QuerySet) -> list[str]:
    """The queryset's order as field names with "-" for descending, ending with the primary
    key so that it is total."""
    fields = [str(f) for f in (items.query.order_by or items.model._meta.ordering or [])]
    if not fields or fields[-1].lstrip("-") not in {"pk", "id", items.model._meta.pk.name}:
        fields.append("-pk" if fields and fields[-1].startswith("-") else "pk")
    return fields


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # UUIDs, decimals: the ORM compares them as their text


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return datetime.fromisoformat(value["t"])
    return value


def _after(fields: list[str], values: list[Any]) -> Q:
    """The rows strictly after the one whose sort values are `values`, in the order `fields`
    (PostgreSQL puts NULLs last ascending, first descending)."""
    name, value = fields[0].lstrip("-"), values[0]
    descending = fields[0].startswith("-")
    rest = _after(fields[1:], values[1:]) if len(fields) > 1 else None
    if value is None:
        same = Q(**{f"{name}__isnull": True})
        later = Q(**{f"{name}__isnull": False}) if descending else Q(pk__in=[])
    else:
        same = Q(**{name: value})
        beyond = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
        later = beyond if descending else beyond | Q(**{f"{name}__isnull": True})
    return later | (same & rest) if rest is not None else later


def _page_of_queryset(items: QuerySet, size: int, token: str | None) -> tuple[list, str | None]:
    """Keyset paging: the token holds the last row's sort values and primary key, and the next
    page is the rows after it in the same order, so rows added or removed meanwhile never
    shift a page (a row added before the mark is simply not seen by this walk)."""
    fields = _ordering(items)
    listed = items.model._meta.label
    if token:
        mark = _unsign(token)
        if (
            mark.get("m") != listed
            or mark.get("o") != fields
            or not isinstance(mark.get("v"), list)
            or len(mark["v"]) != len(fields)
        ):
            raise _bad_token()
        try:
            items = items.filter(_after(fields, [_decode(v) for v in mark["v"]]))
        except (KeyError, TypeError, ValueError):
            raise _bad_token() from None
    chunk = list(items[: size + 1])
    if len(chunk) <= size:
        return chunk, None
    chunk = chunk[:size]
    names = [f.lstrip("-") for f in fields]
    values = items.model._base_manager.filter(pk=chunk[-1].pk).values_list(*names).first()
    return chunk, _sign({"m": listed, "o": fields, "v": [_encode(v) for v in values]})


def _identity(item: Any) -> Any:
    pk = getattr(item, "pk", None)
    return _encode(pk) if pk is not None else None


def _page_of_sequence(items: Sequence[Any], size: int, token: str | None) -> tuple[list, str]:
    """A page of an in-memory list: the token holds the last item's identity (its primary key)
    and position; the next page starts after that item wherever it is now, or at its old
    position if it is gone."""
    start = 0
    if token:
        mark = _unsign(token)
        position, identity = mark.get("i"), mark.get("k")
        if not isinstance(position, int) or position < 0:
            raise _bad_token()
        start = position
        if identity is not None:
            for index, item in enumerate(items):
                if _identity(item) == identity:
                    start = index + 1
                    break
    chunk = list(items[start : start + size])
    if start + size >= len(items) or not chunk:
        return chunk, None
    return chunk, _sign({"i": start + len(chunk), "k": _identity(chunk[-1])})


def _sign(mark: dict[str, Any]) -> str:
    return signing.dumps(mark, salt=TOKEN_SALT, compress=True)


def _unsign(token: str) -> dict[str, Any]:
    try:
        mark = signing.loads(token, salt=TOKEN_SALT)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise _bad_token() from None
    if not isinstance(mark, dict):
        raise _bad_token()
    return mark


def page(items: Sequence[Any] | QuerySet, params: dict[str, Any]) -> tuple[list, str | None]:
    """One page of `items` for MaxResults and NextToken, and the token for the next page
    (None on the last). Tokens do not shift when rows are added between calls; one not made
    by Studio for this order is a ValidationException."""
    size = params.get("MaxResults") or DEFAULT_PAGE
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
        raise ValidationException(
            "Value at 'MaxResults' failed to satisfy constraint: Member must have value "
            "between 1 and 100",
            "MaxResults",
        )
    token = params.get("NextToken") or None
    if isinstance(items, QuerySet):
        if _keyset_pageable(items):
            return _page_of_queryset(items, size, token)
        items = list(items)
    return _page_of_sequence(items, size, token)


def _keyset_pageable(items: QuerySet) -> bool:
    """A plain query ordered by fields (not a UNION, nor ordered by an expression)."""
    order = items.query.order_by or items.model._meta.ordering or []
    return not items.query.combinator and all(isinstance(f, str) for f in order)


def listing(
    key: str, items: Iterable[Any], summary: Callable[[Any], dict], params: dict[str, Any]
) -> dict[str, Any]:
    """A List operation's answer: one page of summaries under `key`, and NextToken if more.
    `items` is best a QuerySet in its final order (see `narrowed`); any iterable works."""
    if not isinstance(items, QuerySet | Sequence):
        items = list(items)
    chunk, token = page(items, params)
    return without_none({key: [summary(item) for item in chunk], "NextToken": token})


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    """SageMaker leaves out members it has no value for."""
    return {k: v for k, v in data.items() if v is not None and v != ""}
