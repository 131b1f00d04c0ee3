"""Datasets in the dashboard: the list with its upload form, a dataset's page (preview, column
types, its s3:// URI), downloads and Delete. Every read and change goes through
`jobs.services`, which decides who may do what."""

from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains.models import UserProfile
from domains.permissions import may
from jobs.datasets.uploads import SizeLimitHandler, human_size, too_large
from jobs.models import Dataset
from jobs.services import delete_dataset, describe_dataset, list_datasets, upload_dataset
from jobs.services.datasets import dataset_files, open_dataset_file
from studio.core.errors import (
    AccessDenied,
    ResourceInUse,
    ResourceNotFound,
    StudioError,
    ValidationException,
)
from studio.web.dashboard.current import current_profile
from studio.web.dashboard.forms import in_words


def _list_context(request: HttpRequest, profile: UserProfile) -> dict[str, Any]:
    limit = settings.STUDIO_MAX_UPLOAD_BYTES
    context: dict[str, Any] = {
        "profile": profile,
        "domain": profile.domain,
        "max_bytes": limit,
        "max_label": human_size(limit),
    }
    try:
        context["datasets"] = list(list_datasets(request.user, profile.domain.domain_id))
    except AccessDenied as denied:
        context["denied"] = denied.message
    return context


@csrf_exempt  # checked by _upload, once the size limit is in place (see below)
@login_required
@require_http_methods(["GET", "POST"])
def dataset_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    if request.method == "POST":
        # Upload handlers can only change before the body is read, and the CSRF check reads
        # it: so the check runs after this, in _upload, as Django's upload docs describe.
        limit = SizeLimitHandler(settings.STUDIO_MAX_UPLOAD_BYTES, request)
        request.upload_handlers.insert(0, limit)
        return _upload(request, profile, limit)
    return render(request, "dashboard/datasets.html", _list_context(request, profile))


# The upload form's fields, by the request field the service names: (input name, label).
UPLOAD_FIELDS = {"DatasetName": ("name", "Name"), "File": ("file", "File")}


def _shown_at(error: StudioError) -> tuple[str | None, str]:
    """The upload form's field that shows `error` (None: above the form), and what it says
    there, in words."""
    if isinstance(error, ValidationException) and error.field in UPLOAD_FIELDS:
        field, label = UPLOAD_FIELDS[error.field]
        return field, in_words(error, label)
    if isinstance(error, ResourceInUse) and error.message.startswith("Dataset "):
        return "name", error.message  # the name is taken
    return None, error.message


@csrf_protect
def _upload(request: HttpRequest, profile: UserProfile, limit: SizeLimitHandler) -> HttpResponse:
    """Upload from the form: the page's script sends it with XHR (to show progress) and gets
    JSON; without script the form posts and gets the dataset's page, or this one with the
    error."""
    wants_json = request.headers.get("X-Requested-With") == "XMLHttpRequest"
    name = request.POST.get("name", "").strip()
    try:
        if limit.exceeded:
            raise too_large(limit.exceeded, limit.limit)
        dataset = upload_dataset(
            request.user,
            profile.domain.domain_id,
            name=name,
            uploaded_file=request.FILES.get("file"),
        )
    except StudioError as error:
        status = 403 if isinstance(error, AccessDenied) else 400
        field, message = _shown_at(error)
        if wants_json:
            return JsonResponse({"error": message, "field": field}, status=status)
        context = _list_context(request, profile)
        context.update({"error": message, "error_field": field, "name": name})
        return render(request, "dashboard/datasets.html", context, status=status)
    url = reverse("dashboard:dataset", args=[dataset.domain.domain_id, dataset.name])
    if wants_json:
        return JsonResponse(
            {"url": url, "name": dataset.name, "s3_uri": dataset.s3_uri}, status=201
        )
    return redirect(url)


def _describe_or_404(request: HttpRequest, domain_id: str, name: str) -> Dataset:
    """The dataset if the user may see it; another domain's is "not found", as in the API."""
    try:
        return describe_dataset(request.user, domain_id, name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e


def _denied(request: HttpRequest, denied: AccessDenied) -> HttpResponse:
    return render(request, "dashboard/datasets_denied.html", {"denied": denied.message}, status=403)


@login_required
@require_GET
def dataset_detail(request: HttpRequest, domain_id: str, name: str) -> HttpResponse:
    try:
        dataset = _describe_or_404(request, domain_id, name)
    except AccessDenied as denied:
        return _denied(request, denied)
    files = [{"name": stored.name, "size": stored.size} for stored in dataset_files(dataset)]
    return render(
        request,
        "dashboard/datasets_detail.html",
        {
            "dataset": dataset,
            "domain": dataset.domain,
            "files": files,
            # Whether to offer Delete; the service decides when it is pressed.
            "may_change": may(
                request.user, "studio:DeleteDataset", domain=dataset.domain, owner=dataset.owner
            ),
        },
    )


@login_required
@require_GET
def dataset_download(request: HttpRequest, domain_id: str, name: str, file: str) -> HttpResponse:
    """One of the dataset's files, streamed from the store in blocks."""
    try:
        stream = open_dataset_file(request.user, domain_id, name, file)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as denied:
        return _denied(request, denied)
    return FileResponse(stream, as_attachment=True, filename=PurePosixPath(file).name)


@login_required
@require_POST
def dataset_delete(request: HttpRequest, domain_id: str, name: str) -> HttpResponse:
    try:
        delete_dataset(request.user, domain_id, name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as denied:
        messages.error(request, denied.message)
        return redirect("dashboard:dataset", domain_id=domain_id, name=name)
    messages.success(request, f"Dataset {name} was deleted.")
    return redirect("dashboard:datasets")
