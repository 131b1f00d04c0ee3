"""Jobs' logs as their pages show them: the end of each host's log, and one whole log to
download. The worker writes them below the job's directory on its host (`LogSink`); this is
the one place that reads them back for callers that have described the job, so that no view
opens a path of a job's tree (and a second host, when there is one, is asked here)."""

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from jobs.models import ProcessingJob, TrainingJob, TransformJob
from jobs.processing import workspace as processing_workspace
from jobs.training import logs
from jobs.training import workspace as training_workspace
from jobs.transform import workspace as transform_workspace
from studio.core.errors import ResourceNotFound

Job = TrainingJob | ProcessingJob | TransformJob
JOB_DIRS: dict[type, Callable[[str, str], Path]] = {
    TrainingJob: training_workspace.job_dir,
    ProcessingJob: processing_workspace.job_dir,
    TransformJob: transform_workspace.job_dir,
}


def _log_path(job: Job, host: str) -> Path:
    return logs.log_path(JOB_DIRS[type(job)](job.domain.domain_id, job.name), host)


def job_log_tails(job: Job) -> list[dict[str, str]]:
    """The end of each host's log: [{"host": "algo-1", "text": ...}, ...]."""
    return [
        {"host": host, "text": logs.read_tail(_log_path(job, host))}
        for host in training_workspace.hosts(job.instance_count)
    ]


def open_job_log(job: Job, host: str) -> tuple[BinaryIO, int]:
    """One host's whole log and its length now; ResourceNotFound for a host the job does not
    have, or one that has written no log yet."""
    label = job.RESOURCE_TYPE.removesuffix("Job")
    if host not in training_workspace.hosts(job.instance_count):
        raise ResourceNotFound(f"{label} job {job.name} has no host {host}.")
    opened = logs.open_log(_log_path(job, host))
    if opened is None:
        raise ResourceNotFound(f"{label} job {job.name} has no log for {host} yet.")
    return opened
