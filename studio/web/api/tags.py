"""AddTags, ListTags, DeleteTags: tags of every resource Studio serves that SageMaker tags.

Tenancy's resource types are registered in domains/services/tags.py; the workload apps' are
registered here, in the one layer that may import both (domains must not import jobs).
Create* operations of those apps store their request's Tags with `save_tags`.
"""

from typing import Any

from django.db import models

from domains.models import Domain
from domains.permissions import User
from domains.services import tags
from jobs.models import (
    Endpoint,
    EndpointConfig,
    Image,
    Model,
    ModelPackage,
    ModelPackageGroup,
    ProcessingJob,
    TrainingJob,
    TransformJob,
)
from studio.web.api.auth import Caller
from studio.web.api.registry import listing, operation

save_tags = tags.save_tags  # for the Create* operations: save_tags(actor, arn, tags)

# SageMaker's ListTags pages hold up to 50 tags unless MaxResults says more.
LIST_TAGS_PAGE = 50


def _named(model: type[models.Model]) -> tags.Finder:
    """A finder for a DomainResource model: its ARN holds the name in lower case."""

    def find(actor: User, domain: Domain | None, rest: str) -> tags.Tagged | None:
        if domain is None or "/" in rest:
            return None
        found = (
            model.objects.select_related("domain", "profile")
            .filter(domain=domain, name__iexact=rest)
            .first()
        )
        return tags.Tagged(found.arn, domain, owner=found.profile) if found else None

    return find


def _package(actor: User, domain: Domain | None, rest: str) -> tags.Tagged | None:
    if domain is None:
        return None
    found = ModelPackage.find(domain, rest)
    return tags.Tagged(found.arn, domain, owner=found.profile) if found else None


def _image(actor: User, domain: Domain | None, rest: str) -> tags.Tagged | None:
    # Images are the installation's: their ARNs carry its account, not a domain's.
    if domain is not None:
        return None
    found = Image.objects.filter(name__iexact=rest).first()
    return tags.Tagged(found.arn, None) if found else None


for _model in (
    TrainingJob,
    ProcessingJob,
    TransformJob,
    Model,
    EndpointConfig,
    Endpoint,
    ModelPackageGroup,
):
    tags.register(_model.ARN_KIND, _named(_model))
tags.register(ModelPackage.ARN_KIND, _package)
tags.register("image", _image)


def _tag(tag: Any) -> dict[str, str]:
    return {"Key": tag.key, "Value": tag.value}


@operation("AddTags")
def add_tags(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": tags.add_tags(caller.user, params["ResourceArn"], params["Tags"])}


@operation("ListTags")
def list_tags(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = tags.list_tags(caller.user, params["ResourceArn"])
    return listing(
        "Tags", found, _tag, {**params, "MaxResults": params.get("MaxResults") or LIST_TAGS_PAGE}
    )


@operation("DeleteTags")
def delete_tags(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    tags.delete_tags(caller.user, params["ResourceArn"], params["TagKeys"])
    return {}
