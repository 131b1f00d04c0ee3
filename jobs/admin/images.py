"""The image registry in the console. Images are site-wide (docs/images.md): superusers only,
created and deleted through `jobs.services.images`, so the console makes the same checks as the
API; a new version, never an edit, changes what an image runs."""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from domains.admin.base import ServiceForm, ServiceModelAdmin, badge
from domains.admin.scope import SuperuserOnlyMixin, ViewOnlyMixin, is_superuser
from jobs.models import Image, ImageVersion
from jobs.services import images as image_services

_TONES = {
    "CREATED": "ok",
    "CREATING": "busy",
    "UPDATING": "busy",
    "DELETING": "busy",
    "CREATE_FAILED": "bad",
    "UPDATE_FAILED": "bad",
    "DELETE_FAILED": "bad",
}


def status_badge(status: str) -> SafeString:
    return badge(status, _TONES.get(status, "off"))


class ImageCreateForm(ServiceForm):
    base_image = forms.CharField(
        required=False,
        max_length=255,
        label="Base image",
        help_text="The container reference of version 1, e.g. myteam/trainer:1.2. It must "
        "already be on the runtime (docker load, or studio images build). Empty adds no "
        "version yet.",
    )
    service_fields: ClassVar[dict[str, str]] = {
        "ImageName": "name",
        "DisplayName": "display_name",
        "Description": "description",
        "BaseImage": "base_image",
    }
    in_use_field = "name"

    class Meta:
        model = Image
        fields = ("name", "display_name", "description")
        labels: ClassVar[dict[str, str]] = {"name": "Image name"}
        help_texts: ClassVar[dict[str, str]] = {
            "name": "Letters, digits, '-' and '.'; unique (ignoring case)."
        }

    def perform(self, data: dict[str, Any]) -> Image:
        image = image_services.create_image(
            self.actor,
            data["name"],
            display_name=data["display_name"],
            description=data["description"],
        )
        if data["base_image"]:
            image_services.create_image_version(self.actor, image.name, data["base_image"])
        return image


class ImageVersionCreateForm(ServiceForm):
    service_fields: ClassVar[dict[str, str]] = {"ImageName": "image", "BaseImage": "base_image"}

    class Meta:
        model = ImageVersion
        fields = ("image", "base_image")
        help_texts: ClassVar[dict[str, str]] = {
            "base_image": "A container reference already on the runtime, e.g. "
            "myteam/trainer:1.3 (docker load, or studio images build)."
        }

    def perform(self, data: dict[str, Any]) -> ImageVersion:
        return image_services.create_image_version(
            self.actor, data["image"].name, data["base_image"]
        )


class SiteServiceAdmin(SuperuserOnlyMixin, ServiceModelAdmin):
    """Site-wide objects changed through services: superusers only, created and deleted but
    never edited in place (a new version is the way to change what an image runs)."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        # Not a domain's objects: skip DomainScopedMixin's filter (only superusers get here).
        return admin.ModelAdmin.get_queryset(self, request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ImageVersionInline(ViewOnlyMixin, admin.TabularInline):
    model = ImageVersion
    fields = readonly_fields = ("version", "base_image", "status_badge", "arn", "created_at")
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request)

    @admin.display(description="status")
    def status_badge(self, version: ImageVersion) -> SafeString:
        return status_badge(version.status)

    @admin.display(description="ARN")
    def arn(self, version: ImageVersion) -> str:
        return version.arn


@admin.register(Image)
class ImageAdmin(SiteServiceAdmin):
    add_form = ImageCreateForm
    inlines = (ImageVersionInline,)
    list_display = ("name", "display_name", "status_badge", "version_count", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "display_name", "description")
    actions = ("delete_objects",)
    add_fieldsets = ((None, {"fields": ("name", "display_name", "description", "base_image")}),)
    fields = (
        "name",
        "display_name",
        "description",
        "status_badge",
        "failure_reason",
        "arn",
        "add_version_link",
        "created_at",
        "last_modified_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).annotate(version_total=models.Count("versions"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, image: Image) -> SafeString:
        return status_badge(image.status)

    @admin.display(description="versions", ordering="version_total")
    def version_count(self, image: Image) -> int:
        return image.version_total

    @admin.display(description="ARN")
    def arn(self, image: Image) -> str:
        return image.arn

    @admin.display(description="new version")
    def add_version_link(self, image: Image) -> SafeString:
        url = reverse("admin:jobs_imageversion_add")
        return format_html('<a class="addlink" href="{}?image={}">Add a version</a>', url, image.pk)

    @admin.action(description="Delete the selected images…", permissions=["delete"])
    def delete_objects(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self.delete_each(
            request,
            queryset,
            lambda image: image_services.delete_image(request.user, image.name),
            title="Delete images",
            question="Delete these images and all their versions? Jobs can no longer name "
            "them; the container images stay on the runtime.",
            button="Delete images",
        )


@admin.register(ImageVersion)
class ImageVersionAdmin(SiteServiceAdmin):
    add_form = ImageVersionCreateForm
    list_display = ("__str__", "image", "version", "base_image", "status_badge", "created_at")
    list_filter = ("status", ("image", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("image",)
    search_fields = ("image__name", "base_image")
    actions = ("delete_objects",)
    add_fieldsets = ((None, {"fields": ("image", "base_image")}),)
    fields = (
        "image",
        "version",
        "base_image",
        "status_badge",
        "failure_reason",
        "arn",
        "created_at",
        "last_modified_at",
    )
    readonly_fields = fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, version: ImageVersion) -> SafeString:
        return status_badge(version.status)

    @admin.display(description="ARN")
    def arn(self, version: ImageVersion) -> str:
        return version.arn

    @admin.action(description="Delete the selected image versions…", permissions=["delete"])
    def delete_objects(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self.delete_each(
            request,
            queryset,
            lambda v: image_services.delete_image_version(request.user, v.image.name, v.version),
            title="Delete image versions",
            question="Delete these image versions? Their ARNs stop resolving; the "
            "container images stay on the runtime.",
            button="Delete versions",
        )
