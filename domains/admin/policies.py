"""Policies in the console: what a domain's profiles may do (allowed and denied action
patterns) and how much (quotas), edited through the policy services. A policy belongs to its
domain; the domain's and its profiles' forms offer only that domain's policies."""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.http import HttpRequest

from domains import services
from domains.admin.base import ReadOnlyInline, ServiceForm, ServiceModelAdmin, one_per_line
from domains.models import Domain, Policy
from metering import catalog
from metering.catalog import InstanceType


def patterns(values: list[str]) -> str:
    return ", ".join(values) or "—"


def policy_names(policies: Any) -> list[str]:
    return [p.name for p in policies]


def offer_domain_policies(form: forms.BaseForm, name: str, domain: Domain | None) -> None:
    """Offer only `domain`'s policies (none before a domain is chosen) in the field `name`, if
    the form has it (a view-only page's form has none).

    A bound form keeps accepting every policy the admin may see until its clean() has called
    `refuse_other_domains_policies`, so that another domain's policy is refused in words
    saying why, not as an unknown choice."""
    if name not in form.fields:
        return
    field = form.fields[name]
    if not form.is_bound:
        field.queryset = field.queryset.filter(domain=domain) if domain else field.queryset.none()


def refuse_other_domains_policies(form: forms.BaseForm, name: str, domain: Domain | None) -> None:
    """For a form's clean(): a policy chosen in `name` from a domain other than `domain` is an
    error on that field (the services look policies up by name in their own domain, where a
    namesake would be attached in its place). The form then offers `domain`'s policies only."""
    if name not in form.fields:
        return
    if domain is not None:
        chosen = form.cleaned_data.get(name) or []
        strays = [p for p in chosen if p.domain_id != domain.pk]
        if strays:
            others = "; ".join(f"{p.name} belongs to domain {p.domain.name}" for p in strays)
            form.add_error(name, f"Choose among domain {domain.name}'s own policies: {others}.")
    field = form.fields[name]
    field.queryset = field.queryset.filter(domain=domain) if domain else field.queryset.none()


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
        help_text="One quota a line, e.g. ml.m5.large = 2, for types of the instance-type catalog.",
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
        model = Policy
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
        # Retired types pass: a policy written before its type was retired stays editable.
        known = set(InstanceType.objects.filter(name__in=quotas).values_list("name", flat=True))
        unknown = [t for t in quotas if t not in known]
        if unknown:
            raise forms.ValidationError(
                f"{', '.join(unknown)}: not in the instance-type catalog. "
                f"It offers {', '.join(catalog.offered_names()) or 'no types yet'}."
            )
        return quotas

    def perform(self, data: dict[str, Any]) -> Policy:
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


# What a policy allows and limits: the columns of every list of policies.
RULES = (
    "allowed",
    "denied",
    "instance_quotas",
    "max_concurrent_jobs",
    "max_concurrent_apps",
    "max_runtime_in_seconds",
    "monthly_budget_usd",
)


class PolicyInline(PolicyColumns, ReadOnlyInline):
    model = Policy
    fields = readonly_fields = ("name", *RULES)


@admin.register(Policy)
class PolicyAdmin(PolicyColumns, ServiceModelAdmin):
    form = PolicyForm
    add_form = PolicyForm
    list_display = ("name", "domain", *RULES, "attached")
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
