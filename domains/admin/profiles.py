"""User profiles in the console: add one (attaching or creating its account), change its role,
policies and settings, suspend, resume or delete it, and issue it an API access key; a profile's
keys are listed on its page and a domain's profiles on the domain's."""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from domains import services
from domains.admin.access_keys import AccessKeyInline
from domains.admin.accounts import add_profile, grant_staff, one_time_password_message
from domains.admin.base import ReadOnlyInline, ServiceForm, ServiceModelAdmin, badge
from domains.admin.default_settings import SimpleSettingsMixin
from domains.admin.policies import (
    offer_domain_policies,
    policy_names,
    refuse_other_domains_policies,
)
from domains.admin.scope import scoped_choices
from domains.models import Domain, UserProfile


class UserProfileCreateForm(SimpleSettingsMixin, ServiceForm):
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="An existing user is attached; a new one is created with a one-time "
        "password, shown once after saving.",
    )
    name = forms.CharField(
        required=False,
        max_length=63,
        label="Profile name",
        help_text="Letters, digits and dashes; empty derives it from the username.",
    )
    service_fields: ClassVar[dict[str, str]] = {
        "UserProfileName": "name",
        "Role": "role",
        "User": "username",
        **SimpleSettingsMixin.settings_fields,
    }

    # Set by perform() when it created the account, for the admin to show once.
    one_time_password: str | None = None

    class Meta:
        model = UserProfile
        fields = ("domain", "username", "name", "role", "policies")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer_domain_policies(self, "policies", self.initial_domain())
        if "policies" in self.fields:
            # static/studio/admin_profile.js reloads the choices from here when the domain
            # changes. The select itself, inside admin's related-object wrapper: the wrapper's
            # attrs are its original widget's, shared by every form of this class.
            field = self.fields["policies"]
            field.help_text = f"The chosen domain's own policies. {field.help_text}"
            widget = field.widget
            select = getattr(widget, "widget", widget)
            select.attrs["data-policies-url"] = reverse("admin:domains_userprofile_policies")

    def initial_domain(self) -> Domain | None:
        """The domain the form opens with: the one asked for (?domain=, as the domain page's
        "Add a user profile" link does), or the admin's only domain, if they have one."""
        if "domain" not in self.fields:
            return None
        domains = self.fields["domain"].queryset
        asked = str(self.initial.get("domain", ""))
        if asked.isdigit():
            return domains.filter(pk=asked).first()
        only = list(domains[:2])
        if len(only) == 1:
            self.initial["domain"] = only[0].pk
            return only[0]
        return None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        refuse_other_domains_policies(self, "policies", data.get("domain"))
        return data

    def perform(self, data: dict[str, Any]) -> UserProfile:
        profile, self.one_time_password = add_profile(
            self.actor,
            data["domain"],
            data["username"],
            name=data["name"],
            role=data["role"],
            policies=policy_names(data.get("policies", [])),
            user_settings=self.settings_from({}, data),
        )
        return profile


class UserProfileChangeForm(SimpleSettingsMixin, ServiceForm):
    service_fields: ClassVar[dict[str, str]] = {
        "Role": "role",
        **SimpleSettingsMixin.settings_fields,
    }

    class Meta:
        model = UserProfile
        fields = ("role", "policies")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.show_settings(self.instance.user_settings)
        offer_domain_policies(self, "policies", self.instance.domain)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        refuse_other_domains_policies(self, "policies", self.instance.domain)
        return data

    def perform(self, data: dict[str, Any]) -> UserProfile:
        profile = services.update_user_profile(
            self.actor,
            self.instance.domain.domain_id,
            self.instance.name,
            role=data["role"],
            policies=policy_names(data.get("policies", [])),
            user_settings=self.settings_from(self.instance.user_settings, data),
        )
        if profile.is_admin:
            grant_staff(profile.user)
        return profile


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

    class Media:
        js = ("studio/admin_profile.js",)

    def get_urls(self) -> list[URLPattern]:
        policies = path(
            "policies/",
            self.admin_site.admin_view(self.domain_policies_view),
            name="domains_userprofile_policies",
        )
        return [policies, *super().get_urls()]

    def domain_policies_view(self, request: HttpRequest) -> JsonResponse:
        """The policies a profile in the domain ?domain=<pk> may take, for the add form's
        script: staff only (`admin_view`), and only in a domain this admin manages."""
        asked = request.GET.get("domain", "")
        domains = scoped_choices(Domain, request)
        domain = domains.filter(pk=asked).first() if asked.isdigit() else None
        if domain is None or not self.has_add_permission(request):
            raise Http404(f"No domain {asked!r} among the domains you administer.")
        policies = [{"id": p.pk, "name": p.name} for p in domain.policies.order_by("name")]
        return JsonResponse({"domain": domain.pk, "policies": policies})

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
