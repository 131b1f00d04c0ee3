"""Template context every page gets: the signed-in user's profiles and the one in use."""

from django.http import HttpRequest

from studio.dashboard.current import current_profile, user_profiles


def studio(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"profiles": user_profiles(request), "current_profile": current_profile(request)}
