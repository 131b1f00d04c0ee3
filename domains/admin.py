"""The admin console for domain management, at /admin/.

Every change goes through `domains.services` (forms in `domains.admin_forms`, actions below):
Django's own save and delete paths are replaced, so the console obeys the same policy checks,
validation and worker lifecycle as the API. Who sees what is `domains.admin_scope`'s job.

Domain admins who are not superusers enter the console because it makes them staff when it
gives a profile the Admin role (`admin_forms.grant_staff`); a user made Admin through the API
needs `is_staff` set once by a superuser. Deleting a domain is a superuser's action: it deletes
every profile first, the domain admin's own included, which would leave them unable to finish.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Count
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from domains import services
from domains.admin_forms import (
    AccessKeyForm,
    AddProfilesForm,
    DomainChangeForm,
    DomainCreateForm,
    PolicyForm,
    RetentionForm,
    UserProfileChangeForm,
    UserProfileCreateForm,
    add_profile,
)
from domains.admin_scope import DomainScopedMixin, SuperuserOnlyMixin
from domains.models import AccessKey, Domain, Policy, StudioStatus, UserProfile
from domains.user_settings import default_instance_type
from studio.core.errors import StudioError

admin.site.site_header = "Studio administration"
admin.site.site_title = "Studio admin"
admin.site.index_title = "Domains, user profiles and policies"

_TONES = {
    StudioStatus.IN_SERVICE: "ok",
    StudioStatus.PENDING: "busy",
    StudioStatus.UPDATING: "busy",
    StudioStatus.DELETING: "busy",
    StudioStatus.FAILED: "bad",
    StudioStatus.UPDATE_FAILED: "bad",
    StudioStatus.DELETE_FAILED: "bad",
    "Active": "ok",
    "Inactive": "off",
}


def badge(text: str, tone: str | None = None) -> SafeString:
    """A status pill; the colours live in templates/admin/base_site.html."""
    return format_html(
        '<span class="studio-badge studio-badge-{}">{}</span>',
        tone or _TONES.get(text, "off"),
        text,
    )


def patterns(values: list[str]) -> str:
    return ", ".join(values) or "—"


class ServiceModelAdmin(DomainScopedMixin, admin.ModelAdmin):
    """A ModelAdmin whose forms and actions call services (see `admin_forms.ServiceForm`)."""

    add_form: type[Form] | None = None
    add_fieldsets: Any = None
    change_readonly_fields: tuple[str, ...] = ()

    def get_form(
        self, request: HttpRequest, obj: models.Model | None = None, **kwargs: Any
    ) -> type[Form]:
        if obj is None and self.add_form is not None:
            kwargs.setdefault("form", self.add_form)
        form = super().get_form(request, obj, **kwargs)
        # modelform_factory made this class for this request alone.
        form.actor = request.user
        return form

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if obj is None and self.add_fieldsets is not None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(
        self, request: HttpRequest, obj: models.Model | None = None
    ) -> tuple[str, ...]:
        return () if obj is None else self.change_readonly_fields

    def get_inlines(self, request: HttpRequest, obj: models.Model | None) -> list:
        # Inlines only show rows (they are read-only); with nothing of theirs to save, a POST
        # is the form alone, so a stale inline management form cannot fail a saved change.
        if obj is None or request.method == "POST":
            return []
        return super().get_inlines(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing to do: the form's service call has already saved the object."""

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # Django's bulk delete bypasses the services; each admin offers its own delete action.
        actions.pop("delete_selected", None)
        return actions

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        """The change page's Delete button: the same confirmation as the delete action."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id {object_id} here.")
        if not self.has_delete_permission(request, obj):
            raise PermissionDenied
        return self.delete_objects(request, self.get_queryset(request).filter(pk=obj.pk))

    def delete_objects(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        """Each admin's delete action, made with `delete_each`."""
        raise NotImplementedError

    def confirm(
        self,
        request: HttpRequest,
        queryset: models.QuerySet,
        *,
        action: str,
        title: str,
        question: str,
        button: str,
        form: Form | None = None,
    ) -> TemplateResponse:
        """An intermediate page that posts the action back to the changelist, confirmed."""
        return TemplateResponse(
            request,
            "admin/domains/confirm_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "question": question,
                "button": button,
                "form": form,
                "opts": self.opts,
                "queryset": queryset,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "changelist_url": reverse(admin_urlname(self.opts, "changelist")),
            },
        )

    def delete_each(
        self,
        request: HttpRequest,
        queryset: models.QuerySet,
        delete: Callable[..., object],
        *,
        title: str,
        question: str,
        button: str,
        done: str = "Deleted",
        options: type[Form] | None = None,
    ) -> TemplateResponse | None:
        """A delete action: the confirmation page (with the form `options`, if any) until it is
        posted back valid, then `delete(obj, **chosen_options)` for each object (`run_each`).

        `done` is formatted with the chosen options too, so the message can say what they were."""
        posted = "post" in request.POST
        form = options(request.POST if posted else None) if options else None
        if not posted or (form is not None and not form.is_valid()):
            return self.confirm(
                request,
                queryset,
                action="delete_objects",
                title=title,
                question=question,
                button=button,
                form=form,
            )
        chosen = form.cleaned_data if form is not None else {}
        self.run_each(request, queryset, lambda obj: delete(obj, **chosen), done.format(**chosen))
        return None

    def run_each(
        self,
        request: HttpRequest,
        queryset: models.QuerySet,
        call: Callable[[Any], object],
        done: str,
    ) -> None:
        """Call a service for each selected object; each refusal is reported, not raised."""
        names = []
        for obj in queryset:
            try:
                with transaction.atomic():
                    call(obj)
            except StudioError as error:
                self.message_user(request, f"{obj}: {error.message}", messages.ERROR)
            else:
                names.append(str(obj))
        if names:
            self.message_user(request, f"{done}: {', '.join(names)}.", messages.SUCCESS)
        elif not queryset.exists():
            self.message_user(request, "Nothing was changed.", messages.WARNING)


