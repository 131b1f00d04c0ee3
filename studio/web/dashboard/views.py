"""The single pane: thin views that read through services and render."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from domains.models import Policy, UserProfile
from domains.permissions import effective_policies
from domains.services import list_spaces, list_user_profiles
from domains.user_settings import (
    default_image,
    default_instance_type,
    idle_timeout_minutes,
    merge_user_settings,
)
from jobs.models import TrainingJob
from jobs.services import list_jobs
from studio.core.errors import AccessDenied
from studio.core.health import health
from studio.web.dashboard.cost import month_spend_context
from studio.web.dashboard.current import SESSION_KEY, current_profile, user_profiles
from studio.web.dashboard.model_pages import trained_models
from studio.web.dashboard.spaces import app_badge


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    state = health()
    return JsonResponse(state, status=200 if state["status"] == "ok" else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    settings = merge_user_settings(profile.domain.default_user_settings, profile.user_settings)
    return render(
        request,
        "dashboard/home.html",
        {
            "profile": profile,
            "domain": profile.domain,
            "policies": effective_policies(profile),
            "instance_type": default_instance_type(settings),
            "image": default_image(settings),
            "idle_timeout": idle_timeout_minutes(settings),
            "recent_jobs": _recent_jobs(request, profile),
            "spaces": _spaces(request, profile),
            "recent_models": _recent_models(request, profile),
            **month_spend_context(request.user, profile),
        },
    )


def _spaces(request: HttpRequest, profile: UserProfile) -> list[dict[str, Any]]:
    """Up to five of the profile's spaces with their JupyterLab's status (two queries)."""
    try:
        spaces = list(
            list_spaces(request.user, profile.domain.domain_id).prefetch_related("apps")[:5]
        )
    except AccessDenied:
        return []
    rows = []
    for space in spaces:
        app = next((a for a in space.apps.all() if a.app_name == "default"), None)
        rows.append(
            {
                "space": space,
                "app_id": f"{profile.domain.domain_id}/{space.name}/JupyterLab/default",
                **app_badge(app),
            }
        )
    return rows


def _recent_jobs(request: HttpRequest, profile: UserProfile) -> list[dict[str, Any]]:
    """The domain's five newest jobs of either kind (one query), or none when the profile may
    not list them (a suspended profile still gets its home page)."""
    try:
        rows, _ = list_jobs(request.user, profile.domain.domain_id)
    except AccessDenied:
        return []
    return list(rows[:5])


def _recent_models(request: HttpRequest, profile: UserProfile) -> list[TrainingJob]:
    """The three newest trained models of the domain (one query), or none when the profile
    may not list training jobs."""
    try:
        return list(trained_models(request, profile)[:3])
    except AccessDenied:
        return []


@login_required
def domain(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    context = {
        "profile": profile,
        "domain": profile.domain,
        "default_policies": list(profile.domain.default_policies.all()),
    }
    try:
        # One query for the rows (user and key count joined in) and one for all their
        # policies, however many profiles the domain has.
        context["members"] = list(
            list_user_profiles(request.user, profile.domain.domain_id)
            .annotate(key_count=Count("access_keys", filter=Q(access_keys__app=None)))
            .prefetch_related(
                Prefetch("policies", queryset=Policy.objects.only("name").order_by("name"))
            )
        )
    except AccessDenied as denied:
        # A suspended profile, or one whose policies do not allow ListUserProfiles, still
        # gets the page, with the reason instead of the table.
        context["denied"] = denied.message
    return render(request, "dashboard/domain.html", context)


@login_required
@require_POST
def switch_profile(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("profile", "")
    for profile in user_profiles(request):
        if str(profile.pk) == wanted:
            request.session[SESSION_KEY] = profile.pk
            return redirect("dashboard:home")
    # Someone else's profile, or none at all: say nothing about whether it exists.
    raise Http404("You have no such user profile.")
