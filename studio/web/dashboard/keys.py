"""The profile's own API access keys: list, issue (the secret shown once), deactivate,
reactivate, delete; with what boto3 needs to use them. Every change goes through
`domains.services`, which decides who may do what (a member manages their own keys unless a
policy denies it explicitly)."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from domains.models import AccessKeyStatus, UserProfile
from domains.services import (
    create_access_key,
    delete_access_key,
    list_access_keys,
    update_access_key,
)
from studio.core.crypto import decrypt, encrypt
from studio.core.errors import AccessDenied, StudioError
from studio.web.dashboard.current import current_profile


def _context(request: HttpRequest, profile: UserProfile) -> dict[str, Any]:
    context: dict[str, Any] = {
        "profile": profile,
        "domain": profile.domain,
        "endpoint_url": request.build_absolute_uri("/"),
        "region": settings.STUDIO_REGION,
    }
    try:
        context["keys"] = list(
            list_access_keys(request.user, profile.domain.domain_id, profile.name)
        )
    except AccessDenied as denied:
        context["denied"] = denied.message
    return context


# The new key's secret waits in the session (encrypted) for the one page that shows it:
# after a POST the browser is redirected, so a reload cannot issue a second key.
NEW_KEY = "studio_new_access_key"


@login_required
@require_http_methods(["GET", "POST"])
def key_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    if request.method == "POST":
        try:
            key, secret = create_access_key(request.user, profile.domain.domain_id, profile.name)
        except StudioError as error:
            messages.error(request, error.message)
        else:
            request.session[NEW_KEY] = {"id": key.access_key_id, "secret": encrypt(secret)}
        return redirect("dashboard:keys")
    new = request.session.pop(NEW_KEY, None)
    context = {
        **_context(request, profile),
        "new_key_id": new and new["id"],
        "secret": new and decrypt(new["secret"]),
    }
    response = render(request, "dashboard/keys.html", context)
    # The page that shows a secret must not be kept by the browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


def _change(request: HttpRequest, done: str, change) -> HttpResponse:
    try:
        change()
    except StudioError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("dashboard:keys")


@login_required
@require_POST
def key_status(request: HttpRequest, key_id: str) -> HttpResponse:
    status = request.POST.get("status", "")
    verb = "reactivated" if status == AccessKeyStatus.ACTIVE else "deactivated"
    return _change(
        request,
        f"Access key {key_id} {verb}.",
        lambda: update_access_key(request.user, key_id, status),
    )


@login_required
@require_POST
def key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    return _change(
        request,
        f"Access key {key_id} deleted: calls signed with it are refused from now on.",
        lambda: delete_access_key(request.user, key_id),
    )
