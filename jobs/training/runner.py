"""Runs one training job on a runtime: prepare, start, watch, stop, pack, finish.

Idempotent and re-entrant: a job's container ids are saved as soon as each starts, so a watch
that a crash interrupted resumes from the containers themselves (re-adoption). A Redis lease
keeps it to one watcher at a time.
"""

import logging
import time
from datetime import timedelta

from django.utils import timezone

from jobs import builtin_algorithms, execution
from jobs.models import MetricPoint, TrainingJob, TrainingJobStatus
from jobs.services.images import builtin_algorithm
from jobs.training import workspace
from jobs.training.logs import LogSink, MetricParser, log_path
from metering.catalog import InstanceType
from studio.core import storage
from studio.core.errors import ConflictException, StudioError
from studio.core.leases import Lease
from studio.core.lifecycle import record_secondary, transition
from studio.core.runtime import ContainerError, ContainerSpec, Mount, Runtime, get_runtime
from studio.core.storage import confined

log = logging.getLogger(__name__)


def container_name(job: TrainingJob, host: str) -> str:
    return execution.container_name("train", job, host, f"a{job.attempt}")


def container_spec(job: TrainingJob, host: str, tree: confined.Tree) -> ContainerSpec:
    request = job.request
    algorithm = request["AlgorithmSpecification"]
    # The profile's uid has no home in the image: give the job a writable one.
    env = {"HOME": "/tmp", **request.get("Environment", {}), "TRAINING_JOB_NAME": job.name}
    # AlgorithmName, or a SageMaker image URI of a built-in (linear-learner, kmeans, ...).
    builtin = builtin_algorithm(algorithm, request.get("HyperParameters", {}))
    if builtin:
        image = builtin_algorithms.BUILTIN_IMAGE
        env["STUDIO_BUILTIN_ALGORITHM"] = builtin
    else:
        # Resolved from a reference or an Image(Version)Arn when the job was created.
        image = job.runtime_state.get("image", algorithm["TrainingImage"])
    cpus, memory = InstanceType.objects.get(name=job.instance_type).container_limits()
    command = list(algorithm.get("ContainerEntrypoint") or []) + list(
        algorithm.get("ContainerArguments")
        or ([] if algorithm.get("ContainerEntrypoint") else ["train"])
    )
    return ContainerSpec(
        name=container_name(job, host),
        image=image,
        command=command,
        env=env,
        mounts=[Mount(tree.root, "/opt/ml")],
        user=f"{tree.uid}:{tree.gid}",
        cpus=cpus,
        memory_bytes=memory,
        # SageMaker's network isolation: training sees no network at all here.
        network="none",
        workdir="/opt/ml/code",
        labels=execution.job_labels(job, host),
    )


def _metric_parser(job: TrainingJob) -> MetricParser:
    algorithm = job.request["AlgorithmSpecification"]
    definitions = list(algorithm.get("MetricDefinitions", []))
    builtin = builtin_algorithm(algorithm, job.request.get("HyperParameters", {}))
    if builtin:
        definitions += builtin_algorithms.metric_definitions()[builtin]
    return MetricParser(definitions)


def run(job_pk: int) -> None:
    """Start the job, or resume watching it after its watcher was lost; a no-op while another
    worker holds its lease."""
    execution.begin(TrainingJob, job_pk, _step)


def poll(job_pk: int, token: str) -> None:
    """One poll of a running job, by whoever holds the lease `token` names."""
    execution.resume(TrainingJob, job_pk, token, _step)


def _step(job: TrainingJob, lease: Lease) -> None:
    """Start the job if it has no containers, poll it once, and either schedule the next poll
    (the lease stays held) or finish it (once, plus once per retry its RetryStrategy allows)."""
    runtime = get_runtime(job.runtime_state.get("runtime"))
    try:
        while True:
            if not job.runtime_state.get("containers"):
                if job.status == TrainingJobStatus.STOPPING:
                    _end(job, TrainingJobStatus.STOPPED, "Stopped", "Stopped before it started.")
                    return
                if not _start(job, runtime):
                    return
            sinks = _sinks(job)
            result = _poll(job, runtime, sinks)
            if result is None:
                execution.poll_later(
                    "jobs.tasks.poll_training_job", job, lease, job.training_start_time
                )
                lease = None  # handed on to the next poll
                return
            if not _finish(job, runtime, result, sinks.get("algo-1")):
                return
    finally:
        if lease is not None:
            lease.release()


