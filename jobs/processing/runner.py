"""Runs one processing job: inputs copied in, the container run with its inputs and outputs
under /opt/ml/processing/, outputs copied to their S3Uri and kept as datasets.

As for training, the worker builds each host's tree as root before the container runs, and
afterwards touches it only through the confined helper (docs/security.md, "The rule")."""

import json
import logging
import shutil
import time
from datetime import timedelta

from django.utils import timezone

from jobs import execution
from jobs.models import ProcessingJob, TrainingJobStatus
from jobs.processing.workspace import job_dir
from jobs.services.datasets import register_dataset
from jobs.training.logs import LogSink, log_path
from jobs.training.workspace import copy_in, hosts, identity, own
from metering.catalog import InstanceType
from studio.core.errors import ConflictException, StudioError
from studio.core.leases import Lease
from studio.core.lifecycle import transition
from studio.core.runtime import ContainerError, ContainerSpec, Mount, Runtime, get_runtime
from studio.core.storage import confined
from studio.core.storage.paths import safe_join

log = logging.getLogger(__name__)


def _tree(job: ProcessingJob, host: str) -> confined.Tree:
    return confined.Tree(job_dir(job.domain.domain_id, job.name) / host, *identity(job.profile))


def _prepare(job: ProcessingJob, host: str, all_hosts: list[str]) -> list[Mount]:
    """One host's directories, and the mounts that put them where the request says."""
    tree = _tree(job, host)
    root = tree.root
    if root.exists():
        shutil.rmtree(root)  # fd-based: it does not follow links a container left
    config = root / "config"
    config.mkdir(parents=True)
    (config / "processingjobconfig.json").write_text(json.dumps(job.request, indent=2))
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": host, "hosts": all_hosts})
    )
    mounts = [Mount(config, "/opt/ml/config", read_only=True)]
    for item in job.request.get("ProcessingInputs", []):
        target = safe_join(root / "inputs", item["InputName"], "ProcessingInputs.InputName")
        target.mkdir(parents=True)
        copy_in(item["S3Input"]["S3Uri"], target, "ProcessingInputs.S3Input.S3Uri")
        mounts.append(Mount(target, item["S3Input"]["LocalPath"], read_only=True))
    for item in _outputs(job):
        target = safe_join(root / "outputs", item["OutputName"], "ProcessingOutputs.OutputName")
        target.mkdir(parents=True)
        own(target, tree)
        mounts.append(Mount(target, item["S3Output"]["LocalPath"]))
    (root / "output").mkdir()
    own(root / "output", tree)
    mounts.append(Mount(root / "output", "/opt/ml/output"))
    return mounts


def _outputs(job: ProcessingJob) -> list[dict]:
    return job.request.get("ProcessingOutputConfig", {}).get("Outputs", [])


def _spec(job: ProcessingJob, host: str, mounts: list[Mount]) -> ContainerSpec:
    app = job.request["AppSpecification"]
    uid, gid = identity(job.profile)
    cpus, memory = InstanceType.objects.get(name=job.instance_type).container_limits()
    return ContainerSpec(
        name=execution.container_name("proc", job, host),
        # As resolved when the job was accepted; jobs from before that was stored run theirs.
        image=job.runtime_state.get("image", app["ImageUri"]),
        command=list(app.get("ContainerEntrypoint") or [])
        + list(app.get("ContainerArguments") or []),
        # The profile's uid has no home in the image: give the job a writable one.
        env={"HOME": "/tmp", **job.request.get("Environment", {}), "PROCESSING_JOB_NAME": job.name},
        mounts=mounts,
        user=f"{uid}:{gid}",
        cpus=cpus,
        memory_bytes=memory,
        network="none",
        labels=execution.job_labels(job, host),
    )


def run(job_pk: int) -> None:
    """Start the job, or resume watching it after its watcher was lost; a no-op while another
    worker holds its lease."""
    execution.begin(ProcessingJob, job_pk, _step)


def poll(job_pk: int, token: str) -> None:
    """One poll of a running job, by whoever holds the lease `token` names."""
    execution.resume(ProcessingJob, job_pk, token, _step)


def _step(job: ProcessingJob, lease: Lease) -> None:
    """Start the job if it has no containers, poll it once, and either schedule the next poll
    (the lease stays held) or finish it."""
    try:
        runtime = get_runtime(job.runtime_state.get("runtime"))
        if not job.runtime_state.get("containers"):
            if job.status == TrainingJobStatus.STOPPING:
                _end(job, TrainingJobStatus.STOPPED)
                return
            if not _start(job, runtime):
                return
        containers: dict[str, str] = job.runtime_state["containers"]
        sinks = {
            h: LogSink(job, h, log_path(job_dir(job.domain.domain_id, job.name), h), None, cid)
            for h, cid in containers.items()
        }
        max_runtime = job.request["StoppingCondition"]["MaxRuntimeInSeconds"]
        deadline = job.processing_start_time + timedelta(seconds=max_runtime)
        result = execution.poll(
            job,
            runtime,
            containers,
            sinks,
            deadline,
            over_volume=lambda: execution.volume_problem(
                job,
                [_tree(job, host).root for host in containers],
                job.request["ProcessingResources"]["ClusterConfig"].get("VolumeSizeInGB", 30),
            ),
        )
        if result is None:
            execution.poll_later(
                "jobs.tasks.poll_processing_job", job, lease, job.processing_start_time
            )
            lease = None  # handed on to the next poll
            return
        _finish(job, runtime, result, sinks)
    finally:
        if lease is not None:
            lease.release()


