"""Spaces in the dashboard: the list of the profile's spaces with the form that creates one,
and a space's page: a launcher that starts JupyterLab (following its progress) and opens it in
a tab of its own, on the space's own origin (docs/notebooks.md), beside the space's status,
instance type, idle timer and cost so far, with Stop, Restart and Delete. The create form sets
the instance type the space's JupyterLab starts on. Every read and change goes through
`domains.services`, which decides who may do what; a page offers only the buttons its viewer
may press (`domains.permissions.may`).

The API keeps SageMaker's App statuses; the dashboard says them in words a user reads right
(APP_STATUS_LABELS): an app stopped by DeleteApp is "Deleted" there, which reads as if the
space's files were gone, while they are kept."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from domains.models import (
    STOPPED_BY_ADMIN,
    App,
    AppStatus,
    SharingType,
    Space,
    UserProfile,
    WarmServer,
)
from domains.notebooks.access import proxy_prefix
from domains.permissions import may
from domains.services import (
    create_app,
    create_space,
    delete_app,
    delete_space,
    describe_app,
    describe_space,
    list_apps,
    list_spaces,
    list_user_profiles,
)
from domains.services.apps import DEFAULT_INSTANCE_TYPE
from domains.services.spaces import INSTANCE_TYPE_PATH, allowed_instance_types, update_space
from domains.user_settings import default_instance_type, idle_timeout_minutes, merge_user_settings
from studio.core.errors import (
    AccessDenied,
    ResourceNotFound,
    StudioError,
    ValidationException,
)
from studio.web.dashboard.cost import cost_context
from studio.web.dashboard.current import current_profile
from studio.web.dashboard.forms import in_words, instance_type_choices

# Only Studio's own pages may frame the space page.
FRAME_ANCESTORS = "frame-ancestors 'self'"
RUNNING = {AppStatus.PENDING, AppStatus.IN_SERVICE}
# An app in these runs on the type it was started on, whatever the space says now.
HOLDING = RUNNING | {AppStatus.DELETING}
# What the dashboard calls each App status; every App badge says these words, and live.js
# turns a live status into them from the badge's data-status-labels. data-status keeps the
# API's value (styles and scripts key on it).
APP_STATUS_LABELS: dict[str, str] = {
    AppStatus.PENDING.value: "Starting",
    AppStatus.IN_SERVICE.value: "Running",
    AppStatus.DELETING.value: "Stopping",
    AppStatus.DELETED.value: "Stopped",
    AppStatus.FAILED.value: "Failed",
}
APP_STATUS_LABELS_JSON = json.dumps(APP_STATUS_LABELS)
# A space whose app was never created: no API status, the same word as its label.
NOT_STARTED = "Not started"
# Where a request path the service names is shown on the form.
FIELD_OF_PATH = {
    "SpaceName": "name",
    "SpaceSharingSettings.SharingType": "sharing_type",
    "Members": "members",
    INSTANCE_TYPE_PATH: "instance_type",
}


class SpaceForm(forms.Form):
    name = forms.CharField(
        label="Space name",
        max_length=63,
        help_text="Letters, digits and hyphens; it names the space's URL.",
    )
    sharing_type = forms.ChoiceField(
        label="Sharing",
        choices=SharingType.choices,
        initial=SharingType.PRIVATE,
        widget=forms.RadioSelect,
        help_text="A private space works in your home directory; a shared one has its own "
        "volume, open to its members.",
    )
    members = forms.MultipleChoiceField(
        label="Members",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only for a shared space: who else may open it.",
    )
    # A plain value under a select of the allowed types: CreateSpace decides what may be run,
    # and says why a type may not, next to this field. Left out, the space starts on the
    # profile's default.
    instance_type = forms.CharField(
        label="Instance type",
        required=False,
        widget=forms.Select,
        help_text="What its JupyterLab runs on, billed by the hour while it runs.",
    )

    def __init__(
        self,
        *args: Any,
        member_names: list[str],
        instance_types: list[str],
        default_type: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [(n, n) for n in member_names]
        allowed = set(instance_types)
        self.fields["instance_type"].widget.choices = [
            choice for choice in instance_type_choices() if choice[0] in allowed
        ]
        if default_type in allowed:
            self.fields["instance_type"].initial = default_type

    def space_settings(self) -> dict[str, Any] | None:
        """The chosen type, where SageMaker keeps a space's: the app starts on it."""
        chosen = self.cleaned_data["instance_type"]
        if not chosen:
            return None
        return {"JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": chosen}}}

    def show_error(self, error: StudioError) -> None:
        """The service's refusal, next to the field it is about (or above the form), in words."""
        if not isinstance(error, ValidationException):
            taken = error.message.startswith(f"Space {self.cleaned_data['name']} already exists")
            self.add_error("name" if taken else None, error.message)
            return
        field = FIELD_OF_PATH.get(error.field or "")
        self.add_error(field, in_words(error, self.fields[field].label if field else ""))


