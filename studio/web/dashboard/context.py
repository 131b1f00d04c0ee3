"""Template context every page gets: the signed-in user's profiles, the one in use, and the
container runtime that is active (`docker` or `sandbox`)."""

from django.http import HttpRequest

from studio.core.runtime import runtime_name
from studio.web.dashboard.current import current_profile, user_profiles


def studio(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "profiles": user_profiles(request),
        "current_profile": current_profile(request),
        # Cheap: `auto` costs one Docker ping per process, which studio.core.runtime caches.
        "active_runtime": runtime_name(),
    }
