"""AddTags, ListTags, DeleteTags, and the Tags a Create* request carries (`save_tags`).

A tag belongs to a resource's ARN. Which resource an ARN names is found by its resource type
(`training-job`, `space`, ...) in a small registry: tenancy's own types are registered in
domains/services/taggable.py; the workload apps' (jobs, hosting, the model registry, images)
register theirs from a layer that may import them (studio/web/api/tags.py), since domains must
not import jobs.

An ARN of another domain, or of nothing, is ResourceNotFound alike: the account id in it is a
domain's own, so a resource is looked for only in the domains the actor can see.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from domains.models import Domain, Tag, UserProfile
from domains.permissions import User, authorize, bound_profile, visible_domains
from studio.core.errors import AccessDenied, ResourceNotFound, ValidationException

MAX_TAGS = 50  # per resource, as AWS
MAX_KEY = 128
MAX_VALUE = 256
RESERVED_PREFIX = "aws:"
# TagKey and TagValue: letters, numbers and spaces of any script, and _ . : / = + - @.
TAG_PUNCTUATION = frozenset("_.:/=+-@")

ARN = re.compile(
    r"arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]*):(?P<account>[0-9]{12}):"
    r"(?P<kind>[a-z-]+)/(?P<rest>.+)"
)


@dataclass(frozen=True)
class Tagged:
    """The resource an ARN names: its domain (None for the installation's own), its owner
    (whom policies treat as the resource's owner; None for what no profile owns), and whether
    only the domain's admins may change its tags (the domain itself, its configurations)."""

    arn: str
    domain: Domain | None
    owner: UserProfile | None = None
    admin_only: bool = False
    space_id: int | None = None


# kind -> finder(actor, domain or None for the installation's account, rest of the ARN)
Finder = Callable[[User, Domain | None, str], Tagged | None]
FINDERS: dict[str, Finder] = {}


def register(kind: str, finder: Finder) -> None:
    """Make `kind` (the resource type in an ARN, e.g. "training-job") taggable."""
    FINDERS[kind] = finder


def resolve(actor: User, resource_arn: str) -> Tagged:
    """The resource `resource_arn` names, among those the actor may know exist."""
    match = ARN.fullmatch(resource_arn or "")
    if match is None:
        raise ValidationException(
            f"ResourceArn {resource_arn!r} is not a SageMaker ARN "
            "(arn:aws:sagemaker:<region>:<12-digit account>:<type>/<name>).",
            "ResourceArn",
        )
    finder = FINDERS.get(match["kind"])
    if finder is None:
        raise ValidationException(
            f"ResourceArn: resources of type {match['kind']!r} cannot be tagged here; taggable "
            f"types are {', '.join(sorted(FINDERS))}.",
            "ResourceArn",
        )
    missing = ResourceNotFound(f"Resource {resource_arn} does not exist.")
    if match["region"] != settings.STUDIO_REGION:
        raise missing
    account = match["account"]
    domain = visible_domains(actor).filter(account_id=account).first()
    if domain is None and account != settings.STUDIO_ACCOUNT_ID:
        raise missing
    found = finder(actor, domain, match["rest"])
    if found is None or found.arn != resource_arn:
        raise missing
    return found


def _check(actor: User, tagged: Tagged, action: str) -> None:
    if tagged.domain is None:
        # The installation's own resources: their tags are its superusers' to change, and
        # any profile's to read.
        if action == "sagemaker:ListTags" and bound_profile(actor) is not None:
            authorize(actor, action, domain=bound_profile(actor).domain)
            return
        authorize(actor, action)
        return
    profile = authorize(
        actor, action, domain=tagged.domain, owner=tagged.owner, space_id=tagged.space_id
    )
    if (
        tagged.admin_only
        and action != "sagemaker:ListTags"
        and profile is not None
        and not profile.is_admin
        and not actor.is_superuser
    ):
        raise AccessDenied(
            f"User profile '{profile.name}' is not authorized to perform {action} on "
            f"{tagged.arn}: it is reserved to the domain's admins."
        )


def validate_tags(tags: Any, field: str = "Tags") -> list[dict[str, str]]:
    """AWS's rules for a TagList: at most 50, keys 1-128 and values 0-256 characters of
    letters, numbers, spaces and _ . : / = + - @, no key twice, none starting with aws:."""
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise ValidationException(f"{field} must be a list of {{Key, Value}}.", field)
    if len(tags) > MAX_TAGS:
        raise ValidationException(f"{field} may hold at most {MAX_TAGS} tags.", field)
    seen: set[str] = set()
    for i, tag in enumerate(tags):
        where = f"{field}[{i}]"
        if not isinstance(tag, dict) or not isinstance(tag.get("Key"), str):
            raise ValidationException(f"{where} must be {{Key, Value}} with a string Key.", where)
        value = tag.get("Value", "")
        if not isinstance(value, str):
            raise ValidationException(f"{where}.Value must be a string.", f"{where}.Value")
        _check_text(tag["Key"], f"{where}.Key", 1, MAX_KEY)
        _check_text(value, f"{where}.Value", 0, MAX_VALUE)
        if tag["Key"].lower().startswith(RESERVED_PREFIX):
            raise ValidationException(
                f"{where}.Key: keys starting with {RESERVED_PREFIX} are reserved for AWS.",
                f"{where}.Key",
            )
        if tag["Key"] in seen:
            raise ValidationException(f"{where}.Key: {tag['Key']!r} is given twice.", where)
        seen.add(tag["Key"])
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in tags]


def _check_text(text: str, field: str, least: int, most: int) -> None:
    if not least <= len(text) <= most:
        raise ValidationException(f"{field} must be {least} to {most} characters long.", field)
    bad = next((c for c in text if not _allowed(c)), None)
    if bad is not None:
        raise ValidationException(
            f"{field} may hold letters, numbers, spaces and _ . : / = + - @; not {bad!r}.",
            field,
        )


def _allowed(character: str) -> bool:
    return character.isalnum() or character.isspace() or character in TAG_PUNCTUATION


def _write(tagged: Tagged, tags: list[dict[str, str]], *, replace: bool) -> None:
    with transaction.atomic():
        existing = Tag.objects.select_for_update().filter(resource_arn=tagged.arn)
        if replace:
            existing.delete()
            kept: set[str] = set()
        else:
            kept = set(existing.values_list("key", flat=True))
        new_keys = {t["Key"] for t in tags} - kept
        if len(kept) + len(new_keys) > MAX_TAGS:
            raise ValidationException(
                f"A resource may have at most {MAX_TAGS} tags; {tagged.arn} has {len(kept)} "
                f"and {len(new_keys)} more were given.",
                "Tags",
            )
        for tag in tags:
            Tag.objects.update_or_create(
                resource_arn=tagged.arn,
                key=tag["Key"],
                defaults={"value": tag["Value"], "domain": tagged.domain},
            )


def add_tags(actor: User, resource_arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """Add or overwrite tags of the resource; returns the tags given."""
    tags = validate_tags(tags)
    if not tags:
        raise ValidationException("Tags must hold at least one tag.", "Tags")
    tagged = resolve(actor, resource_arn)
    _check(actor, tagged, "sagemaker:AddTags")
    _write(tagged, tags, replace=False)
    return tags


def list_tags(actor: User, resource_arn: str) -> QuerySet[Tag]:
    tagged = resolve(actor, resource_arn)
    _check(actor, tagged, "sagemaker:ListTags")
    return Tag.objects.filter(resource_arn=tagged.arn).order_by("created_at", "key")


def delete_tags(actor: User, resource_arn: str, keys: list[str]) -> None:
    """Remove the tags with these keys; keys the resource has no tag for are ignored, as AWS."""
    if not keys or len(keys) > MAX_TAGS:
        raise ValidationException(f"TagKeys must hold 1 to {MAX_TAGS} keys.", "TagKeys")
    for i, key in enumerate(keys):
        if not isinstance(key, str):
            raise ValidationException(f"TagKeys[{i}] must be a string.", f"TagKeys[{i}]")
        _check_text(key, f"TagKeys[{i}]", 1, MAX_KEY)
    tagged = resolve(actor, resource_arn)
    _check(actor, tagged, "sagemaker:DeleteTags")
    Tag.objects.filter(resource_arn=tagged.arn, key__in=keys).delete()


def save_tags(actor: User, resource_arn: str, tags: Iterable[dict[str, str]] | None) -> None:
    """The Tags of a Create* request, for the resource it just created (call it in the same
    transaction, after the create and its own policy check): they replace any a deleted
    resource of the same ARN left, since a new resource starts with only its own tags.

    The resource must be one the actor can see; its creation already authorized the tagging,
    as AWS's Create* with Tags needs no separate AddTags permission check here."""
    tags = validate_tags(list(tags) if tags is not None else None)
    tagged = resolve(actor, resource_arn)
    _write(tagged, tags, replace=True)


def forget_tags(resource_arn: str) -> None:
    """Drop the tags of a resource being deleted, so that nothing of them outlives it."""
    Tag.objects.filter(resource_arn=resource_arn).delete()
