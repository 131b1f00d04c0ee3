"""Containers and the database agree after a crash: a worker SIGKILLed mid-job leaves its job
to be re-adopted (container alive) or failed (container gone), never stuck InProgress."""

import time

import pytest

from jobs.services import create_training_job
from jobs.tasks import reconcile_jobs
from studio.core.runtime import ContainerSpec, get_runtime
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME
from tests.integration.conftest import put_sourcedir
from tests.integration.training import ENDED, script_request, training_started

pytestmark = pytest.mark.usefixtures("live")

SLOW = """
import os, time
print("started", flush=True)
time.sleep(8)
open(os.path.join(os.environ["SM_MODEL_DIR"], "done.txt"), "w").write("yes")
print("finished", flush=True)
"""


def _resolve_like_beat(job, timeout: float = 60):
    """Run the reconciler every 2 s, as beat does every 10 s, until the job ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in ENDED:
            return job
        reconcile_jobs.delay()
        time.sleep(2)
    pytest.fail(f"{job.name} still {job.status} after {timeout}s")


def test_a_running_job_is_readopted_after_its_worker_is_killed(
    runtime, alice, alice_profile, data, tmp_path, celery_worker
):
    source = put_sourcedir("s3://research-code/slow/sourcedir.tar.gz", {"train.py": SLOW}, tmp_path)
    job = create_training_job(
        alice, alice_profile.domain.domain_id, script_request("survivor", source)
    )
    training_started(job)
    celery_worker.kill()
    celery_worker.start()
    job = _resolve_like_beat(job)
    assert job.status == "Completed", job.failure_reason
    assert job.model_artifacts.endswith("survivor/output/model.tar.gz")


def test_a_job_whose_container_vanished_fails_with_a_reason(
    runtime, alice, alice_profile, data, tmp_path, celery_worker
):
    source = put_sourcedir("s3://research-code/gone/sourcedir.tar.gz", {"train.py": SLOW}, tmp_path)
    job = create_training_job(
        alice, alice_profile.domain.domain_id, script_request("vanisher", source)
    )
    training_started(job)
    celery_worker.kill()
    backend = get_runtime(runtime)
    for container_id in job.runtime_state["containers"].values():
        backend.stop(container_id, timeout=0)
        backend.remove(container_id)
    celery_worker.start()
    job = _resolve_like_beat(job)
    assert job.status == "Failed"
    assert "vanished" in job.failure_reason


def test_orphan_containers_are_removed(runtime):
    backend = get_runtime(runtime)
    container_id = backend.start(
        ContainerSpec(
            name=f"orphan-{runtime}-{time.monotonic_ns()}",
            image="studio/sklearn:latest",
            command=["sleep", "300"],
            labels={LABEL_KIND: "TrainingJob", LABEL_NAME: "no-such-job"},
        )
    )
    assert container_id in {c.id for c in backend.list_managed()}
    assert reconcile_jobs()["removed"] >= 1
    assert container_id not in {c.id for c in backend.list_managed()}


def test_retry_strategy_restarts_a_job_whose_container_vanished(
    runtime, alice, alice_profile, data, tmp_path, celery_worker
):
    source = put_sourcedir(
        "s3://research-code/retry/sourcedir.tar.gz", {"train.py": SLOW}, tmp_path
    )
    spec = script_request("retried", source, RetryStrategy={"MaximumRetryAttempts": 1})
    job = create_training_job(alice, alice_profile.domain.domain_id, spec)
    training_started(job)
    # The container is lost while nobody watches (as with its host), so it is seen as gone.
    celery_worker.kill()
    backend = get_runtime(runtime)
    for container_id in job.runtime_state["containers"].values():
        backend.remove(container_id)
    celery_worker.start()
    job = _resolve_like_beat(job, timeout=90)
    assert job.status == "Completed", job.failure_reason
    assert job.attempt == 2
    assert "Restarting" in [t["Status"] for t in job.secondary_status_transitions]
