"""Worker side of the tenancy lifecycle. Each task is idempotent: the reconciler re-sends any
that a crash lost, and a second run of one that did finish changes nothing."""

import logging
import shutil
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from domains.models import Domain, RetentionType, SharingType, Space, StudioStatus, UserProfile
from domains.notebooks import culler, servers, warm_pool
from domains.notebooks.access import boot_dir, runtime_dir
from domains.notebooks.volumes import (
    create_domain_volume,
    create_home,
    remove_domain_volume,
    remove_shared_volume,
)
from studio.core.errors import ConflictException
from studio.core.events import publish
from studio.core.lifecycle import transition

log = logging.getLogger(__name__)

# Work older than this in a transient status is assumed lost and is sent again.
STALE_AFTER = timedelta(seconds=30)


def _finish(obj, status: str, *, reason: str = "") -> None:
    try:
        transition(obj, status, reason=reason)
    except ConflictException:
        # Someone moved it on (deleted while provisioning, say); their outcome stands.
        log.info("%s %s already left its transient status", obj.RESOURCE_TYPE, obj.resource_id)


def _waiting(queryset, pk: int, status: str):
    """The row, if it is still in the status its task was sent for (a re-sent task finds it
    moved on, and does nothing)."""
    return queryset.filter(pk=pk, status=status).first()


def _provision(obj, make_volume, what: str) -> None:
    try:
        make_volume()
    except OSError as e:
        _finish(obj, StudioStatus.FAILED, reason=f"Could not create {what}: {e}")
        return
    _finish(obj, StudioStatus.IN_SERVICE)


def _forget(obj) -> None:
    """Delete a row whose deletion is complete, and tell its subscribers."""
    event = obj.event("deleted", status="Deleted")
    with transaction.atomic():
        obj.delete()
        publish(event)


@shared_task
def provision_domain(domain_pk: int) -> None:
    domain = _waiting(Domain.objects, domain_pk, StudioStatus.PENDING)
    if domain is not None:
        _provision(domain, lambda: create_domain_volume(domain.home_volume), "the home volume")


@shared_task
def provision_user_profile(profile_pk: int) -> None:
    profiles = UserProfile.objects.select_related("domain")
    profile = _waiting(profiles, profile_pk, StudioStatus.PENDING)
    if profile is None:
        return

    def make() -> None:
        create_domain_volume(profile.domain.home_volume)
        create_home(profile.home_directory, profile.home_uid)

    _provision(profile, make, "the home directory")


@shared_task
def finish_user_profile_deletion(profile_pk: int) -> None:
    profiles = UserProfile.objects.select_related("domain")
    profile = _waiting(profiles, profile_pk, StudioStatus.DELETING)
    if profile is not None:
        _forget(profile)


@shared_task
def finish_domain_deletion(domain_pk: int) -> None:
    domain = _waiting(Domain.objects, domain_pk, StudioStatus.DELETING)
    if domain is None:
        return
    if domain.home_retention == RetentionType.DELETE:
        try:
            remove_domain_volume(domain.home_volume)
        except OSError as e:
            _finish(domain, StudioStatus.DELETE_FAILED, reason=f"Could not remove the volume: {e}")
            return
    _forget(domain)


@shared_task
def provision_space(space_pk: int) -> None:
    space = _waiting(
        Space.objects.select_related("domain", "owner"), space_pk, StudioStatus.PENDING
    )
    if space is None:
        return

    def make() -> None:
        create_domain_volume(space.domain.home_volume)
        space.home_volume.parent.mkdir(parents=True, exist_ok=True)
        create_home(space.home_volume, space.home_uid)

    _provision(space, make, "the space's volume")


@shared_task
def finish_space_deletion(space_pk: int) -> None:
    space = _waiting(Space.objects.select_related("domain"), space_pk, StudioStatus.DELETING)
    if space is not None:
        # Its files may go with it: no warm server may keep them mounted.
        for app in space.apps.all():
            warm_pool.discard(app)
        # What the platform kept for its server (socket, boot scripts) goes. A private space's
        # home is its owner's, which their other private spaces share: it stays. A shared
        # space's volume is its own, as SageMaker deletes a space's storage with it: kept, it
        # would be handed, files and all, to the next shared space given the same name.
        # rmtree works by descriptors here: links the container left are removed, not followed.
        for directory in (runtime_dir(space), boot_dir(space)):
            shutil.rmtree(directory, ignore_errors=True)
        if space.sharing_type == SharingType.SHARED:
            remove_shared_volume(space.home_volume)
        _forget(space)


@shared_task
def cull_idle_apps() -> list[str]:

    return culler.cull()


@shared_task
def reconcile_apps() -> dict[str, int]:
    """Apps and containers agree after a crash: a running app whose container died is Failed,
    a stop a crash interrupted is finished, a start a crash interrupted is failed, and
    containers of apps that should not run are removed. Running servers are left alone, so
    restarting web, worker or beat never stops a notebook."""
    return servers.reconcile()


@shared_task
def start_app(app_pk: int) -> None:
    servers.start(app_pk)


@shared_task
def stop_app(app_pk: int) -> None:
    servers.stop(app_pk)


@shared_task
def refill_warm_pool() -> dict[str, int]:
    """Keep servers started for the most recently used stopped apps (STUDIO_WARM_POOL_SIZE)."""

    return warm_pool.refill()


@shared_task
def warm_up_app(app_pk: int) -> None:

    warm_pool.warm_up(app_pk)


@shared_task
def reconcile_tenancy() -> int:
    """Re-send the work of domains and profiles stuck in a transient status (a lost message, a
    worker killed mid-task). Returns how many were re-sent."""
    cutoff = timezone.now() - STALE_AFTER
    resent = 0
    for model, pending_task, deleting_task in (
        (Domain, provision_domain, finish_domain_deletion),
        (UserProfile, provision_user_profile, finish_user_profile_deletion),
        (Space, provision_space, finish_space_deletion),
    ):
        stale = model.objects.filter(last_modified_at__lt=cutoff)
        for pk in stale.filter(status=StudioStatus.PENDING).values_list("pk", flat=True):
            pending_task.delay(pk)
            resent += 1
        for pk in stale.filter(status=StudioStatus.DELETING).values_list("pk", flat=True):
            deleting_task.delay(pk)
            resent += 1
    return resent
