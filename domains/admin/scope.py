"""Who sees what in the admin console: superusers everything, a domain admin their domains.

A domain admin is a user holding an InService, unsuspended profile with role Admin in a domain
(`domains.permissions.administered_domains`); Django's admin also needs them to be staff, which
the console grants when it makes a profile Admin. Their reach is decided here alone, never by
Django model permissions: every Studio ModelAdmin and inline takes `DomainScopedMixin`, whose
queryset, permission checks and relation choices all come from the same set of domain ids. The
admin's change, history and delete pages, search, filters and actions all start from
`get_queryset`, so another domain's objects are simply not there.
"""

from typing import Any

from django.db import models
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest

from domains.models import AccessKey, Domain, Policy, UserProfile
from domains.permissions import administered_domains


def is_superuser(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


def administered_ids(request: HttpRequest) -> frozenset[int] | None:
    """Primary keys of the domains the signed-in user administers; None means all (superuser).

    Computed once per request: one changelist asks many times."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return frozenset()
    if user.is_superuser:
        return None
    if not hasattr(request, "_studio_admin_domains"):
        request._studio_admin_domains = frozenset(
            administered_domains(user).values_list("pk", flat=True)
        )
    return request._studio_admin_domains


def domain_pk(obj: models.Model) -> int:
    """The primary key of the domain any tenancy object belongs to."""
    if isinstance(obj, Domain):
        return obj.pk
    if isinstance(obj, AccessKey):
        return obj.profile.domain_id
    return obj.domain_id


def may_manage(request: HttpRequest, obj: models.Model | None = None) -> bool:
    """May the user manage `obj` (or, without one, anything at all) in the console?"""
    ids = administered_ids(request)
    if ids is None:
        return True
    if obj is None:
        return bool(ids)
    return domain_pk(obj) in ids


class DomainScopedMixin:
    """For ModelAdmins and inlines of tenancy models.

    `domain_lookup` is the path from the model to its Domain ("pk" for Domain itself). For an
    inline, Django passes the parent object to the permission checks, which `domain_pk` handles
    the same way.
    """

    domain_lookup = "domain"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        ids = administered_ids(request)
        if ids is None:
            return queryset
        return queryset.filter(**{f"{self.domain_lookup}__in": ids})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage(request)

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return may_manage(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return may_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return may_manage(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return may_manage(request)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        scoped = scoped_choices(db_field.related_model, request)
        if scoped is not None:
            kwargs["queryset"] = scoped
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:
        scoped = scoped_choices(db_field.related_model, request)
        if scoped is not None:
            kwargs["queryset"] = scoped
        # Policy fields narrow further, to their object's own domain (`policies`).
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def scoped_choices(model: type[models.Model], request: HttpRequest) -> models.QuerySet | None:
    """The objects of `model` a form may offer the user; None for models outside tenancy."""
    ids = administered_ids(request)
    lookups = {Domain: "pk", UserProfile: "domain", Policy: "domain"}
    if model not in lookups:
        return None
    queryset = model.objects.all()
    if model is UserProfile:
        queryset = queryset.select_related("domain", "user")
    elif model is Policy:
        queryset = queryset.select_related("domain")
    if ids is None:
        return queryset
    return queryset.filter(**{f"{lookups[model]}__in": ids})


class SuperuserOnlyMixin:
    """For Django's own User and Group admins: accounts are the platform's, not a domain's."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


class ViewOnlyMixin:
    """For records only the platform writes (jobs, apps, image versions): shown, never added,
    edited or deleted by hand; what can be done to them is an action calling a service."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
