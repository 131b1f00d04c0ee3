"""Start similar reads a job's stored script back to upload it again. A job created through the
API may point its script at any archive in its domain's store, so what is read back is treated
as hostile: a member that is a link (to a host file), a directory, one larger than a script, an
archive larger than a script's, a gzip bomb before the member, or no archive at all is no script
to reuse — never a host file's bytes, never a 500, never unbounded reading."""

import gzip
import io
import tarfile

import pytest
from django.urls import reverse

from jobs.services.common import MAX_SCRIPT_BYTES
from jobs.services.processing import processing_code_uri
from jobs.services.similar import job_script
from jobs.services.training import training_code_uri
from tests.integration.conftest import put
from tests.integration.test_job_pages import make_job
from tests.integration.test_processing_pages import make_processing_job

pytestmark = pytest.mark.usefixtures("instance_types")


def script_job(profile, name: str):
    """A training job whose script is where the dashboard stores one (the job's code URI)."""
    uri = training_code_uri(profile.domain.domain_id, name)
    job = make_job(profile, name)
    job.request = {
        **job.request,
        "AlgorithmSpecification": {"TrainingImage": "studio/sklearn:latest"},
        "HyperParameters": {"sagemaker_program": "train.py", "sagemaker_submit_directory": uri},
    }
    job.save(update_fields=["request"])
    return job, uri


def archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        for info, content in members:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return packed.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = ""):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, link
    return info


def test_a_script_stored_as_the_dashboard_stores_it_is_reused(alice_profile):
    job, uri = script_job(alice_profile, "honest")
    put(uri, archive((entry("train.py", size=11), b"print('hi')")))
    assert job_script(job).read() == b"print('hi')"


# Each takes the host file the canaries placed (a root-only secret outside the data directory).
HOSTILE = {
    "a link to a host file": lambda host: archive(
        (entry("train.py", tarfile.SYMTYPE, link=host), None)
    ),
    "a hard link to a host file": lambda host: archive(
        (entry("train.py", tarfile.LNKTYPE, link=host), None)
    ),
    "a directory": lambda host: archive((entry("train.py", tarfile.DIRTYPE), None)),
    "a member larger than a script": lambda host: archive(
        (entry("train.py", size=MAX_SCRIPT_BYTES + 1), b"#" * (MAX_SCRIPT_BYTES + 1))
    ),
    "a gzip bomb before the member": lambda host: archive(
        (entry("zeros", size=64 * MAX_SCRIPT_BYTES), bytes(64 * MAX_SCRIPT_BYTES)),
        (entry("train.py", size=11), b"print('hi')"),
    ),
    "no archive": lambda host: f"print(open({host!r}).read())".encode(),
    "a truncated archive": lambda host: archive((entry("train.py", size=11), b"print('hi')"))[:40],
}


@pytest.mark.parametrize("content", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_stored_archive_gives_no_script_and_the_form_still_opens(
    client, alice, alice_profile, canaries, content
):
    job, uri = script_job(alice_profile, "hostile")
    put(uri, content(str(canaries.host_file)))

    assert job_script(job) is None
    client.force_login(alice)
    response = client.get(reverse("dashboard:training_job_new") + "?from=hostile")
    assert response.status_code == 200
    canaries.assert_absent(response.content.decode())


def test_an_archive_larger_than_a_scripts_is_not_opened(alice_profile):
    job, uri = script_job(alice_profile, "big")
    padding = gzip.compress(bytes(0))  # any bytes: the size alone refuses it
    put(uri, padding * (5 * MAX_SCRIPT_BYTES // len(padding)))
    assert job_script(job) is None


def test_a_processing_script_is_copied_unless_larger_than_a_script(alice_profile):
    job = make_processing_job(alice_profile, "big-prep")
    code = next(i for i in job.request["ProcessingInputs"] if i.get("InputName") == "code")
    # Where the dashboard stores a processing job's script.
    uri = processing_code_uri(alice_profile.domain.domain_id, "big-prep", "preprocess.py")
    code["S3Input"]["S3Uri"] = uri
    job.save(update_fields=["request"])
    put(uri, b"print('small')")
    assert job_script(job).read() == b"print('small')"
    put(uri, b"#" * (MAX_SCRIPT_BYTES + 1))
    assert job_script(job) is None
