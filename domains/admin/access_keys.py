"""API access keys in the console: a user's keys activated, deactivated or deleted through the
services. Keys are issued from the user profiles list and shown on their profile's page."""

from typing import Any, ClassVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.safestring import SafeString

from domains import services
from domains.admin.base import ReadOnlyInline, ServiceForm, ServiceModelAdmin, badge
from domains.models import AccessKey


class AccessKeyForm(ServiceForm):
    service_fields: ClassVar[dict[str, str]] = {"Status": "status"}

    class Meta:
        model = AccessKey
        fields = ("status",)

    def perform(self, data: dict[str, Any]) -> AccessKey:
        return services.update_access_key(self.actor, self.instance.access_key_id, data["status"])


class AccessKeyInline(ReadOnlyInline):
    model = AccessKey
    domain_lookup = "profile__domain"
    fields = readonly_fields = ("access_key_id", "status", "created_at", "last_used_at")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).filter(app=None)  # as AccessKeyAdmin


@admin.register(AccessKey)
class AccessKeyAdmin(ServiceModelAdmin):
    domain_lookup = "profile__domain"
    form = AccessKeyForm
    list_display = ("access_key_id", "profile", "status_badge", "created_at", "last_used_at")
    list_filter = ("status", ("profile__domain", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("profile__domain", "profile__user")
    search_fields = ("access_key_id", "profile__name", "profile__user__username")
    actions = ("activate", "deactivate", "delete_objects")
    fields = ("access_key_id", "profile", "status", "created_at", "last_used_at")
    change_readonly_fields = ("access_key_id", "profile", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Keys are issued from the user profiles list, which shows the secret once."""
        return False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        # A running app's key lives and dies with the app; nobody manages it by hand.
        return super().get_queryset(request).filter(app=None)

    @admin.display(description="status", ordering="status")
    def status_badge(self, key: AccessKey) -> SafeString:
        return badge(key.status)

    def _set_status(self, request: HttpRequest, queryset: models.QuerySet, status: str) -> None:
        self.run_each(
            request,
            queryset,
            lambda k: services.update_access_key(request.user, k.access_key_id, status),
            f"Set {status}",
        )

    @admin.action(description="Activate the selected keys", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self._set_status(request, queryset, "Active")

    @admin.action(description="Deactivate the selected keys", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self._set_status(request, queryset, "Inactive")

    @admin.action(description="Delete the selected keys…", permissions=["delete"])
    def delete_objects(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self.delete_each(
            request,
            queryset,
            lambda k: services.delete_access_key(request.user, k.access_key_id),
            title="Delete access keys",
            question="Delete these access keys? API callers signing with them are refused at once.",
            button="Delete keys",
        )
