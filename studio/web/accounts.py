"""A person's own account on Studio's pages: replacing a one-time password before anything
else, changing one's password from the user menu, and the page a throttled sign-in gets.

Throttling itself is django-axes' (settings: AXES_*); this module only says when to try again.
"""

import math
from collections.abc import Callable
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from domains.models import OneTimePassword


def must_replace_password(user: Any) -> bool:
    """Whether `user` still signs in with a password someone else chose."""
    return user.is_authenticated and OneTimePassword.objects.filter(user_id=user.pk).exists()


def next_page(request: HttpRequest) -> str:
    """Where to go once the password is set: the page asked for, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("dashboard:home")


class OneTimePasswordMiddleware:
    """Sends a signed-in user whose password is still a one-time one to the page that replaces
    it, whatever they asked for (the admin console too); only signing out stays open.

    API calls never reach it (SageMakerApiMiddleware answers them first: SigV4, no session),
    nor do static files (ServeStatic) or the notebook proxy (the ASGI application)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        open_paths = {
            reverse("password_change"),
            reverse("password_change_done"),
            reverse("logout"),
            reverse("admin:logout"),
        }
        if request.path_info in open_paths or not must_replace_password(request.user):
            return self.get_response(request)
        url = reverse("password_change")
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)


class NewPasswordForm(PasswordChangeForm):
    """Django's form, refusing the password being replaced as the new one: a one-time
    password kept would go on working."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        new = cleaned.get("new_password1")
        if new and new == cleaned.get("old_password"):
            self.add_error("new_password1", "Choose a password other than your current one.")
        return cleaned


class PasswordChange(auth_views.PasswordChangeView):
    """Change one's own password; the session stays signed in (Django updates its hash) and
    a one-time password's mark goes with it."""

    form_class = NewPasswordForm
    template_name = "registration/change_password.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Someone who signs in through the identity provider has no Studio password to change
        # (studio/web/oidc.py): say where theirs is, rather than ask for an old one they lack.
        if request.user.is_authenticated and not request.user.has_usable_password():
            return render(
                request,
                "registration/password_elsewhere.html",
                {"provider": settings.STUDIO_OIDC_PROVIDER_NAME, "next": next_page(request)},
            )
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: NewPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        OneTimePassword.objects.filter(user=self.request.user).delete()
        return response

    def get_success_url(self) -> str:
        return f"{reverse('password_change_done')}?{urlencode({'next': next_page(self.request)})}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            **kwargs,
            one_time=must_replace_password(self.request.user),
            next=next_page(self.request),
        )


class PasswordChangeDone(auth_views.PasswordChangeDoneView):
    template_name = "registration/change_password_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs, next=next_page(self.request))


def locked_out(request: HttpRequest, *_: Any) -> HttpResponse:
    """django-axes' answer to a sign-in it refused (AXES_LOCKOUT_CALLABLE): when the lockout
    of this username from this address ends, counted from its last recorded failure (failures
    during a lockout are not recorded, so the time shown holds)."""
    username = get_client_username(request) or ""
    last_failure = AccessAttempt.objects.filter(
        username=username, ip_address=request.axes_ip_address
    ).aggregate(last=Max("attempt_time"))["last"]
    now = timezone.now()
    until = (last_failure or now) + get_cool_off(request)
    seconds = max(0, math.ceil((until - now).total_seconds()))
    response = render(
        request,
        "registration/locked_out.html",
        {"username": username, "until": until, "minutes": max(1, math.ceil(seconds / 60))},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