def _member_names(request: HttpRequest, profile: UserProfile) -> list[str]:
    """Who else in the domain could be a member; none when the profile may not list them
    (a shared space without members can still be created)."""
    try:
        profiles = list_user_profiles(request.user, profile.domain.domain_id)
    except AccessDenied:
        return []
    return [p.name for p in profiles if p.pk != profile.pk]


def app_badge(app: App | None) -> dict[str, str]:
    """What an App badge shows: the API's status (data-status), the dashboard's word for it,
    and the words for the statuses it may turn to live."""
    status = app.status if app is not None else NOT_STARTED
    return {
        "app_status": status,
        "app_status_label": APP_STATUS_LABELS.get(status, status),
        "app_status_labels": APP_STATUS_LABELS_JSON,
    }


def profile_default_instance_type(profile: UserProfile) -> str:
    """What a new space of `profile`'s starts on unless it names a type: CreateApp's default."""
    settings = merge_user_settings(profile.domain.default_user_settings, profile.user_settings)
    return default_instance_type(settings) or DEFAULT_INSTANCE_TYPE


def planned_instance_type(space: Space, app: App | None) -> str:
    """What the app runs on, or will run on when started next: the same defaults CreateApp
    uses (a stopped app's last type is not its next one once the space's has changed)."""
    if app is not None and app.status in HOLDING and app.resource_spec.get("InstanceType"):
        return app.resource_spec["InstanceType"]
    space_spec = (space.space_settings.get("JupyterLabAppSettings") or {}).get(
        "DefaultResourceSpec", {}
    )
    return space_spec.get("InstanceType") or profile_default_instance_type(space.owner)


@login_required
def space_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    domain_id = profile.domain.domain_id
    form = SpaceForm(
        request.POST or None,
        member_names=_member_names(request, profile),
        instance_types=allowed_instance_types(profile),
        default_type=profile_default_instance_type(profile),
    )
    if request.method == "POST" and form.is_valid():
        try:
            space = create_space(
                request.user,
                domain_id,
                name=form.cleaned_data["name"],
                sharing_type=form.cleaned_data["sharing_type"],
                members=form.cleaned_data["members"],
                space_settings=form.space_settings(),
            )
        except StudioError as refused:
            form.show_error(refused)
        else:
            messages.success(
                request,
                f"Space {space.name} was created to run on {planned_instance_type(space, None)}; "
                "it is ready to open in a moment.",
            )
            return redirect("dashboard:spaces")
    context: dict[str, Any] = {"profile": profile, "domain": profile.domain, "form": form}
    try:
        spaces = list(list_spaces(request.user, domain_id).prefetch_related("members"))
        apps = {app.space_id: app for app in list_apps(request.user, domain_id)}
    except AccessDenied as denied:
        context["denied"] = denied.message
    else:
        context["rows"] = [
            {
                "space": space,
                "app": apps.get(space.pk),
                "instance_type": planned_instance_type(space, apps.get(space.pk)),
                **app_badge(apps.get(space.pk)),
            }
            for space in spaces
        ]
    return render(request, "dashboard/spaces_list.html", context)


