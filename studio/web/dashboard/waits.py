"""What a JupyterLab start waits for, in words, for the space page's progress line until the
worker's first step arrives: no worker at all (something only an admin can fix), the starts
queued ahead of it, or what keeps every worker slot busy. Jobs never appear ahead of a start:
starts have a queue of their own that workers read first (studio/core/queue.py)."""

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from domains.services import describe_app_start_wait
from studio.core.errors import AccessDenied, ResourceNotFound, ValidationException
from studio.core.queue import Wait
from studio.web.dashboard.current import current_profile

# What a worker slot is busy with, as a user would say it: (one, several).
TASK_WORDS = {
    "domains.tasks.start_app": ("a JupyterLab start", "JupyterLab starts"),
    "domains.tasks.stop_app": ("a JupyterLab stop", "JupyterLab stops"),
    "domains.tasks.provision_space": ("a new space", "new spaces"),
    "jobs.tasks.run_training_job": ("a training job starting", "training jobs starting"),
    "jobs.tasks.run_processing_job": ("a processing job starting", "processing jobs starting"),
}
OTHER_WORK = ("a housekeeping task", "housekeeping tasks")


def _busy_with(running: list[str]) -> str:
    counts = Counter(TASK_WORDS.get(name, OTHER_WORK) for name in running)
    parts = [f"{n} {words[1]}" if n > 1 else words[0] for words, n in counts.most_common()]
    return ", ".join(parts)


def _starts_ahead(ahead: int) -> str:
    return f"{ahead} start{'' if ahead == 1 else 's'} ahead of yours"


def wait_in_words(wait: Wait) -> tuple[str, str]:
    """(state, sentence): state is one of no-worker, queued, next, picked-up."""
    if wait.workers == 0:
        queued = f" ({_starts_ahead(wait.ahead)})" if wait.ahead else ""
        return "no-worker", (
            "No Studio worker is running, so nothing can start. Ask your admin to start the "
            f"worker (`studio up` runs it); your start goes ahead as soon as one runs{queued}."
        )
    if wait.ahead is None:
        return "picked-up", "A worker has taken the start; the container comes next…"
    busy = ""
    if wait.running and len(wait.running) >= wait.slots:
        busy = f" All {wait.slots} worker slots are busy: {_busy_with(wait.running)}."
    if wait.ahead == 0:
        return "next", f"Next in line for a worker.{busy}"
    return "queued", f"{_starts_ahead(wait.ahead).capitalize()} in the queue.{busy}"


@login_required
@require_GET
def space_start_wait(request: HttpRequest, space_name: str) -> JsonResponse:
    """{"state", "text", "ahead"} for the space's pending start; state "none" when its app is
    not starting. Polled by spaces.js."""
    profile = current_profile(request)
    if profile is None:
        raise Http404("You have no user profile.")
    try:
        wait = describe_app_start_wait(request.user, profile.domain.domain_id, space_name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as e:
        return JsonResponse({"state": "denied", "text": e.message, "ahead": None}, status=403)
    if wait is None:
        return JsonResponse({"state": "none", "text": "", "ahead": None})
    state, text = wait_in_words(wait)
    return JsonResponse({"state": state, "text": text, "ahead": wait.ahead})