class ReadOnlyInline(DomainScopedMixin, admin.TabularInline):
    """Rows shown on the parent's page; edits happen on their own change pages."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class UserProfileInline(ReadOnlyInline):
    model = UserProfile
    fields = readonly_fields = ("name", "user", "role", "status_badge", "suspended", "home_uid")
    verbose_name_plural = "user profiles"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("user")

    @admin.display(description="status")
    def status_badge(self, profile: UserProfile) -> SafeString:
        return badge(profile.status)

    @admin.display(description="suspended", boolean=True)
    def suspended(self, profile: UserProfile) -> bool:
        return profile.is_suspended


class PolicyColumns:
    """A policy's columns, in the policy list and on its domain's page alike."""

    @admin.display(description="allow")
    def allowed(self, policy: Policy) -> str:
        return patterns(policy.allow)

    @admin.display(description="deny")
    def denied(self, policy: Policy) -> str:
        return patterns(policy.deny)

    @admin.display(description="max instances per type")
    def instance_quotas(self, policy: Policy) -> str:
        quotas = policy.max_instances_per_type.items()
        return ", ".join(f"{t}: {n}" for t, n in quotas) or "—"


class PolicyInline(PolicyColumns, ReadOnlyInline):
    model = Policy
    fields = readonly_fields = (
        "name",
        "allowed",
        "denied",
        "instance_quotas",
        "max_concurrent_jobs",
        "max_concurrent_apps",
        "max_runtime_in_seconds",
        "monthly_budget_usd",
    )


class AccessKeyInline(ReadOnlyInline):
    model = AccessKey
    domain_lookup = "profile__domain"
    fields = readonly_fields = ("access_key_id", "status", "created_at", "last_used_at")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).filter(app=None)  # as AccessKeyAdmin


@admin.register(Domain)
class DomainAdmin(ServiceModelAdmin):
    domain_lookup = "pk"
    form = DomainChangeForm
    add_form = DomainCreateForm
    inlines = (UserProfileInline, PolicyInline)
    list_display = (
        "name",
        "domain_id",
        "status_badge",
        "app_network_access_type",
        "profile_count",
        "instance_type",
        "created_at",
    )
    list_filter = ("status", "app_network_access_type")
    search_fields = ("name", "domain_id")
    actions = ("add_profiles", "delete_objects")
    add_fieldsets = (
        (None, {"fields": ("name", "app_network_access_type")}),
        (
            "Default user settings",
            {"fields": ("default_instance_type", "default_image", "idle_timeout")},
        ),
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "domain_id",
                    "status_badge",
                    "failure_reason",
                    "app_network_access_type",
                    "add_profile_link",
                )
            },
        ),
        (
            "Default user settings",
            {
                "fields": (
                    "default_instance_type",
                    "default_image",
                    "idle_timeout",
                    "default_policies",
                )
            },
        ),
        (
            "Storage and identity",
            {
                "classes": ("collapse",),
                "fields": ("arn", "home_volume", "created_at", "last_modified_at"),
            },
        ),
    )
    change_readonly_fields = (
        "name",
        "domain_id",
        "status_badge",
        "failure_reason",
        "add_profile_link",
        "arn",
        "home_volume",
        "created_at",
        "last_modified_at",
    )

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).annotate(profile_total=Count("profiles"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        """CreateDomain is a superuser's action (it needs no domain to be authorized in)."""
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Domain | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    @admin.display(description="status", ordering="status")
    def status_badge(self, domain: Domain) -> SafeString:
        return badge(domain.status)

    @admin.display(description="profiles", ordering="profile_total")
    def profile_count(self, domain: Domain) -> int:
        return domain.profile_total

    @admin.display(description="default instance type")
    def instance_type(self, domain: Domain) -> str:
        return default_instance_type(domain.default_user_settings) or "—"

    @admin.display(description="user profiles")
    def add_profile_link(self, domain: Domain) -> SafeString:
        url = reverse("admin:domains_userprofile_add")
        return format_html(
            '<a class="addlink" href="{}?domain={}">Add a user profile</a>', url, domain.pk
        )

    @admin.action(description="Add user profiles to the selected domains…", permissions=["change"])
    def add_profiles(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        form = AddProfilesForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return self.confirm(
                request,
                queryset,
                action="add_profiles",
                title="Add user profiles",
                question="Give each of these users a profile in the domains below.",
                button="Add profiles",
                form=form,
            )
        if not queryset.exists():
            self.message_user(request, "Nothing was changed.", messages.WARNING)
        for domain in queryset:
            for username in form.cleaned_data["usernames"]:
                try:
                    with transaction.atomic():
                        profile, password = add_profile(
                            request.user, domain, username, role=form.cleaned_data["role"]
                        )
                except StudioError as error:
                    self.message_user(
                        request, f"{username} in {domain}: {error.message}", messages.ERROR
                    )
                    continue
                self.message_user(request, f"Added user profile {profile}.", messages.SUCCESS)
                if password:
                    self.message_user(request, one_time_password_message(username, password))
        return None

    @admin.action(description="Delete the selected domains…", permissions=["delete"])
    def delete_objects(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        def delete(domain: Domain, retention: str) -> None:
            # DeleteDomain needs the profiles gone (or going) first, as in SageMaker.
            for profile in domain.profiles.exclude(status=StudioStatus.DELETING):
                services.delete_user_profile(request.user, domain.domain_id, profile.name)
            services.delete_domain(request.user, domain.domain_id, retention=retention)

        return self.delete_each(
            request,
            queryset,
            delete,
            title="Delete domains",
            question="Delete these domains and every user profile in them? Choose what "
            "happens to the users' home directories.",
            button="Delete domains",
            done="Deleting (home directories: {retention})",
            options=RetentionForm,
        )


def one_time_password_message(username: str, password: str) -> SafeString:
    return format_html(
        "Created user <strong>{}</strong> with the one-time password <code>{}</code>. "
        "Pass it on now: it is not shown again.",
        username,
        password,
    )


class SuspendedFilter(admin.SimpleListFilter):
    title = "suspended"
    parameter_name = "suspended"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Suspended"), ("no", "Active")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(suspended_at__isnull=self.value() == "no")
        return queryset


@admin.register(UserProfile)
class UserProfileAdmin(ServiceModelAdmin):
    form = UserProfileChangeForm
    add_form = UserProfileCreateForm
    inlines = (AccessKeyInline,)
    list_display = (
        "name",
        "domain",
        "user",
        "role",
        "status_badge",
        "suspended_badge",
        "home_uid",
        "created_at",
    )
    list_filter = (
        "status",
        "role",
        SuspendedFilter,
        ("domain", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("domain", "user")
    search_fields = ("name", "user__username", "user__email", "domain__name")
    actions = ("suspend", "resume", "issue_access_key", "delete_objects")
    add_fieldsets = (
        (None, {"fields": ("domain", "username", "name", "role", "policies")}),
        (
            "Settings (override the domain's defaults)",
            {"fields": ("default_instance_type", "default_image", "idle_timeout")},
        ),
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "domain",
                    "name",
                    "user",
                    "status_badge",
                    "suspended_at",
                    "failure_reason",
                    "role",
                    "policies",
                )
            },
        ),
        (
            "Settings (override the domain's defaults)",
            {"fields": ("default_instance_type", "default_image", "idle_timeout")},
        ),
        (
            "Storage and identity",
            {"classes": ("collapse",), "fields": ("arn", "home_uid", "home_directory")},
        ),
    )
    change_readonly_fields = (
        "domain",
        "name",
        "user",
        "status_badge",
        "suspended_at",
        "failure_reason",
        "arn",
        "home_uid",
        "home_directory",
    )

    @admin.display(description="status", ordering="status")
    def status_badge(self, profile: UserProfile) -> SafeString:
        return badge(profile.status)

    @admin.display(description="access", ordering="suspended_at")
    def suspended_badge(self, profile: UserProfile) -> SafeString:
        return badge("Suspended", "bad") if profile.is_suspended else badge("Active", "ok")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        password = getattr(form, "one_time_password", None)
        if password:
            self.message_user(request, one_time_password_message(obj.user.username, password))

    @admin.action(description="Suspend the selected users", permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self.run_each(
            request,
            queryset,
            lambda p: services.suspend_user_profile(request.user, p.domain.domain_id, p.name),
            "Suspended",
        )

    @admin.action(description="Resume the selected users", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self.run_each(
            request,
            queryset,
            lambda p: services.resume_user_profile(request.user, p.domain.domain_id, p.name),
            "Resumed",
        )

    @admin.action(
        description="Issue an API access key to the selected users", permissions=["change"]
    )
    def issue_access_key(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        def issue(profile: UserProfile) -> None:
            key, secret = services.create_access_key(
                request.user, profile.domain.domain_id, profile.name
            )
            self.message_user(
                request,
                format_html(
                    "Access key <code>{}</code> for {}: secret <code>{}</code>. "
                    "Copy it now: it is never shown again.",
                    key.access_key_id,
                    profile,
                    secret,
                ),
                messages.SUCCESS,
            )

        self.run_each(request, queryset, issue, "Issued access keys to")

    @admin.action(description="Delete the selected user profiles…", permissions=["delete"])
    def delete_objects(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self.delete_each(
            request,
            queryset,
            lambda p: services.delete_user_profile(request.user, p.domain.domain_id, p.name),
            title="Delete user profiles",
            question="Delete these user profiles? Their home directories stay on the "
            "domain's volume until the domain is deleted with RetentionPolicy Delete.",
            button="Delete profiles",
            done="Deleting",
        )


@admin.register(Policy)
class PolicyAdmin(PolicyColumns, ServiceModelAdmin):
    form = PolicyForm
    add_form = PolicyForm
    list_display = (
        "name",
        "domain",
        "allowed",
        "denied",
        "instance_quotas",
        "max_concurrent_jobs",
        "max_concurrent_apps",
        "max_runtime_in_seconds",
        "monthly_budget_usd",
        "attached",
    )
    list_filter = (("domain", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("domain",)
    search_fields = ("name", "description", "domain__name")
    actions = ("delete_objects",)
    add_fieldsets = (
        (None, {"fields": ("domain", "name", "description")}),
        ("Actions", {"fields": ("allow", "deny")}),
        (
            "Quotas",
            {
                "fields": (
                    "max_instances_per_type",
                    "max_concurrent_jobs",
                    "max_concurrent_apps",
                    "max_runtime_in_seconds",
                    "monthly_budget_usd",
                )
            },
        ),
    )
    fieldsets = add_fieldsets
    change_readonly_fields = ("domain", "name")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).annotate(profile_total=Count("profiles"))

    @admin.display(description="profiles", ordering="profile_total")
    def attached(self, policy: Policy) -> int:
        return policy.profile_total

    @admin.action(description="Delete the selected policies…", permissions=["delete"])
    def delete_objects(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self.delete_each(
            request,
            queryset,
            lambda p: services.delete_policy(request.user, p.domain.domain_id, p.name),
            title="Delete policies",
            question="Delete these policies? A policy still attached to a profile or to "
            "its domain's defaults is kept; detach it first.",
            button="Delete policies",
        )


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


# Accounts belong to the platform, not to a domain: only superusers manage them directly.
# Domain admins create accounts by adding profiles.
User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StudioUserAdmin(SuperuserOnlyMixin, UserAdmin):
    """Django's user admin, for superusers only."""


@admin.register(Group)
class StudioGroupAdmin(SuperuserOnlyMixin, GroupAdmin):
    """Django's group admin, for superusers only."""


# Registered from their own module, which builds on ServiceModelAdmin above.
from domains import admin_apps  # noqa: E402, F401