def _space_or_404(request: HttpRequest, space_name: str) -> tuple[UserProfile, Space]:
    """The space if the user may see it; another user's space is "not found", as in the API.
    AccessDenied (the user's own policies forbid it) is left to the caller."""
    profile = current_profile(request)
    if profile is None:
        raise Http404("You have no user profile.")
    try:
        return profile, describe_space(request.user, profile.domain.domain_id, space_name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e


def _app_or_none(request: HttpRequest, space: Space) -> App | None:
    try:
        return describe_app(request.user, space.domain.domain_id, space.name)
    except ResourceNotFound:
        return None


@dataclass
class Session:
    """The app's latest run: since its InService transition, until it left InService."""

    since: datetime
    until: datetime | None

    def seconds(self, now: datetime) -> int:
        return max(0, int(((self.until or now) - self.since).total_seconds()))


def latest_session(app: App) -> Session | None:
    in_service = app.transitions().filter(to_status=AppStatus.IN_SERVICE).last()
    if in_service is None:
        return None
    ended = app.transitions().filter(pk__gt=in_service.pk).first()
    return Session(in_service.at, None if ended is None else ended.at)


def _pane(app: App | None) -> str:
    """What the main area shows: the link that opens the running lab, a start in progress, a
    stop in progress, why the last start failed, or the button that starts one."""
    if app is None:
        return "start"
    return {
        AppStatus.IN_SERVICE: "lab",
        AppStatus.PENDING: "starting",
        AppStatus.DELETING: "stopping",
        AppStatus.FAILED: "failed",
    }.get(app.status, "start")


def _type_choices(request: HttpRequest, space: Space) -> list[tuple[str, str]]:
    """The types the space may be set to run on, as the create form lists them; none for a
    viewer who may not change it."""
    if not may(
        request.user,
        "sagemaker:UpdateSpace",
        domain=space.domain,
        owner=space.owner,
        space_id=space.pk,
    ):
        return []
    allowed = set(allowed_instance_types(space.owner))
    return [choice for choice in instance_type_choices() if choice[0] in allowed]


def _space_context(request: HttpRequest, space: Space, app: App | None) -> dict[str, Any]:
    domain_id = space.domain.domain_id
    instance_type = planned_instance_type(space, app)
    settings = merge_user_settings(space.domain.default_user_settings, space.owner.user_settings)
    now = timezone.now()
    session = latest_session(app) if app is not None else None
    seconds = session.seconds(now) if session else None
    # The last session is priced at the type it ran on, which the space may have changed since.
    session_type = (app.resource_spec.get("InstanceType") if app else None) or instance_type
    deletable = app is None or app.status in (AppStatus.DELETED, AppStatus.FAILED)
    return {
        "space": space,
        "app": app,
        "app_id": f"{domain_id}/{space.name}/JupyterLab/default",
        **app_badge(app),
        "pane": _pane(app),
        "running": app is not None and app.status in RUNNING,
        "in_service": app is not None and app.status == AppStatus.IN_SERVICE,
        "can_start": app is None or app.status in (AppStatus.DELETED, AppStatus.FAILED),
        "stopped": app is not None and app.status == AppStatus.DELETED,
        "stopped_idle": app is not None
        and app.status == AppStatus.DELETED
        and app.stopped_reason == "idle",
        "stopped_by_admin": app is not None
        and app.status == AppStatus.DELETED
        and app.stopped_reason == STOPPED_BY_ADMIN,
        # A warm-pool server waits for this app: opening it takes well under a second.
        "warm": app is not None and WarmServer.objects.filter(app=app, ready=True).exists(),
        "instance_type": instance_type,
        # Delete: for the owner or an admin (not a shared space's other members); while the
        # app runs the button stays, disabled, saying to stop it first (DeleteSpace would
        # refuse).
        "may_delete": may(
            request.user,
            "sagemaker:DeleteSpace",
            domain=space.domain,
            owner=space.owner,
            space_id=space.pk,
        ),
        "deletable": deletable,
        # Its type, changed while JupyterLab is stopped (the same rule as Delete's): for the
        # owner or an admin, among the types the owner may run.
        "instance_type_choices": _type_choices(request, space) if deletable else [],
        **cost_context(instance_type, None),
        "cost": cost_context(session_type, seconds)["cost"],
        "idle_timeout": idle_timeout_minutes(settings),
        "session": session,
        "session_seconds": seconds,
        # On Studio's host: it hands the browser over to the space's own host.
        "lab_url": proxy_prefix(domain_id, space.name) + "lab",
        "now": now,
    }


@login_required
def space_detail(request: HttpRequest, space_name: str) -> HttpResponse:
    try:
        profile, space = _space_or_404(request, space_name)
        app = _app_or_none(request, space)
    except AccessDenied as denied:
        return render(
            request, "dashboard/spaces_denied.html", {"denied": denied.message}, status=403
        )
    context = {"profile": profile, **_space_context(request, space, app)}
    if request.GET.get("restart") == "1" and context["pane"] == "stopping":
        # Restart of a running app: the page starts it again once the stop has finished.
        context["restart"] = True
    response = render(request, "dashboard/spaces_detail.html", context)
    response["Content-Security-Policy"] = FRAME_ANCESTORS
    return response


def _space_url(space_name: str, **query: str) -> str:
    url = reverse("dashboard:space", kwargs={"space_name": space_name})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@login_required
@require_POST
def space_start(request: HttpRequest, space_name: str) -> HttpResponse:
    """Open JupyterLab: start the space's app, then watch it come up on the space's page."""
    profile, space = _space_or_404(request, space_name)
    try:
        create_app(request.user, profile.domain.domain_id, space_name=space.name)
    except StudioError as e:
        # AccessDenied, ResourceLimitExceeded, an app already running, a space not ready.
        messages.error(request, e.message)
    return redirect(_space_url(space.name))


@login_required
@require_POST
def space_stop(request: HttpRequest, space_name: str) -> HttpResponse:
    profile, space = _space_or_404(request, space_name)
    try:
        delete_app(request.user, profile.domain.domain_id, space.name)
    except StudioError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "Stopping JupyterLab. Your files are kept.")
    return redirect(_space_url(space.name))


