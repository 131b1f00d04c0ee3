"""Domains in the console: a superuser creates and deletes them (deleting a domain deletes
its profiles first, as SageMaker's DeleteDomain needs); a domain's admins change its network
access, default settings and default policies, and add user profiles to it in bulk."""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models, transaction
from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from domains import services
from domains.admin.accounts import add_profile, one_time_password_message
from domains.admin.base import ServiceForm, ServiceModelAdmin, badge, one_per_line
from domains.admin.default_settings import SimpleSettingsMixin
from domains.admin.policies import (
    PolicyInline,
    offer_domain_policies,
    policy_names,
    refuse_other_domains_policies,
)
from domains.admin.profiles import UserProfileInline
from domains.admin.scope import is_superuser
from domains.models import Domain, ProfileRole, RetentionType, StudioStatus
from domains.user_settings import default_instance_type
from studio.core.errors import StudioError


class DomainCreateForm(SimpleSettingsMixin, ServiceForm):
    service_fields: ClassVar[dict[str, str]] = {
        "DomainName": "name",
        "AppNetworkAccessType": "app_network_access_type",
        **SimpleSettingsMixin.settings_fields,
    }
    in_use_field = "name"

    class Meta:
        model = Domain
        fields = ("name", "app_network_access_type")

    def perform(self, data: dict[str, Any]) -> Domain:
        return services.create_domain(
            self.actor,
            name=data["name"],
            app_network_access_type=data["app_network_access_type"],
            default_user_settings=self.settings_from({}, data),
        )


class DomainChangeForm(SimpleSettingsMixin, ServiceForm):
    service_fields: ClassVar[dict[str, str]] = {
        "AppNetworkAccessType": "app_network_access_type",
        "DefaultPolicies": "default_policies",
        **SimpleSettingsMixin.settings_fields,
    }

    class Meta:
        model = Domain
        fields = ("app_network_access_type", "default_policies")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.show_settings(self.instance.default_user_settings)
        offer_domain_policies(self, "default_policies", self.instance)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        refuse_other_domains_policies(self, "default_policies", self.instance)
        return data

    def perform(self, data: dict[str, Any]) -> Domain:
        return services.update_domain(
            self.actor,
            self.instance.domain_id,
            app_network_access_type=data["app_network_access_type"],
            default_user_settings=self.settings_from(self.instance.default_user_settings, data),
            default_policies=policy_names(data.get("default_policies", [])),
        )


class RetentionForm(forms.Form):
    """DeleteDomain's RetentionPolicy.HomeEfsFileSystem."""

    retention = forms.ChoiceField(
        choices=[
            (RetentionType.RETAIN, "Retain — keep the home directories on disk"),
            (RetentionType.DELETE, "Delete — remove the home volume and everything in it"),
        ],
        initial=RetentionType.RETAIN,
        widget=forms.RadioSelect,
        label="Home directories",
    )


class AddProfilesForm(forms.Form):
    usernames = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 40}),
        help_text="One username a line. Missing users are created with a one-time password.",
    )
    role = forms.ChoiceField(choices=ProfileRole.choices, initial=ProfileRole.MEMBER)

    def clean_usernames(self) -> list[str]:
        names = one_per_line(self.cleaned_data["usernames"])
        validate = UnicodeUsernameValidator()
        for name in names:
            try:
                validate(name)
            except forms.ValidationError as e:
                raise forms.ValidationError(f"{name!r}: {e.messages[0]}") from e
        if not names:
            raise forms.ValidationError("Give at least one username.")
        return list(dict.fromkeys(names))


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
        "network_access",
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
        return is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Domain | None = None) -> bool:
        return is_superuser(request)

    @admin.display(description="status", ordering="status")
    def status_badge(self, domain: Domain) -> SafeString:
        return badge(domain.status)

    @admin.display(description="network access", ordering="app_network_access_type")
    def network_access(self, domain: Domain) -> str:
        return domain.get_app_network_access_type_display()

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
