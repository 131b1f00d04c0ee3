"""Runs one transform job: a serving container per instance (as endpoints run them), each
input object read a line at a time into payloads sent to them, and the answers written to
`<S3OutputPath>/<object name>.out`, one line a record, in order.

Like the other jobs it is watched by a chain of short polls holding its lease
(jobs/execution.py): the first starts the containers, the next wait for their /ping, then each
transforms for about DRIVE_SECONDS and hands on. Where it stands (the object, the offset in it,
the record number, how much of the output is assembled) is saved after each poll, so a poll
lost with its worker is taken up where the last one saved. An object's output is assembled in
a file of the worker's and stored once the object is done: readers never see part of it.
"""

import logging
import shutil
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, BinaryIO

from django.utils import timezone

from jobs import execution
from jobs.hosting import instances
from jobs.models import Model, TrainingJobStatus, TransformJob
from jobs.services.datasets import register_dataset
from jobs.services.transform import (
    CSV_TYPES,
    DEFAULT_BATCH_STRATEGY,
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_PAYLOAD_MB,
    MAX_CONCURRENT,
    MAX_IN_FLIGHT_MB,
    filter_steps,
    media_type,
)
from jobs.training.logs import LogSink, log_path
from jobs.transform import client, records, workspace
from metering.catalog import InstanceType
from studio.core import queue, storage
from studio.core.errors import ConflictException, StudioError
from studio.core.leases import Lease
from studio.core.lifecycle import transition
from studio.core.runtime import ContainerError, Runtime, get_runtime
from studio.core.runtime.base import State
from studio.core.storage import CHUNK

log = logging.getLogger(__name__)

POLL_TASK = "jobs.tasks.poll_transform_job"
# How long one poll transforms before it hands on to the next.
DRIVE_SECONDS = 1.0
# How long the main thread waits for an answer before renewing the lease (TTL 15 s).
WAIT_SLICE_S = 1.0
# SageMaker's defaults for ModelClientConfig.
DEFAULT_INVOCATION_TIMEOUT_S = 600
DEFAULT_INVOCATION_RETRIES = 3
# How long the containers have to answer /ping.
STARTUP_TIMEOUT_S = 60
STOP_GRACE_S = 10
# The longest answer read for a payload: predictions (class probabilities, say) may be larger
# than the records they answer, within reason.
MIN_ANSWER_MB = 64
ANSWER_PER_PAYLOAD = 4
TAIL_LINES = 20
S = TrainingJobStatus


class LeaseLost(Exception):
    """Another watcher has the job now: this one stops without touching it."""


def run(job_pk: int) -> None:
    """Start the job, or resume it after its watcher was lost; a no-op while another worker
    holds its lease."""
    execution.begin(TransformJob, job_pk, _step)


def poll(job_pk: int, token: str) -> None:
    """One poll of a running job, by whoever holds the lease `token` names."""
    execution.resume(TransformJob, job_pk, token, _step)


def _root(job: TransformJob) -> Path:
    return workspace.job_dir(job.domain.domain_id, job.name)


def _servers(job: TransformJob) -> list[client.Server]:
    root = _root(job)
    return [
        client.Server(workspace.socket_path(root, host), job.profile.home_uid)
        for host in job.runtime_state["containers"]
    ]


def _sinks(job: TransformJob) -> dict[str, LogSink]:
    root = _root(job)
    return {
        host: LogSink(job, host, log_path(root, host), None, container_id)
        for host, container_id in job.runtime_state["containers"].items()
    }


def _save(job: TransformJob) -> None:
    job.save(update_fields=["runtime_state"])


