"""Template context every page gets: the signed-in user's profiles, the one in use, and the
container runtime that is active (`docker` or `sandbox`)."""

from django.http import HttpRequest

from studio.dashboard.current import current_profile, user_profiles
from studio.runtime import runtime_name


def studio(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "profiles": user_profiles(request),
        "current_profile": current_profile(request),
        # Cheap: `auto` costs one Docker ping per process, which studio.runtime caches.
        "active_runtime": runtime_name(),
    }
