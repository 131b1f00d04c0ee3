"""Endpoints in the console: every endpoint of an admin's domains, with its owner, status, what
its variants run on and how many instances serve; Delete for a runaway, through DeleteEndpoint
(the worker stops its instances, as when its owner deletes it)."""

import json

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from domains.admin.base import ServiceModelAdmin, badge
from domains.admin.scope import ViewOnlyMixin
from jobs.models import Endpoint, EndpointStatus, InstanceStatus
from jobs.services.endpoints import delete_endpoint

_TONES = {
    EndpointStatus.IN_SERVICE: "ok",
    EndpointStatus.CREATING: "busy",
    EndpointStatus.UPDATING: "busy",
    EndpointStatus.SYSTEM_UPDATING: "busy",
    EndpointStatus.ROLLING_BACK: "busy",
    EndpointStatus.DELETING: "busy",
    EndpointStatus.FAILED: "bad",
    EndpointStatus.OUT_OF_SERVICE: "bad",
}


@admin.register(Endpoint)
class EndpointAdmin(ViewOnlyMixin, ServiceModelAdmin):
    list_display = (
        "name",
        "domain",
        "owner",
        "status_badge",
        "variants",
        "serving",
        "config_name",
        "created_at",
    )
    list_filter = ("status", ("domain", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("domain", "profile__user")
    search_fields = ("name", "config_name", "profile__name", "profile__user__username")
    date_hierarchy = "created_at"
    actions = ("delete_endpoints",)
    fields = readonly_fields = (
        "name",
        "domain",
        "owner",
        "status_badge",
        "failure_reason",
        "variants",
        "serving",
        "config_name",
        "pending_config_name",
        "generation",
        "created_at",
        "last_modified_at",
        "config_json",
    )

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        serving = models.Count(
            "instances",
            filter=models.Q(
                instances__status=InstanceStatus.IN_SERVICE,
                instances__generation=models.F("generation"),
            ),
        )
        return super().get_queryset(request).annotate(serving_count=serving)

    @admin.display(description="status", ordering="status")
    def status_badge(self, endpoint: Endpoint) -> SafeString:
        return badge(endpoint.status, _TONES.get(endpoint.status, "off"))

    @admin.display(description="owner", ordering="profile__name")
    def owner(self, endpoint: Endpoint) -> str:
        return f"{endpoint.profile.name} ({endpoint.profile.user.get_username()})"

    @admin.display(description="variants")
    def variants(self, endpoint: Endpoint) -> str:
        described = []
        for variant in endpoint.config.get("ProductionVariants", []):
            serverless = variant.get("ServerlessConfig")
            runs_on = (
                f"serverless {serverless.get('MemorySizeInMB')} MB"
                if serverless
                else f"{variant.get('InstanceType')} \N{MULTIPLICATION SIGN} "
                f"{endpoint.desired.get(variant['VariantName'], {}).get('count', 0)}"
            )
            described.append(f"{variant['VariantName']}: {runs_on}")
        return "; ".join(described) or "—"

    @admin.display(description="instances in service", ordering="serving_count")
    def serving(self, endpoint: Endpoint) -> int:
        return endpoint.serving_count

    @admin.display(description="config in force")
    def config_json(self, endpoint: Endpoint) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(endpoint.config, indent=2, sort_keys=True))

    @admin.action(
        description="Delete the selected endpoints (their instances stop)", permissions=["view"]
    )
    def delete_endpoints(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self.run_each(
            request,
            queryset.select_related("domain"),
            lambda endpoint: delete_endpoint(
                request.user, endpoint.domain.domain_id, endpoint.name
            ),
            "Deleting",
        )
