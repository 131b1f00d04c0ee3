"""The instance-type catalog in the console: superusers edit it, domain admins read it. Types
are retired (unticked "enabled"), never renamed or deleted: jobs, quotas and usage records name
them."""

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from domains.admin.scope import is_superuser, may_manage
from metering.catalog import InstanceType

INSTANCE_TYPE_NAME = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9]+")


class InstanceTypeForm(forms.ModelForm):
    class Meta:
        model = InstanceType
        fields = ("name", "vcpus", "memory_gib", "gpus", "price_per_hour", "enabled")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not INSTANCE_TYPE_NAME.fullmatch(name):
            raise forms.ValidationError("Name it like SageMaker does: ml.<family>.<size>.")
        return name

    def clean_vcpus(self) -> int:
        if self.cleaned_data["vcpus"] < 1:
            raise forms.ValidationError("An instance type has at least one vCPU.")
        return self.cleaned_data["vcpus"]

    def clean_memory_gib(self) -> Any:
        if self.cleaned_data["memory_gib"] <= 0:
            raise forms.ValidationError("Memory must be more than 0 GiB.")
        return self.cleaned_data["memory_gib"]

    def clean_price_per_hour(self) -> Any:
        if self.cleaned_data["price_per_hour"] < 0:
            raise forms.ValidationError("The price cannot be negative.")
        return self.cleaned_data["price_per_hour"]


@admin.register(InstanceType)
class InstanceTypeAdmin(admin.ModelAdmin):
    form = InstanceTypeForm
    list_display = ("name", "vcpus", "memory_gib", "gpus", "price_per_hour", "enabled")
    list_editable = ("price_per_hour", "enabled")
    list_filter = ("enabled", "gpus")
    search_fields = ("name",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Jobs, quotas and the bill refer to a type by name: a rename would orphan them.
        return ("name",) if obj is not None else ()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never: jobs and usage records name their type. Untick "enabled" to retire one."""
        return False
