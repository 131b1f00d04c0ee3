"""Accounts in the console. They belong to the platform, not to a domain: only superusers manage
them directly (Django's user and group admins). Domain admins create accounts by adding
profiles (`add_profile`), which finds or creates the account and lets a new Admin in."""

import re
import secrets
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from domains import services
from domains.admin.scope import SuperuserOnlyMixin
from domains.models import Domain, OneTimePassword, ProfileRole, UserProfile

User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StudioUserAdmin(SuperuserOnlyMixin, UserAdmin):
    """Django's user admin, for superusers only. A password set here for someone else is one
    the superuser knows: like those `add_profile` makes, its owner replaces it at first
    sign-in."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():
            OneTimePassword.objects.get_or_create(user=obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        response = super().user_change_password(request, id, form_url)
        user = User.objects.get(pk=unquote(id))
        changed = request.method == "POST" and response.status_code == 302
        if changed and user != request.user and user.has_usable_password():
            OneTimePassword.objects.get_or_create(user=user)
        return response


@admin.register(Group)
class StudioGroupAdmin(SuperuserOnlyMixin, GroupAdmin):
    """Django's group admin, for superusers only."""


def profile_name_for(username: str) -> str:
    """A UserProfileName from a username: SageMaker allows only letters, digits and dashes."""
    return re.sub(r"[^A-Za-z0-9]+", "-", username).strip("-")[:63]


def attach_or_create_user(username: str) -> tuple[Any, str | None]:
    """The user named `username`, created with a random one-time password if there is none:
    the admin sees it, so its owner must choose another at first sign-in.

    Returns the user and the new password (None for an existing user)."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, None
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, password=password)
    OneTimePassword.objects.create(user=user)
    return user, password


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


def one_time_password_message(username: str, password: str) -> SafeString:
    return format_html(
        "Created user <strong>{}</strong> with the one-time password <code>{}</code>. "
        "Pass it on now: it is not shown again, and they choose their own at first sign-in.",
        username,
        password,
    )