@login_required
@require_POST
def space_restart(request: HttpRequest, space_name: str) -> HttpResponse:
    """A running app is stopped, and its page starts it again when the stop has finished (a
    stopping app cannot be started); a stopped or failed one is started at once."""
    profile, space = _space_or_404(request, space_name)
    domain_id = profile.domain.domain_id
    try:
        app = _app_or_none(request, space)
        if app is not None and app.status in RUNNING:
            delete_app(request.user, domain_id, space.name)
            return redirect(_space_url(space.name, restart="1"))
        create_app(request.user, domain_id, space_name=space.name)
    except StudioError as e:
        messages.error(request, e.message)
    return redirect(_space_url(space.name))


@login_required
@require_POST
def space_delete(request: HttpRequest, space_name: str) -> HttpResponse:
    """DeleteSpace; refused (and said so on the space's page) while its JupyterLab runs."""
    profile, space = _space_or_404(request, space_name)
    try:
        delete_space(request.user, profile.domain.domain_id, space.name)
    except StudioError as e:
        messages.error(request, e.message)
        return redirect(_space_url(space.name))
    messages.success(request, f"Space {space.name} is being deleted.")
    return redirect("dashboard:spaces")


@login_required
@require_POST
def space_instance_type(request: HttpRequest, space_name: str) -> HttpResponse:
    """UpdateSpace with the type its JupyterLab is to start on next."""
    profile, space = _space_or_404(request, space_name)
    chosen = request.POST.get("instance_type", "")
    try:
        update_space(
            request.user,
            profile.domain.domain_id,
            space.name,
            space_settings={
                "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": chosen}}
            },
        )
    except StudioError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"JupyterLab in {space.name} starts on {chosen} from now on.")
    return redirect(_space_url(space.name))
