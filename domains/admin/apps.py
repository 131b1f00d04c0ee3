"""Notebooks in the admin console: every JupyterLab app of an admin's domains, with its owner,
instance type, last activity and whether a warm server waits for it; Stop for a runaway
(through DeleteApp, so the owner's page says an admin stopped it and their files stay)."""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.safestring import SafeString

from domains.admin.base import ServiceModelAdmin, badge
from domains.admin.scope import ViewOnlyMixin
from domains.models import STOPPED_BY_ADMIN, App, AppStatus, WarmServer
from domains.services import delete_app


@admin.register(App)
class AppAdmin(ViewOnlyMixin, ServiceModelAdmin):
    domain_lookup = "space__domain"
    list_display = (
        "space_name",
        "domain",
        "owner",
        "status_badge",
        "instance_type",
        "last_user_activity_at",
        "warm",
        "created_at",
    )
    list_filter = ("status", ("space__domain", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("space__domain", "space__owner__user", "warm_server")
    search_fields = ("space__name", "space__owner__name", "space__owner__user__username")
    actions = ("stop_apps",)
    fields = readonly_fields = (
        "space_name",
        "domain",
        "owner",
        "status_badge",
        "failure_reason",
        "stopped_reason",
        "instance_type",
        "image",
        "runtime",
        "last_user_activity_at",
        "warm",
        "created_at",
    )

    @admin.display(description="space", ordering="space__name")
    def space_name(self, app: App) -> str:
        return app.space.name

    @admin.display(description="domain", ordering="space__domain__name")
    def domain(self, app: App) -> str:
        return app.space.domain.name

    @admin.display(description="owner", ordering="space__owner__name")
    def owner(self, app: App) -> str:
        owner = app.space.owner
        return f"{owner.name} ({owner.user.get_username()})"

    @admin.display(description="status", ordering="status")
    def status_badge(self, app: App) -> SafeString:
        tone = {AppStatus.IN_SERVICE: "ok", AppStatus.FAILED: "bad"}.get(app.status)
        return badge(app.status, tone)

    @admin.display(description="instance type")
    def instance_type(self, app: App) -> str:
        return app.resource_spec.get("InstanceType", "—")

    @admin.display(description="image")
    def image(self, app: App) -> str:
        return app.resource_spec.get("SageMakerImageArn", "—")

    @admin.display(description="runtime")
    def runtime(self, app: App) -> str:
        return app.runtime_state.get("runtime", "—")

    @admin.display(description="warm server", boolean=True)
    def warm(self, app: App) -> bool:
        try:
            return app.warm_server.ready
        except WarmServer.DoesNotExist:
            return False

    @admin.action(description="Stop the selected apps (their files are kept)", permissions=["view"])
    def stop_apps(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self.run_each(
            request,
            queryset.select_related("space__domain"),
            lambda app: delete_app(
                request.user,
                app.space.domain.domain_id,
                app.space.name,
                app.app_name,
                reason=STOPPED_BY_ADMIN,
            ),
            "Stopping",
        )