def _step(job: TransformJob, lease: Lease) -> None:
    """Start the job if it has no containers; else look at them once, and wait for their
    /ping or transform for a while; then hand the lease on or end the job."""
    try:
        runtime = get_runtime(job.runtime_state.get("runtime"))
        if not job.runtime_state.get("containers"):
            if job.status == S.STOPPING:
                _end(job, runtime, {}, S.STOPPED)
                return
            if not _start(job, runtime):
                return
        sinks = _sinks(job)
        for sink in sinks.values():
            sink.pump(runtime)
        if _ended_outside(job, runtime, sinks):
            return
        if not job.runtime_state.get("ready"):
            if not _check_startup(job, runtime, sinks):
                return
            if not job.runtime_state.get("ready"):
                execution.poll_later(POLL_TASK, job, lease, job.transform_start_time)
                lease = None  # handed on to the next poll
                return
        try:
            done = _drive(job, lease)
        except records.TransformFailed as failed:
            _end(job, runtime, sinks, S.FAILED, str(failed))
            return
        except LeaseLost:
            lease = None
            return
        if done:
            _keep_output_as_dataset(job)
            _end(job, runtime, sinks, S.COMPLETED)
            return
        queue.send(POLL_TASK, job.pk, lease.token, countdown=0)
        lease = None
    finally:
        if lease is not None:
            lease.release()


def _model(job: TransformJob) -> Model:
    """The model as it was when the job was accepted (it may have been deleted since)."""
    return Model(
        name=job.model_name,
        domain=job.domain,
        profile=job.profile,
        request=job.runtime_state["model"],
    )


def _environment(job: TransformJob) -> dict[str, str]:
    """The request's Environment and SageMaker's batch variables for what the request says."""
    request = job.request
    env = {**request.get("Environment", {}), "SAGEMAKER_BATCH": "true"}
    if "MaxPayloadInMB" in request:
        env["SAGEMAKER_MAX_PAYLOAD_IN_MB"] = str(request["MaxPayloadInMB"])
    if "BatchStrategy" in request:
        env["SAGEMAKER_BATCH_STRATEGY"] = (
            "SINGLE_RECORD" if request["BatchStrategy"] == "SingleRecord" else "MULTI_RECORD"
        )
    if "MaxConcurrentTransforms" in request:
        env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] = str(request["MaxConcurrentTransforms"])
    timeout = request.get("ModelClientConfig", {}).get("InvocationsTimeoutInSeconds")
    if timeout is not None:
        env["SAGEMAKER_MODEL_SERVER_TIMEOUT"] = str(timeout)
    return env


def _start(job: TransformJob, runtime: Runtime) -> bool:
    """Unpack the model and start a serving container per instance; False (and the job
    Failed) when that cannot be done."""
    root = _root(job)
    uid = job.profile.home_uid
    if root.exists():
        shutil.rmtree(root)  # a previous start's, left by a crash; it follows no links
    root.mkdir(mode=0o755, parents=True)
    model = _model(job)
    try:
        model_dir = instances.unpack_model(workspace.model_root(root), uid, model)
    except instances.ModelUnavailable as e:
        _end(job, runtime, {}, S.FAILED, f"ClientError: {e}")
        return False
    limits = InstanceType.objects.get(name=job.instance_type).container_limits()
    job.runtime_state = {**job.runtime_state, "runtime": runtime.name, "containers": {}}
    job.transform_start_time = timezone.now()
    job.save(update_fields=["runtime_state", "transform_start_time"])
    for index in range(1, job.instance_count + 1):
        host = f"algo-{index}"
        rundir = workspace.rundir(root, host)
        instances.make_rundir(rundir, uid)
        try:
            spec = instances.serving_spec(
                name=execution.container_name("xform", job, host),
                model=model,
                model_dir=model_dir,
                rundir=rundir,
                uid=uid,
                limits=limits,
                env=_environment(job),
                labels=execution.job_labels(job, host),
            )
            container_id = runtime.start(spec)
        except (ContainerError, StudioError) as e:
            _end(job, runtime, _sinks(job), S.FAILED, f"ClientError: {e}")
            return False
        job.runtime_state["containers"][host] = container_id
        _save(job)
    job.runtime_state["started_at"] = time.time()
    _save(job)
    return True


def _tail(sinks: dict[str, LogSink], host: str) -> str:
    sink = sinks.get(host)
    return "\n".join(list(sink.tail)[-TAIL_LINES:]) if sink else ""


