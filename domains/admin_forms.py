"""Forms of the admin console. Saving one of them is a service call, never `Model.save()`.

A `ServiceForm` runs its service when it validates, in place of ModelForm's model validation:
the service checks and writes in one transaction, so its verdict is the one that counts, and a
StudioError it raises lands on the form field it names instead of becoming a 500.
"""

import copy
import re
import secrets
from typing import Any, ClassVar

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models, transaction

from domains import services
from domains.models import (
    AccessKey,
    Domain,
    ProfileRole,
    RetentionType,
    UserProfile,
)
from domains.models import Policy as PolicyModel
from domains.user_settings import (
    default_image,
    default_instance_type,
    idle_timeout_minutes,
    merge_user_settings,
    simple_user_settings,
)
from studio.core.errors import ResourceInUse, StudioError, ValidationException
from studio.core.shapes import shape

# The three plain settings a SageMaker UserSettings nests under JupyterLabAppSettings.
_LAB = "JupyterLabAppSettings"


def instance_type_choices() -> list[tuple[str, str]]:
    """SageMaker's app instance types, from botocore's model (the service validates them)."""
    types = [t for t in shape("AppInstanceType")["enum"] if t.startswith("ml.")]
    return [("", "— not set —"), *((t, t) for t in types)]


def with_simple_settings(
    current: dict, instance_type: str | None, image: str | None, idle_timeout: int | None
) -> dict:
    """`current` UserSettings with the console's three fields replaced (or cleared), and every
    other setting an API caller stored left as it was."""
    settings = copy.deepcopy(current)
    lab = settings.get(_LAB)
    if isinstance(lab, dict):
        spec = lab.get("DefaultResourceSpec")
        if isinstance(spec, dict):
            spec.pop("InstanceType", None)
            spec.pop("SageMakerImageArn", None)
            if not spec:
                lab.pop("DefaultResourceSpec")
        lifecycle = lab.get("AppLifecycleManagement")
        if isinstance(lifecycle, dict):
            lifecycle.pop("IdleSettings", None)
            if not lifecycle:
                lab.pop("AppLifecycleManagement")
        if not lab:
            settings.pop(_LAB)
    return merge_user_settings(settings, simple_user_settings(instance_type, image, idle_timeout))