def _retry(job: TrainingJob, reason: str) -> bool:
    """After an infrastructure failure (never the algorithm's own), start a new attempt if the
    job's RetryStrategy allows one. SageMaker moves a retried job back to Starting."""
    allowed = job.request.get("RetryStrategy", {}).get("MaximumRetryAttempts", 0)
    if job.attempt > allowed:
        return False
    job.attempt += 1
    job.runtime_state = {k: v for k, v in job.runtime_state.items() if k == "runtime"}
    job.training_end_time = None
    job.save(update_fields=["attempt", "runtime_state", "training_end_time"])
    record_secondary(job, "Restarting", f"{reason} Retrying: attempt {job.attempt}.")
    return True


def _start(job: TrainingJob, runtime: Runtime) -> bool:
    record_secondary(job, "Starting", "Preparing the instances required to run the training job")
    hosts = workspace.hosts(job.instance_count)
    record_secondary(job, "Downloading", "Downloading input data")
    uid, gid = workspace.identity(job.profile)
    try:
        root = workspace.job_dir(job.domain.domain_id, job.name)
        trees = {h: workspace.prepare(root, job.request, h, hosts, uid, gid) for h in hosts}
    except (OSError, ValueError, StudioError, confined.Refused) as e:
        _end(job, TrainingJobStatus.FAILED, "Failed", f"ClientError: could not prepare input: {e}")
        return False
    job.runtime_state = {**job.runtime_state, "runtime": runtime.name, "containers": {}}
    # MaxRuntimeInSeconds covers all attempts together, as in SageMaker: the first start counts.
    job.training_start_time = job.training_start_time or timezone.now()
    job.save(update_fields=["runtime_state", "training_start_time"])
    record_secondary(job, "Training", "Training image download completed. Training in progress.")
    for host in hosts:
        try:
            container_id = runtime.start(container_spec(job, host, trees[host]))
        except ContainerError as e:
            execution.stop_all(runtime, job.runtime_state["containers"])
            _end(job, TrainingJobStatus.FAILED, "Failed", f"ClientError: {e}")
            return False
        job.runtime_state["containers"][host] = container_id
        # When each container was running, for the dashboard and the overhead benchmark.
        job.runtime_state.setdefault("started_at", {})[host] = time.time()
        job.save(update_fields=["runtime_state"])
    return True


def _sinks(job: TrainingJob) -> dict[str, LogSink]:
    containers: dict[str, str] = job.runtime_state["containers"]
    root = workspace.job_dir(job.domain.domain_id, job.name)
    parser = _metric_parser(job)
    return {
        host: LogSink(job, host, log_path(root, host), parser if host == "algo-1" else None, cid)
        for host, cid in containers.items()
    }


def _poll(
    job: TrainingJob, runtime: Runtime, sinks: dict[str, LogSink]
) -> execution.WatchResult | None:
    """One look at the job's containers; their result once they have all ended."""
    max_runtime = job.request["StoppingCondition"]["MaxRuntimeInSeconds"]
    return execution.poll(
        job,
        runtime,
        job.runtime_state["containers"],
        sinks,
        deadline=job.training_start_time + timedelta(seconds=max_runtime),
        on_stop_request=lambda: record_secondary(job, "Stopping", "Stopping the training job"),
        over_volume=lambda: execution.volume_problem(
            job,
            [_tree(job, host).root for host in job.runtime_state["containers"]],
            job.request["ResourceConfig"]["VolumeSizeInGB"],
        ),
    )


def _tree(job: TrainingJob, host: str) -> confined.Tree:
    root = workspace.job_dir(job.domain.domain_id, job.name)
    return confined.Tree(root / host, *workspace.identity(job.profile))


