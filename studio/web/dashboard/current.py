"""Which of a user's profiles (one per domain) the dashboard is showing; kept in the session."""

from django.http import HttpRequest

from domains.models import UserProfile

SESSION_KEY = "studio_profile"


def user_profiles(request: HttpRequest) -> list[UserProfile]:
    """The user's profiles, loaded once per request."""
    if not hasattr(request, "_studio_profiles"):
        request._studio_profiles = list(
            UserProfile.objects.filter(user=request.user)
            .select_related("domain")
            .order_by("domain__name")
        )
    return request._studio_profiles


def current_profile(request: HttpRequest) -> UserProfile | None:
    profiles = user_profiles(request)
    chosen = request.session.get(SESSION_KEY)
    for profile in profiles:
        if profile.pk == chosen:
            return profile
    return profiles[0] if profiles else None