def one_per_line(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ServiceForm(forms.ModelForm):
    """A ModelForm whose save is `perform()`, a service call made as the signed-in user."""

    # Set per request by the ModelAdmin (`get_form`), on the class it builds for that request.
    actor: Any = None
    # A SageMaker parameter named in a ValidationException path → the form field showing it.
    service_fields: ClassVar[dict[str, str]] = {}
    # The field a ResourceInUse (a duplicate name) belongs to; None makes it a form-wide error.
    in_use_field: ClassVar[str | None] = None

    def perform(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def field_for(self, error: StudioError) -> str | None:
        if isinstance(error, ValidationException) and error.field:
            # Most specific first: "...DefaultResourceSpec.InstanceType" is the instance type.
            for part in reversed(re.split(r"[.\[\] ]+", error.field)):
                if part in self.service_fields and self.service_fields[part] in self.fields:
                    return self.service_fields[part]
        if isinstance(error, ResourceInUse) and self.in_use_field in self.fields:
            return self.in_use_field
        return None

    def _post_clean(self) -> None:
        if self._errors:
            return
        try:
            # Anything perform() writes besides the service's own work (a new user account)
            # is undone with it when the service refuses.
            with transaction.atomic():
                self.instance = self.perform(self.cleaned_data)
        except StudioError as error:
            self.add_error(self.field_for(error), error.message)

    def save(self, commit: bool = True) -> models.Model:
        """The service has already written everything, many-to-many links included."""
        if self.errors:
            raise ValueError("The form did not validate, so the service made no change.")
        self.save_m2m = lambda: None
        return self.instance


class SimpleSettingsMixin(forms.Form):
    """The default instance type, image and idle timeout of a (default) UserSettings."""

    default_instance_type = forms.ChoiceField(
        choices=instance_type_choices, required=False, label="Default instance type"
    )
    default_image = forms.CharField(
        required=False,
        max_length=256,
        label="Default image ARN",
        help_text="arn:aws:sagemaker:REGION:ACCOUNT:image/NAME; empty for the built-in image.",
    )
    idle_timeout = forms.IntegerField(
        required=False,
        label="Idle timeout (minutes)",
        help_text="Stop idle JupyterLab apps after this long (60 to 525600); empty never stops.",
    )
    settings_fields: ClassVar[dict[str, str]] = {
        "InstanceType": "default_instance_type",
        "SageMakerImageArn": "default_image",
        "IdleTimeoutInMinutes": "idle_timeout",
        "IdleSettings": "idle_timeout",
    }

    def show_settings(self, settings: dict) -> None:
        self.initial.setdefault("default_instance_type", default_instance_type(settings) or "")
        self.initial.setdefault("default_image", default_image(settings) or "")
        self.initial.setdefault("idle_timeout", idle_timeout_minutes(settings))

    def settings_from(self, current: dict, data: dict[str, Any]) -> dict:
        return with_simple_settings(
            current,
            data.get("default_instance_type") or None,
            data.get("default_image") or None,
            data.get("idle_timeout"),
        )


def policy_names(policies: Any) -> list[str]:
    return [p.name for p in policies]


def offer_domain_policies(form: forms.BaseForm, name: str, domain: Domain) -> None:
    """Offer only `domain`'s policies in the field `name`, if the form has it (a view-only
    page's form has none): a domain's defaults and a profile name only their domain's."""
    if name in form.fields:
        field = form.fields[name]
        field.queryset = field.queryset.filter(domain=domain)


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

    def perform(self, data: dict[str, Any]) -> Domain:
        return services.update_domain(
            self.actor,
            self.instance.domain_id,
            app_network_access_type=data["app_network_access_type"],
            default_user_settings=self.settings_from(self.instance.default_user_settings, data),
            default_policies=policy_names(data.get("default_policies", [])),
        )


def profile_name_for(username: str) -> str:
    """A UserProfileName from a username: SageMaker allows only letters, digits and dashes."""
    return re.sub(r"[^A-Za-z0-9]+", "-", username).strip("-")[:63]


def attach_or_create_user(username: str) -> tuple[Any, str | None]:
    """The user named `username`, created with a random one-time password if there is none.

    Returns the user and the new password (None for an existing user)."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, None
    password = secrets.token_urlsafe(12)
    return User.objects.create_user(username=username, password=password), password


def grant_staff(user: Any) -> None:
    """Let a domain admin into the console. Django's admin admits only staff; what a staff
    user sees there is decided by their Admin profiles, never by Django model permissions."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def add_profile(
    actor: Any,
    domain: Domain,
    username: str,
    *,
    name: str = "",
    role: str = ProfileRole.MEMBER,
    policies: list[str] | None = None,
    user_settings: dict | None = None,
) -> tuple[UserProfile, str | None]:
    """CreateUserProfile for `username`, creating the account if it is new (call it inside a
    transaction, so that a refused profile takes the new account with it).

    Returns the profile and the new account's one-time password, if one was made."""
    user, password = attach_or_create_user(username)
    profile = services.create_user_profile(
        actor,
        domain.domain_id,
        name=name or profile_name_for(username),
        user=user,
        role=role,
        policies=policies,
        user_settings=user_settings,
    )
    if profile.is_admin:
        grant_staff(user)
    return profile, password


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


class PolicyForm(ServiceForm):
    """Create a policy (domain and name given) or edit one (domain and name fixed)."""

    allow = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One action pattern a line, e.g. sagemaker:* or sagemaker:Create*.",
    )
    deny = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One pattern a line; a denial wins over any allow.",
    )
    max_instances_per_type = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Max instances per type",
        help_text="One quota a line, e.g. ml.m5.large = 2.",
    )
    service_fields: ClassVar[dict[str, str]] = {
        "PolicyName": "name",
        "Description": "description",
        "Allow": "allow",
        "Deny": "deny",
        "MaxInstancesPerType": "max_instances_per_type",
        "MaxConcurrentJobs": "max_concurrent_jobs",
        "MaxConcurrentApps": "max_concurrent_apps",
        "MaxRuntimeInSeconds": "max_runtime_in_seconds",
        "MonthlyBudgetUsd": "monthly_budget_usd",
    }
    in_use_field = "name"

    class Meta:
        model = PolicyModel
        fields = (
            "domain",
            "name",
            "description",
            "allow",
            "deny",
            "max_instances_per_type",
            "max_concurrent_jobs",
            "max_concurrent_apps",
            "max_runtime_in_seconds",
            "monthly_budget_usd",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = self.instance
        if policy.pk:
            self.initial["allow"] = "\n".join(policy.allow)
            self.initial["deny"] = "\n".join(policy.deny)
            self.initial["max_instances_per_type"] = "\n".join(
                f"{t} = {n}" for t, n in policy.max_instances_per_type.items()
            )

    def clean_allow(self) -> list[str]:
        return one_per_line(self.cleaned_data["allow"])

    def clean_deny(self) -> list[str]:
        return one_per_line(self.cleaned_data["deny"])

    def clean_max_instances_per_type(self) -> dict[str, int]:
        quotas = {}
        for line in one_per_line(self.cleaned_data["max_instances_per_type"]):
            instance_type, _, count = (part.strip() for part in line.partition("="))
            if not count.isdigit():
                raise forms.ValidationError(
                    f"{line!r}: write an instance type, '=' and a whole number, "
                    "e.g. ml.m5.large = 2."
                )
            quotas[instance_type] = int(count)
        return quotas

    def perform(self, data: dict[str, Any]) -> PolicyModel:
        fields = {
            "allow": data["allow"],
            "deny": data["deny"],
            "description": data.get("description", ""),
            "max_instances_per_type": data["max_instances_per_type"],
            "max_concurrent_jobs": data.get("max_concurrent_jobs"),
            "max_concurrent_apps": data.get("max_concurrent_apps"),
            "max_runtime_in_seconds": data.get("max_runtime_in_seconds"),
            "monthly_budget_usd": data.get("monthly_budget_usd"),
        }
        if self.instance.pk:
            return services.update_policy(
                self.actor, self.instance.domain.domain_id, self.instance.name, **fields
            )
        return services.create_policy(
            self.actor, data["domain"].domain_id, name=data["name"], **fields
        )


class AccessKeyForm(ServiceForm):
    service_fields: ClassVar[dict[str, str]] = {"Status": "status"}

    class Meta:
        model = AccessKey
        fields = ("status",)

    def perform(self, data: dict[str, Any]) -> AccessKey:
        return services.update_access_key(self.actor, self.instance.access_key_id, data["status"])


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
