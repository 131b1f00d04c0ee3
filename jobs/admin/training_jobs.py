"""Training jobs in the console: shown to the admins of their domain, read-only; they change
only through the dashboard and the API, which run them."""

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString

from domains.admin.base import badge
from domains.admin.scope import DomainScopedMixin, ViewOnlyMixin
from jobs.models import TrainingJob, TrainingJobStatus

_TONES = {
    TrainingJobStatus.COMPLETED: "ok",
    TrainingJobStatus.IN_PROGRESS: "busy",
    TrainingJobStatus.STOPPING: "busy",
    TrainingJobStatus.FAILED: "bad",
    TrainingJobStatus.STOPPED: "off",
}


@admin.register(TrainingJob)
class TrainingJobAdmin(ViewOnlyMixin, DomainScopedMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "domain",
        "status_badge",
        "owner",
        "instance_type",
        "instance_count",
        "created_at",
    )
    list_filter = (
        "status",
        ("domain", admin.RelatedOnlyFieldListFilter),
        "instance_type",
    )
    list_select_related = ("domain", "profile__user")
    search_fields = ("name", "profile__name", "profile__user__username")
    date_hierarchy = "created_at"
    fields = (
        "name",
        "domain",
        "owner",
        "status_badge",
        "secondary_status",
        "failure_reason",
        "instance_type",
        "instance_count",
        "image",
        "runtime",
        "created_at",
        "training_start_time",
        "training_end_time",
        "model_artifacts",
        "request_json",
    )
    readonly_fields = fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, job: TrainingJob) -> SafeString:
        return badge(job.status, _TONES.get(job.status, "off"))

    @admin.display(description="owner", ordering="profile__name")
    def owner(self, job: TrainingJob) -> str:
        return f"{job.profile.name} ({job.profile.user.get_username()})"

    @admin.display(description="image")
    def image(self, job: TrainingJob) -> str:
        return job.runtime_state.get("image", "—")

    @admin.display(description="runtime")
    def runtime(self, job: TrainingJob) -> str:
        return job.runtime_state.get("runtime", "—")

    @admin.display(description="CreateTrainingJob request")
    def request_json(self, job: TrainingJob) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(job.request, indent=2, sort_keys=True))