def _ended_outside(job: TransformJob, runtime: Runtime, sinks: dict[str, LogSink]) -> bool:
    """End the job, and say so, if it was asked to stop or a container is gone or exited."""
    if TransformJob.objects.values_list("status", flat=True).get(pk=job.pk) == S.STOPPING:
        _end(job, runtime, sinks, S.STOPPED)
        return True
    for host, container_id in job.runtime_state["containers"].items():
        status = runtime.status(container_id)
        if status.state == State.MISSING:
            reason = (
                f"InternalServerError: the container of {host} vanished (removed outside "
                "Studio, or lost with its host)."
            )
        elif status.oom_killed:
            reason = f"OutOfMemory: {host} ran out of memory on {job.instance_type}."
        elif not status.running:
            for sink in sinks.values():
                sink.drain(runtime)
            reason = (
                f"ClientError: the serving container of {host} exited with code "
                f"{status.exit_code}. Its last log lines:\n{_tail(sinks, host)}"
            )
        else:
            continue
        _end(job, runtime, sinks, S.FAILED, reason)
        return True
    return False


def _check_startup(job: TransformJob, runtime: Runtime, sinks: dict[str, LogSink]) -> bool:
    """Mark the job ready once every container answers /ping (and read what the container
    asks for in /execution-parameters). False when it ended the job: no answer within
    STARTUP_TIMEOUT_S."""
    servers = _servers(job)
    if all(client.answers_ping(server) for server in servers):
        job.runtime_state["parameters"] = _parameters(job, servers[0])
        job.runtime_state["ready"] = True
        _save(job)
        return True
    if time.time() - job.runtime_state["started_at"] > STARTUP_TIMEOUT_S:
        _end(
            job,
            runtime,
            sinks,
            S.FAILED,
            f"ClientError: the serving container did not answer /ping within "
            f"{STARTUP_TIMEOUT_S} s. Its last log lines:\n{_tail(sinks, 'algo-1')}",
        )
        return False
    return True


def _parameters(job: TransformJob, server: client.Server) -> dict[str, Any]:
    """MaxPayloadInMB, MaxConcurrentTransforms and BatchStrategy: the request's, else the
    container's, else SageMaker's defaults; the container's only within the bounds a
    request has."""
    given = {
        member: job.request[member]
        for member in ("MaxPayloadInMB", "MaxConcurrentTransforms", "BatchStrategy")
        if member in job.request
    }
    asked = client.execution_parameters(server) if len(given) < 3 else {}
    chosen = {
        "MaxPayloadInMB": DEFAULT_MAX_PAYLOAD_MB,
        "MaxConcurrentTransforms": DEFAULT_MAX_CONCURRENT,
        "BatchStrategy": DEFAULT_BATCH_STRATEGY,
        **asked,
        **given,
    }
    concurrent = chosen["MaxConcurrentTransforms"]
    if chosen["MaxPayloadInMB"] * concurrent > MAX_IN_FLIGHT_MB or concurrent > MAX_CONCURRENT:
        chosen["MaxPayloadInMB"] = given.get("MaxPayloadInMB", DEFAULT_MAX_PAYLOAD_MB)
        chosen["MaxConcurrentTransforms"] = given.get(
            "MaxConcurrentTransforms", DEFAULT_MAX_CONCURRENT
        )
    return chosen


def _inputs(job: TransformJob) -> list[dict[str, str]]:
    """The input objects, listed once: the job transforms what was there when it began."""
    if "inputs" not in job.runtime_state:
        field = "TransformInput.DataSource.S3DataSource.S3Uri"
        uri = job.request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
        found = storage.artifact_store().list(uri, field)
        if not found:
            raise records.TransformFailed(f"ClientError: no data at {uri} ({field}).")
        job.runtime_state["inputs"] = [{"name": o.name, "uri": o.uri} for o in found]
        job.runtime_state["cursor"] = {"object": 0, "offset": 0, "record": 1, "spooled": 0}
        _save(job)
    return job.runtime_state["inputs"]