def _start(job: ProcessingJob, runtime: Runtime) -> bool:
    all_hosts = hosts(job.instance_count)
    try:
        prepared = {h: _prepare(job, h, all_hosts) for h in all_hosts}
    except (OSError, StudioError, confined.Refused) as e:
        _end(job, TrainingJobStatus.FAILED, f"ClientError: could not prepare the inputs: {e}")
        return False
    job.runtime_state = {**job.runtime_state, "runtime": runtime.name, "containers": {}}
    job.processing_start_time = timezone.now()
    job.save(update_fields=["runtime_state", "processing_start_time"])
    for host, mounts in prepared.items():
        try:
            container_id = runtime.start(_spec(job, host, mounts))
        except ContainerError as e:
            execution.stop_all(runtime, job.runtime_state["containers"])
            _end(job, TrainingJobStatus.FAILED, f"ClientError: {e}")
            return False
        job.runtime_state["containers"][host] = container_id
        job.runtime_state.setdefault("started_at", {})[host] = time.time()
        job.save(update_fields=["runtime_state"])
    return True


def _finish(
    job: ProcessingJob,
    runtime: Runtime,
    result: execution.WatchResult,
    sinks: dict[str, LogSink],
) -> None:
    containers: dict[str, str] = job.runtime_state["containers"]
    max_runtime = job.request["StoppingCondition"]["MaxRuntimeInSeconds"]
    job.processing_end_time = timezone.now()
    job.exit_message = confined.read_text(_tree(job, "algo-1"), "output/message", 1024)
    job.save(update_fields=["processing_end_time", "exit_message"])
    execution.remove_all(runtime, containers)
    if result.ended_by == execution.VANISHED:
        _end(
            job,
            TrainingJobStatus.FAILED,
            f"InternalServerError: the container of {', '.join(result.missing_hosts())} "
            "vanished (removed outside Studio, or lost with its host).",
        )
    elif result.ended_by == execution.STOPPED:
        _end(job, TrainingJobStatus.STOPPED)
    elif result.ended_by == execution.VOLUME:
        _end(job, TrainingJobStatus.FAILED, result.reason)
    elif result.ended_by == execution.MAX_RUNTIME:
        _end(
            job,
            TrainingJobStatus.FAILED,
            f"MaxRuntimeExceeded: the job ran longer than {max_runtime} seconds.",
        )
    elif result.failed_hosts():
        host = result.failed_hosts()[0]
        status = result.statuses[host]
        if status.oom_killed:
            reason = f"OutOfMemory: {host} ran out of memory on {job.instance_type}."
        else:
            tail = "\n".join(sinks[host].tail)
            reason = (
                f"AlgorithmError: {job.exit_message or f'exit code {status.exit_code}'}"
                f". Last log lines:\n{tail}"
            )
        _end(job, TrainingJobStatus.FAILED, reason)
    else:
        _upload_outputs(job)


def _upload_outputs(job: ProcessingJob) -> None:
    """EndOfJob upload: copy each output to its S3Uri, then keep it as a dataset if it is a
    table (CSV or Parquet); other outputs stay plain files in the store."""
    tree = _tree(job, "algo-1")
    datasets = {}
    try:
        for item in _outputs(job):
            uri = item["S3Output"]["S3Uri"]
            relative = f"outputs/{item['OutputName']}"
            confined.upload(tree, relative, uri, "ProcessingOutputConfig.Outputs.S3Output.S3Uri")
            name = f"{job.name}-{item['OutputName']}"[:63].rstrip("-")
            try:
                datasets[item["OutputName"]] = register_dataset(
                    job.profile, job.domain, name, uri
                ).name
            except StudioError as e:
                log.info("output %s of %s is not a dataset: %s", item["OutputName"], job.name, e)
    except (OSError, confined.Refused) as e:
        _end(job, TrainingJobStatus.FAILED, f"ClientError: could not upload the outputs: {e}")
        return
    job.output_datasets = datasets
    job.save(update_fields=["output_datasets"])
    _end(job, TrainingJobStatus.COMPLETED)


def _end(job: ProcessingJob, status: str, reason: str = "") -> None:
    try:
        transition(job, status, reason=reason)
    except ConflictException:
        log.info("processing job %s already ended", job.name)
