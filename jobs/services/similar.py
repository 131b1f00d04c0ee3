"""What starting a job like another takes (the dashboard's Start similar): a free name after
the other job's, and the script it ran, to run again. Both take a job the caller has described
(`describe_training_job`, `describe_processing_job`), which decided whether they may see it."""

import re
import tarfile
from pathlib import PurePosixPath

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from jobs.models import ProcessingJob, TrainingJob
from jobs.services.common import MAX_SCRIPT_BYTES
from jobs.services.processing import CODE_DIR, processing_code_uri
from jobs.services.training import training_code_uri
from studio.core import storage

# SageMaker's longest job name.
MAX_NAME = 63
# A name ending in -2 ... -999 is taken as a copy's: its copy is -3, not -2-2. Longer numbers
# are part of the name (the forms' default names end in a time, -043000).
COPY_NUMBER = re.compile(r"-(?P<n>[1-9][0-9]{0,2})$")
# The stored archive a training script is read back from is bounded too, packed and unpacked:
# finding a member decompresses the archive up to it, and a job created through the API may
# name any archive there (a gzip of zeros packs a gigabyte into a megabyte).
MAX_ARCHIVE_BYTES = 4 * MAX_SCRIPT_BYTES
MAX_UNPACKED_BYTES = 16 * MAX_SCRIPT_BYTES


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
    stored = store.head(uri)
    if stored is None or stored.size > MAX_ARCHIVE_BYTES:
        return None
    # What is read back is the archive's own bytes: a member that is a link, a directory or
    # larger than a script may be is no script to reuse, and nothing outside is ever followed.
    try:
        with store.open(uri) as packed, tarfile.open(fileobj=packed, mode="r:gz") as tar:
            member = _member(tar, program)
            if member is None or not member.isfile() or member.size > MAX_SCRIPT_BYTES:
                return None
            content = tar.extractfile(member).read(MAX_SCRIPT_BYTES + 1)
    except (tarfile.TarError, EOFError, OSError):
        return None
    return _script(program, content)


def _member(tar: tarfile.TarFile, name: str) -> tarfile.TarInfo | None:
    """The archive's member `name`, looked for no further than MAX_UNPACKED_BYTES in."""
    for member in tar:
        if member.offset > MAX_UNPACKED_BYTES:
            return None
        if member.name == name:
            return member
    return None


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
    if store.head(uri) is None:
        return None
    with store.open(uri) as stored:
        content = stored.read(MAX_SCRIPT_BYTES + 1)
    return _script(name, content)


def _script(name: str, content: bytes) -> UploadedFile | None:
    """The script to upload again, if it is one the form would take."""
    if len(content) > MAX_SCRIPT_BYTES:
        return None
    return SimpleUploadedFile(name, content, content_type="text/x-python")


def job_script(job: TrainingJob | ProcessingJob) -> UploadedFile | None:
    """The script the job ran, as uploaded with it from the dashboard's form, to upload again
    with a new job; None when it ran none so (a built-in algorithm, an image's own code, or
    code stored elsewhere by the SDK), or when the stored script is gone."""
    if isinstance(job, TrainingJob):
        return _training_script(job)
    return _processing_script(job)