def _drive(job: TransformJob, lease: Lease) -> bool:
    """Transform for about DRIVE_SECONDS from where the job stands; True once every object's
    output is stored."""
    inputs = _inputs(job)
    cursor = job.runtime_state["cursor"]
    spool = workspace.spool_path(_root(job))
    deadline = time.monotonic() + DRIVE_SECONDS
    while cursor["object"] < len(inputs):
        item = inputs[cursor["object"]]
        if (spool.stat().st_size if spool.exists() else 0) < cursor["spooled"]:
            # What was assembled is gone: the object again, from its start.
            cursor.update(offset=0, record=1, spooled=0)
        try:
            with spool.open("r+b" if spool.exists() else "w+b") as out:
                out.seek(cursor["spooled"])
                out.truncate()  # what a lost poll wrote and did not record
                with storage.artifact_store().open(item["uri"]) as stream:
                    finished = _transform(job, lease, item["name"], stream, out, deadline)
            if finished:
                _store(job, item, spool)
        except (StudioError, OSError) as e:
            raise records.TransformFailed(
                f"ClientError: transforming {item['name']} failed: {e}"
            ) from None
        if not finished:
            _save(job)
            return False
        if time.monotonic() > deadline:
            return cursor["object"] >= len(inputs)
    return True


def _store(job: TransformJob, item: dict[str, str], spool: Path) -> None:
    """Store an object's assembled output and move on to the next object."""
    output = storage.join(
        job.request["TransformOutput"]["S3OutputPath"],
        f"{item['name']}.out",
        field="TransformOutput.S3OutputPath",
    )
    with spool.open("rb") as assembled:
        storage.artifact_store().put(output, assembled, "TransformOutput.S3OutputPath")
    cursor = job.runtime_state["cursor"]
    cursor.update(object=cursor["object"] + 1, offset=0, record=1, spooled=0)
    _save(job)
    # After the save: a poll lost before it stores the object again, from the same spool.
    spool.unlink()


def _skip_to(stream: BinaryIO, offset: int) -> None:
    """Past what earlier polls transformed: by seeking, or by reading a chunk at a time from
    a backend that streams."""
    if stream.seekable():
        stream.seek(offset)
        return
    while offset > 0:
        chunk = stream.read(min(offset, CHUNK))
        if not chunk:
            return
        offset -= len(chunk)


def _transform(
    job: TransformJob,
    lease: Lease,
    name: str,
    stream: BinaryIO,
    out: BinaryIO,
    deadline: float,
) -> bool:
    """Send the object's payloads from the cursor, MaxConcurrentTransforms per container in
    flight, and write their answers in order until the object ends (True) or the deadline
    passes (False, the cursor where the answers written end)."""
    parameters = job.runtime_state["parameters"]
    cursor = job.runtime_state["cursor"]
    transform_input = job.request["TransformInput"]
    servers = _servers(job)
    _skip_to(stream, cursor["offset"])
    reading = records.Reading(
        limit=parameters["MaxPayloadInMB"] * 2**20,
        strategy=parameters["BatchStrategy"],
        split=transform_input.get("SplitType", "None"),
        input_filter=filter_steps(job.request, "InputFilter"),
        is_csv=media_type(transform_input.get("ContentType")) in CSV_TYPES,
    )
    pending = records.payloads(
        stream, offset=cursor["offset"], first=cursor["record"], name=name, reading=reading
    )
    slots = parameters["MaxConcurrentTransforms"] * len(servers)
    in_flight: deque[tuple[Future, records.Payload]] = deque()
    pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix=f"transform-{job.pk}")
    sent = 0
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) < slots and time.monotonic() < deadline:
                payload = next(pending, None)
                if payload is None:
                    exhausted = True
                    break
                server = servers[sent % len(servers)]
                in_flight.append((pool.submit(_invoke, job, server, payload.body), payload))
                sent += 1
            if not in_flight:
                return exhausted
            future, payload = in_flight.popleft()
            answer = _wait(future, lease, f"records from {payload.first} of {name}")
            out.write(_output(job, name, payload, answer))
            out.flush()
            cursor.update(offset=payload.end, record=payload.first + len(payload.records))
            cursor["spooled"] = out.tell()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _invoke(job: TransformJob, server: client.Server, body: bytes) -> client.Answer:
    config = job.request.get("ModelClientConfig", {})
    payload_mb = job.runtime_state["parameters"]["MaxPayloadInMB"]
    return client.invoke(
        server,
        body,
        content_type=job.request["TransformInput"].get("ContentType", ""),
        accept=job.request["TransformOutput"].get("Accept", ""),
        timeout=config.get("InvocationsTimeoutInSeconds", DEFAULT_INVOCATION_TIMEOUT_S),
        retries=config.get("InvocationsMaxRetries", DEFAULT_INVOCATION_RETRIES),
        max_bytes=max(MIN_ANSWER_MB, ANSWER_PER_PAYLOAD * payload_mb) * 2**20,
    )


