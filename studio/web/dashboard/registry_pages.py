"""The model registry in the dashboard: the domain's model package groups, a group's page (its
versions with their approval, who changed it and when, metrics, lineage to the training job
and its datasets, Approve / Reject, Deploy), and Register from a completed training job.
Every read and change goes through `jobs.services.registry`, which decides who may do what; a
page offers only the buttons the service would allow."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from domains.permissions import may
from jobs.models import ModelApprovalStatus, ModelPackage, ModelPackageGroup
from jobs.services import list_datasets
from jobs.services.registry import (
    describe_model_package,
    describe_model_package_group,
    list_model_package_groups,
    list_model_packages,
    model_package_from_training_job,
    update_model_package,
)
from studio.core.errors import AccessDenied, ResourceNotFound, StudioError, ValidationException
from studio.web.dashboard.current import current_profile
from studio.web.dashboard.job_kinds import TRAINING
from studio.web.dashboard.job_pages import current_domain_id, job_or_denied

# What Approve and Reject set, by the button's value.
DECISIONS = {
    "approve": ModelApprovalStatus.APPROVED,
    "reject": ModelApprovalStatus.REJECTED,
}


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    profile = current_profile(request)
    if profile is None:
        return render(request, "dashboard/no_profile.html")
    context: dict[str, Any] = {"profile": profile, "domain": profile.domain}
    try:
        groups = list_model_package_groups(
            request.user, profile.domain.domain_id, sort_order="Descending"
        )
    except AccessDenied as denied:
        context["denied"] = denied.message
    else:
        context["groups"] = list(groups.annotate(version_count=Count("versions")))
    return render(request, "dashboard/registry_list.html", context)


def _group_or_404(request: HttpRequest, name: str) -> ModelPackageGroup | HttpResponse:
    try:
        return describe_model_package_group(request.user, current_domain_id(request), name)
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as denied:
        context = {"denied": denied.message, "what": "model package group"}
        return render(request, "dashboard/jobs_denied.html", context, status=403)


def _who(context: dict[str, Any]) -> str:
    """Who a UserContext names: the profile, or a superuser acting without one."""
    return context.get("UserProfileName") or context.get("IamIdentity", {}).get("PrincipalId", "")


def _version_row(request: HttpRequest, package: ModelPackage, datasets: dict[str, str]) -> dict:
    """A version as its group's page shows it: approval and its last change, metrics, lineage
    (the job's name, and each channel's URI with the domain's dataset of that URI, if any),
    and which buttons its viewer may press."""
    user, domain, owner = request.user, package.domain, package.profile
    changes = list(package.approval_changes.all())
    last = changes[-1] if changes else None
    lineage = package.lineage or {}
    return {
        "package": package,
        "last_change": last,
        "changed_by": _who(last.changed_by) if last else "",
        "job": lineage.get("TrainingJobName", ""),
        "datasets": [
            {**d, "dataset": datasets.get(d["S3Uri"], "")} for d in lineage.get("Datasets", [])
        ],
        "may_decide": may(user, "sagemaker:UpdateModelPackage", domain=domain, owner=owner),
        "may_deploy": may(user, "sagemaker:CreateEndpoint", domain=domain),
        "container": package.containers[0] if package.containers else {},
    }


@login_required
@require_GET
def group_detail(request: HttpRequest, name: str) -> HttpResponse:
    group = _group_or_404(request, name)
    if isinstance(group, HttpResponse):
        return group
    domain_id = group.domain.domain_id
    context: dict[str, Any] = {"group": group, "domain": group.domain}
    try:
        versions = list_model_packages(
            request.user, domain_id, group=group.name, sort_order="Descending"
        ).prefetch_related("approval_changes")
    except AccessDenied as denied:
        context["denied"] = denied.message
        return render(request, "dashboard/registry_detail.html", context)
    try:
        datasets = {d.s3_uri: d.name for d in list_datasets(request.user, domain_id)}
    except AccessDenied:
        datasets = {}
    context["rows"] = [_version_row(request, package, datasets) for package in versions]
    return render(request, "dashboard/registry_detail.html", context)


@login_required
@require_POST
def version_decide(request: HttpRequest, name: str, version: int) -> HttpResponse:
    """Approve or Reject a version (UpdateModelPackage), with an optional description."""
    group = _group_or_404(request, name)
    if isinstance(group, HttpResponse):
        return group
    status = DECISIONS.get(request.POST.get("decision", ""))
    if status is None:
        messages.error(request, "Choose Approve or Reject.")
        return redirect("dashboard:registry_group", name=group.name)
    domain_id = group.domain.domain_id
    try:
        package = describe_model_package(request.user, domain_id, f"{group.name}/{version}")
    except (ResourceNotFound, ValidationException) as e:
        raise Http404(e.message) from e
    except AccessDenied as denied:
        messages.error(request, denied.message)
        return redirect("dashboard:registry_group", name=group.name)
    update: dict[str, Any] = {"ModelPackageArn": package.arn, "ModelApprovalStatus": status}
    description = request.POST.get("description", "").strip()
    if description:
        update["ApprovalDescription"] = description
    try:
        update_model_package(request.user, domain_id, update)
    except StudioError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Version {version} of {group.name} is {status}.")
    return redirect("dashboard:registry_group", name=group.name)


@login_required
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    """Register from a completed training job (its page's button): a version of the group
    named in the form, made if it does not exist yet; a refusal is said on the job's page."""
    job = job_or_denied(request, TRAINING, request.POST.get("job", ""))
    if isinstance(job, HttpResponse):
        return job
    group = request.POST.get("group", "").strip() or job.name
    try:
        package = model_package_from_training_job(
            request.user, job.domain.domain_id, job.name, group, create_group=True
        )
    except StudioError as refused:
        messages.error(request, refused.message)
        return redirect("dashboard:training_job", name=job.name)
    messages.success(
        request,
        f"Registered {job.name} as version {package.version} of {package.group.name}, pending "
        "approval.",
    )
    return redirect("dashboard:registry_group", name=package.group.name)
