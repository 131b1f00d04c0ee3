"""What starting a job like another takes (the dashboard's Start similar): a free name after
the other job's, and the script it ran, to run again. Both take a job the caller has described
(`describe_training_job`, `describe_processing_job`), which decided whether they may see it."""

import re
import tarfile
from pathlib import PurePosixPath

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from jobs.models import ProcessingJob, TrainingJob
from jobs.services.processing import CODE_DIR, processing_code_uri
from jobs.services.training import training_code_uri
from studio.core import storage

# SageMaker's longest job name.
MAX_NAME = 63
# A name ending in -2 ... -999 is taken as a copy's: its copy is -3, not -2-2. Longer numbers
# are part of the name (the forms' default names end in a time, -043000).
COPY_NUMBER = re.compile(r"-(?P<n>[1-9][0-9]{0,2})$")


def next_free_name(job: TrainingJob | ProcessingJob) -> str:
    """`<name>-2`, or the next number no job of its kind in its domain has taken."""
    numbered = COPY_NUMBER.search(job.name)
    base = job.name[: numbered.start()] if numbered else job.name
    start = int(numbered["n"]) + 1 if numbered else 2
    jobs = type(job).objects.filter(domain=job.domain)
    number = start
    while True:
        suffix = f"-{number}"
        name = base[: MAX_NAME - len(suffix)].rstrip("-") + suffix
        if not jobs.filter(name=name).exists():
            return name
        number += 1


def _training_script(job: TrainingJob) -> UploadedFile | None:
    hyperparameters = job.request.get("HyperParameters", {})
    program = hyperparameters.get("sagemaker_program", "")
    uri = training_code_uri(job.domain.domain_id, job.name)
    # Only code the dashboard uploaded with the job: the SDK's own source_dir may hold more.
    if not program or hyperparameters.get("sagemaker_submit_directory") != uri:
        return None
    store = storage.artifact_store()
    if not store.exists(uri):
        return None
    with store.open(uri) as packed, tarfile.open(fileobj=packed, mode="r:gz") as tar:
        try:
            member = tar.getmember(program)
        except KeyError:
            return None
        content = tar.extractfile(member).read()
    return SimpleUploadedFile(program, content, content_type="text/x-python")


def _processing_script(job: ProcessingJob) -> UploadedFile | None:
    inputs = job.request.get("ProcessingInputs", [])
    code = next((i for i in inputs if i.get("InputName") == "code"), None)
    if code is None or code["S3Input"].get("LocalPath") != CODE_DIR:
        return None
    uri = code["S3Input"]["S3Uri"]
    name = PurePosixPath(uri).name
    # Only code the dashboard uploaded with the job, stored where the service put it.
    if uri != processing_code_uri(job.domain.domain_id, job.name, name):
        return None
    store = storage.artifact_store()
    if not store.exists(uri):
        return None
    with store.open(uri) as stored:
        content = stored.read()
    return SimpleUploadedFile(name, content, content_type="text/x-python")


def job_script(job: TrainingJob | ProcessingJob) -> UploadedFile | None:
    """The script the job ran, as uploaded with it from the dashboard's form, to upload again
    with a new job; None when it ran none so (a built-in algorithm, an image's own code, or
    code stored elsewhere by the SDK), or when the stored script is gone."""
    if isinstance(job, TrainingJob):
        return _training_script(job)
    return _processing_script(job)