def _wait(future: Future, lease: Lease, where: str) -> client.Answer:
    """The answer, renewing the lease while it is awaited."""
    while True:
        try:
            return future.result(timeout=WAIT_SLICE_S)
        except FutureTimeout:
            if not lease.renew():
                raise LeaseLost() from None
        except client.AnswerTooLarge as e:
            raise records.TransformFailed(f"ModelError: {e} ({where}).") from None


def _output(job: TransformJob, name: str, payload: records.Payload, answer: client.Answer) -> bytes:
    """The lines a payload's answer adds to the output, or TransformFailed with the
    container's own words when it refused the payload."""
    last = payload.first + len(payload.records) - 1
    first = payload.first
    where = f"record {first}" if last == first else f"records {first}-{last}"
    if answer.status != 200:
        raise records.TransformFailed(
            f"ModelError: the model answered {where} of {name} with "
            f"{records.container_message(answer.status, answer.body)}"
        )
    output = job.request["TransformOutput"]
    if output.get("AssembleWith", "None") != "Line":
        return answer.body
    if job.request["TransformInput"].get("SplitType", "None") == "None":
        return answer.body if answer.body.endswith(b"\n") else answer.body + b"\n"
    content_type = answer.content_type or output.get("Accept", "")
    try:
        lines = records.answer_lines(answer.body, content_type, len(payload.records))
    except records.TransformFailed as failed:
        raise records.TransformFailed(f"{failed} ({where} of {name})") from None
    if job.request.get("DataProcessing", {}).get("JoinSource") == "Input":
        content_type = job.request["TransformInput"]["ContentType"]
        lines = [
            records.join(record, prediction, content_type)
            for record, prediction in zip(payload.records, lines, strict=True)
        ]
    steps = filter_steps(job.request, "OutputFilter")
    if steps:
        is_csv = media_type(content_type) in CSV_TYPES
        lines = [
            records.output_filtered(line, steps, is_csv, f"record {first + i} of {name}")
            for i, line in enumerate(lines)
        ]
    return b"".join(line + b"\n" for line in lines)


def _keep_output_as_dataset(job: TransformJob) -> None:
    """Make the job's output a dataset named `<job>-output` when it is a table (CSV lines, the
    `.out` files AssembleWith Line writes); other output stays plain files in the store."""
    output = job.request["TransformOutput"]["S3OutputPath"]
    name = f"{job.name}-output"[:63].rstrip("-")
    try:
        dataset = register_dataset(job.profile, job.domain, name, output, {".out": "csv"})
    except StudioError as e:
        log.info("the output of %s is not a dataset: %s", job.name, e)
        return
    job.runtime_state["output_dataset"] = dataset.name
    job.save(update_fields=["runtime_state"])


def _end(
    job: TransformJob,
    runtime: Runtime,
    sinks: dict[str, LogSink],
    status: str,
    reason: str = "",
) -> None:
    """Stop and remove the containers (their logs kept), remove the job's other files, and
    end the job in `status`."""
    containers = job.runtime_state.get("containers", {})
    for container_id in containers.values():
        try:
            runtime.stop(container_id, timeout=STOP_GRACE_S)
        except ContainerError as e:
            log.warning("could not stop %s: %s", container_id, e)
    for sink in sinks.values():
        try:
            sink.drain(runtime)
        except ContainerError as e:
            log.warning("could not read the log of %s: %s", sink.container_id, e)
    for container_id in containers.values():
        try:
            runtime.remove(container_id)
        except ContainerError as e:
            log.warning("could not remove %s: %s", container_id, e)
    root = _root(job)
    for kept_out in ("model", "hosts", workspace.spool_path(root).name):
        path = root / kept_out
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)  # it removes links, never their targets
        else:
            path.unlink(missing_ok=True)
    job.transform_end_time = timezone.now()
    job.save(update_fields=["transform_end_time"])
    try:
        transition(job, status, reason=reason)
    except ConflictException:
        log.info("transform job %s already ended", job.name)
