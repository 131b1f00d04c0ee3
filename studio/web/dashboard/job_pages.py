"""The views every kind of job has, made for one kind (a `JobKind`) at a time: its page, Stop,
log downloads and the form that starts one. Each kind's module (`jobs`, `processing`) makes
its views here and gives them only what is its own: what its page shows besides what every
job's page does, and how its form starts a job."""

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any, BinaryIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from domains.permissions import may
from jobs.models import TrainingJobStatus
from jobs.services import job_log_tails, list_datasets, open_job_log
from jobs.services.similar import job_script, next_free_name
from studio.core.errors import AccessDenied, ResourceNotFound, StudioError, ValidationException
from studio.web.dashboard.cost import cost_context
from studio.web.dashboard.current import current_profile
from studio.web.dashboard.forms import JobForm, Similar
from studio.web.dashboard.job_kinds import JobKind

# Both kinds share SageMaker's job statuses.
RUNNING = {TrainingJobStatus.IN_PROGRESS, TrainingJobStatus.STOPPING}
CHUNK_BYTES = 256 * 1024

View = Callable[..., HttpResponse]


def duration(seconds: int | None) -> str:
    """`1 h 02 min`, `3 min 05 s`, `42 s`; empty for a job that has not started."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def elapsed(started: datetime | None, ended: datetime | None) -> int | None:
    """Whole seconds a job has worked: until it ended, or until now while it runs."""
    if started is None:
        return None
    return max(0, int(((ended or timezone.now()) - started).total_seconds()))


def current_domain_id(request: HttpRequest) -> str:
    """The domain the dashboard is showing (the current profile's): job names are unique per
    domain only, so a job's URL (`/jobs/<kind>/<name>/`) names a job of this domain. Empty
    for a user with no profile, whose every job page is then "not found"."""
    profile = current_profile(request)
    return profile.domain.domain_id if profile is not None else ""


def job_or_denied(request: HttpRequest, kind: JobKind, name: str) -> Any:
    """Job `name` of `kind` in the user's current domain if they may describe it; else "not
    found" (another domain's, or none: Http404, as in the API) or the denied page to return."""
    try:
        return kind.describe(request.user, current_domain_id(request), name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as denied:
        context = {"denied": denied.message, "what": kind.label.lower()}
        return render(request, "dashboard/jobs_denied.html", context, status=403)


def job_view(kind: JobKind) -> Callable[[View], View]:
    """Decorate a view of one job of `kind` so that it is called with the job, not its name
    (the URL's `name`), once the signed-in user may see it. The name is looked up in the
    user's current domain: another domain's job is "not found", as in the API, even when it
    shares the name; one of the user's domain that they may not see is the denied page."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def with_job(request: HttpRequest, name: str, **kwargs: Any) -> HttpResponse:
            job = job_or_denied(request, kind, name)
            if isinstance(job, HttpResponse):
                return job
            return view(request, job, **kwargs)

        return with_job

    return decorate


def page_view(
    kind: JobKind,
    template: str,
    context_of: Callable[[Any], dict[str, Any]],
    offers: Mapping[str, tuple[str, ...]] | None = None,
) -> View:
    """The view of a job's page: what every job's page shows (dashboard/job_page.html, which
    `template` extends) and what `context_of(job)` adds for its kind. `offers` names the
    page's buttons that make the viewer's own resources from the job, each with the actions
    its service asks: the page is told (True or False, under that name) whether the viewer's
    policy allows them all in the job's domain, whoever owns the job."""

    @login_required
    @job_view(kind)
    def job_detail(request: HttpRequest, job: Any) -> HttpResponse:
        started, ended = getattr(job, kind.start_field), getattr(job, kind.end_field)
        seconds = elapsed(started, ended)
        billable = None if seconds is None else seconds * job.instance_count
        context = {
            "kind": kind,
            "job": job,
            "logs": job_log_tails(job),
            "started": started,
            "ended": ended,
            **cost_context(job.instance_type, billable),
            "elapsed_time": duration(seconds),
            "billable_time": duration(billable),
            "now": timezone.now(),
            "running": job.status in RUNNING,
            "can_stop": job.status == TrainingJobStatus.IN_PROGRESS,
            # Offered only to whom the service would let stop it.
            "may_stop": may(
                request.user,
                f"sagemaker:Stop{kind.resource_type}",
                domain=job.domain,
                owner=job.profile,
            ),
        }
        for name, actions in (offers or {}).items():
            context[name] = all(may(request.user, a, domain=job.domain) for a in actions)
        return render(request, template, context | context_of(job))

    return job_detail


def stop_view(kind: JobKind) -> View:
    """The view that stops a job of `kind` for the signed-in user and says how it went on the
    job's page."""

    @login_required
    @require_POST
    def job_stop(request: HttpRequest, name: str) -> HttpResponse:
        try:
            kind.stop(request.user, current_domain_id(request), name)
        except ResourceNotFound as e:
            raise Http404(e.message) from e
        except StudioError as e:
            # AccessDenied (not the owner), or a job that is no longer InProgress.
            messages.error(request, e.message)
        else:
            messages.success(request, f"Stopping {name}: the container gets SIGTERM, then SIGKILL.")
        return redirect(kind.page_view, name=name)

    return job_stop


async def _chunks(f: BinaryIO, size: int) -> AsyncIterator[bytes]:
    """`size` bytes of `f` in chunks, read in a thread: the event loop keeps serving while
    the disk works, and memory stays at one chunk however large the file. A log still being
    written is cut at the length the response announced."""
    try:
        while size > 0:
            chunk = await asyncio.to_thread(f.read, min(CHUNK_BYTES, size))
            if not chunk:
                break
            size -= len(chunk)
            yield chunk
    finally:
        f.close()


def download(
    stream: BinaryIO, size: int, filename: str, content_type: str
) -> StreamingHttpResponse:
    """A download of the first `size` bytes of `stream`."""
    response = StreamingHttpResponse(_chunks(stream, size), content_type=content_type)
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def log_view(kind: JobKind) -> View:
    """The view that downloads one host's whole log of a job of `kind`, for those who may see
    the job."""

    @login_required
    @require_http_methods(["GET", "HEAD"])
    @job_view(kind)
    def job_log(request: HttpRequest, job: Any, host: str) -> HttpResponse:
        try:
            opened = open_job_log(job, host)
        except ResourceNotFound as e:
            raise Http404(e.message) from e
        return download(*opened, f"{job.name}-{host}.log", "text/plain; charset=utf-8")

    return job_log


def _similar(request: HttpRequest, kind: JobKind, name: str) -> Similar | HttpResponse:
    """Job `name` of the user's current domain to start a form from, if they may describe it:
    else "not found" (another domain's, or none), or the denied page."""
    job = job_or_denied(request, kind, name)
    if isinstance(job, HttpResponse):
        return job
    return Similar(job, next_free_name(job), job_script(job))


def form_view(kind: JobKind, form_class: type[JobForm], template: str) -> View:
    """The view of the form that starts a job of `kind` in the user's current domain (the
    `template` extends dashboard/job_form.html): the valid form's request and script go to
    the kind's create service, whose refusal is shown on the form. `?from=<name>` starts it
    from that job's settings and script (Start similar)."""

    @login_required
    def job_new(request: HttpRequest) -> HttpResponse:
        profile = current_profile(request)
        if profile is None:
            return render(request, "dashboard/no_profile.html")
        domain = profile.domain
        try:
            datasets = list(list_datasets(request.user, domain.domain_id))
        except AccessDenied:
            datasets = []  # the URI field still works, and creating the job says what is denied
        similar = None
        if request.GET.get("from"):
            similar = _similar(request, kind, request.GET["from"])
            if isinstance(similar, HttpResponse):
                return similar
        form = form_class(
            request.POST or None,
            request.FILES or None,
            domain=domain,
            datasets=datasets,
            similar=similar,
        )
        if request.method == "POST" and form.is_valid():
            try:
                job = kind.create(request.user, domain.domain_id, form.request(), code=form.code())
            except StudioError as refused:
                form.show_error(refused)
            else:
                messages.success(request, f"{kind.label} {job.name} was created.")
                return redirect(kind.page_view, name=job.name)
        return render(request, template, {"kind": kind, "form": form, "domain": domain})

    return job_new
