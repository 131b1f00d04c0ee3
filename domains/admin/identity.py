"""Single sign-on in the console: the identity mappings that decide which domain and role a
person signing in with the identity provider gets (domains/identity.py), and the provider
identities linked to accounts.

Superusers only: sign-in applies the mappings as an installation-wide admin, attaching accounts
a domain admin could not (`domains.services.profiles._check_attachable`), so writing one is an
installation-wide decision.
"""

import re

from django import forms
from django.contrib import admin

from domains.admin.scope import SuperuserOnlyMixin, ViewOnlyMixin
from domains.models import ExternalIdentity, IdentityMapping

# A claim name as providers spell them: `groups`, `roles`, `department`, `custom:team`...
CLAIM_NAME = re.compile(r"[A-Za-z0-9_:.\-/]+")


class IdentityMappingForm(forms.ModelForm):
    class Meta:
        model = IdentityMapping
        fields = ("claim", "value", "domain", "role")
        help_texts = {
            "claim": "The ID token or userinfo claim to look at, such as groups.",
            "value": "The value that matches: the claim equals it, or (for a list such as "
            "groups) contains it. Exact and case-sensitive.",
            "role": "Admin manages the domain; people matching mappings with both roles in "
            "one domain get Admin. A changed role applies at their next sign-in.",
        }

    def clean_claim(self) -> str:
        claim = self.cleaned_data["claim"].strip()
        if not CLAIM_NAME.fullmatch(claim):
            raise forms.ValidationError(
                "A claim name is letters, digits and _ : . - / only, such as groups."
            )
        if claim in {"sub", "iss", "aud", "nonce"}:
            raise forms.ValidationError(
                f"The claim {claim} identifies the token, not a group; map a claim such as "
                "groups, email or preferred_username."
            )
        return claim

    def clean_value(self) -> str:
        value = self.cleaned_data["value"].strip()
        if not value:
            raise forms.ValidationError("Give the value the claim must hold.")
        return value


@admin.register(IdentityMapping)
class IdentityMappingAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    form = IdentityMappingForm
    list_display = ("claim", "value", "domain", "role")
    list_filter = ("role", "domain", "claim")
    search_fields = ("claim", "value", "domain__name")
    list_select_related = ("domain",)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ViewOnlyMixin, SuperuserOnlyMixin, admin.ModelAdmin):
    """Which provider account signs in as which user. Deleting the user ends the link."""

    list_display = ("user", "subject", "issuer", "created_at")
    search_fields = ("user__username", "subject")
    list_select_related = ("user",)