def _failure_reason(job: TrainingJob, result: execution.WatchResult, sink: LogSink | None) -> str:
    for host in result.failed_hosts():
        status = result.statuses[host]
        # The runtime's word on memory outranks the algorithm's guess at why it was killed.
        if status.oom_killed:
            memory = InstanceType.objects.get(name=job.instance_type).memory_gib
            return (
                f"OutOfMemory: {host} ran out of memory: it used more than the {memory} GiB of "
                f"{job.instance_type} "
                "and was killed. Use a larger instance type or less data per batch."
            )
        written = workspace.failure_file(_tree(job, host))
        if written:
            return f"AlgorithmError: {written}"
        tail = "\n".join(sink.tail) if sink else ""
        return (
            f"AlgorithmError: {host} exited with code {status.exit_code}. Last log lines:\n{tail}"
        )
    return ""


def _finish(
    job: TrainingJob, runtime: Runtime, result: execution.WatchResult, sink: LogSink | None
) -> bool:
    """Pack and record the outcome; True when the job should be tried again instead."""
    tree = _tree(job, "algo-1")
    containers = job.runtime_state["containers"]
    job.training_end_time = timezone.now()
    job.save(update_fields=["training_end_time"])
    if result.ended_by == execution.VOLUME:  # nothing of an overgrown tree is packed
        execution.remove_all(runtime, containers)
        _end(job, TrainingJobStatus.FAILED, "Failed", "Training job failed", reason=result.reason)
        return False
    try:
        # Whatever happened, keep what the job checkpointed: a retry resumes from it.
        workspace.save_checkpoints(job.request, tree)
    except (OSError, confined.Refused) as e:
        log.warning("could not save checkpoints of %s: %s", job.name, e)
    if result.ended_by == execution.VANISHED:
        execution.remove_all(runtime, containers)
        if _retry(job, vanished_reason(result)):
            return True
        _end(job, TrainingJobStatus.FAILED, "Failed", vanished_reason(result))
        return False
    record_secondary(job, "Uploading", "Uploading generated training model")
    output = storage.join(job.request["OutputDataConfig"]["S3OutputPath"], job.name, "output")
    try:
        model = confined.pack(tree, "model", storage.join(output, "model.tar.gz"))
        confined.pack(tree, "output/data", storage.join(output, "output.tar.gz"))
    except (OSError, confined.Refused) as e:
        execution.remove_all(runtime, containers)
        _end(job, TrainingJobStatus.FAILED, "Failed", f"ClientError: could not upload: {e}")
        return False
    job.model_artifacts = model or ""
    job.final_metrics = _final_metrics(job)
    job.save(update_fields=["model_artifacts", "final_metrics"])
    execution.remove_all(runtime, containers)
    if result.ended_by == execution.STOPPED:
        _end(job, TrainingJobStatus.STOPPED, "Stopped", "The job was stopped.")
    elif result.ended_by == execution.MAX_RUNTIME:
        seconds = job.request["StoppingCondition"]["MaxRuntimeInSeconds"]
        _end(
            job,
            TrainingJobStatus.STOPPED,
            "MaxRuntimeExceeded",
            f"The job exceeded MaxRuntimeInSeconds ({seconds} s) and was stopped.",
            reason=f"MaxRuntimeExceeded: the job ran longer than {seconds} seconds.",
        )
    else:
        reason = _failure_reason(job, result, sink)
        if reason:
            _end(job, TrainingJobStatus.FAILED, "Failed", "Training job failed", reason=reason)
        else:
            _end(job, TrainingJobStatus.COMPLETED, "Completed", "Training job completed")
    return False


def vanished_reason(result: execution.WatchResult) -> str:
    return (
        f"InternalServerError: the container of {', '.join(result.missing_hosts())} vanished "
        "(removed outside Studio, or lost with its host)."
    )


def _final_metrics(job: TrainingJob) -> list[dict]:
    latest: dict[str, MetricPoint] = {}
    for point in MetricPoint.objects.filter(job=job).order_by("timestamp", "id"):
        latest[point.name] = point
    return [
        {"MetricName": p.name, "Value": p.value, "Timestamp": p.timestamp.isoformat()}
        for p in latest.values()
    ]


def _end(job: TrainingJob, status: str, secondary: str, message: str, reason: str = "") -> None:
    if job.training_end_time is None and job.training_start_time is not None:
        job.training_end_time = timezone.now()
        job.save(update_fields=["training_end_time"])
    record_secondary(job, secondary, message)
    if status == TrainingJobStatus.FAILED and not reason:
        reason = message
    try:
        transition(job, status, reason=reason)
    except ConflictException:
        log.info("training job %s already ended", job.name)
