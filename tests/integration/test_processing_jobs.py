"""Processing jobs on the real runtimes: inputs and outputs under /opt/ml/processing/, outputs
kept as datasets; bad requests refused."""

import pytest

from jobs.models import Dataset, ProcessingJob
from jobs.services import create_processing_job, stop_processing_job
from studio.core import storage
from studio.core.errors import ValidationException
from tests.conftest import wait_for
from tests.integration.conftest import put
from tests.integration.processing import PREPARE, request
from tests.integration.training import ENDED

pytestmark = pytest.mark.usefixtures("live")


def ended(job, timeout=120):
    def done():
        job.refresh_from_db()
        return job.status in ENDED

    wait_for(done, timeout, f"processing job {job.name} to end")
    return job


@pytest.fixture
def code() -> str:
    return put("s3://research-code/prepare/prepare.py", PREPARE)


def test_a_processing_jobs_output_becomes_a_dataset(runtime, alice, alice_profile, data, code):
    job = ended(
        create_processing_job(alice, alice_profile.domain.domain_id, request("prep-1", code))
    )
    assert job.status == "Completed", job.failure_reason
    written = storage.artifact_store().path("s3://research-output/processing/clean/clean.csv")
    assert written.read_text().startswith("label,x0,x1")
    dataset = Dataset.objects.get(name=job.output_datasets["clean"])
    assert dataset.domain == alice_profile.domain and dataset.owner == alice_profile
    assert 0 < dataset.row_count < 200
    assert [c["name"] for c in dataset.columns] == ["label", "x0", "x1"]


def test_a_failing_processing_script_fails_with_its_output(runtime, alice, alice_profile, data):
    code = put("s3://research-code/broken/prepare.py", "raise SystemExit('no such column: age')\n")
    job = ended(
        create_processing_job(alice, alice_profile.domain.domain_id, request("prep-bad", code))
    )
    assert job.status == "Failed"
    assert "no such column: age" in job.failure_reason


def test_stop_a_processing_job(runtime, alice, alice_profile, data):
    code = put("s3://research-code/slow/prepare.py", "import time\ntime.sleep(120)\n")
    job = create_processing_job(alice, alice_profile.domain.domain_id, request("prep-slow", code))

    def running():
        job.refresh_from_db()
        return job.runtime_state.get("containers")

    wait_for(running, 60, "the container to start")
    stop_processing_job(alice, alice_profile.domain.domain_id, "prep-slow")
    assert ended(job, 60).status == "Stopped"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda r: r["ProcessingInputs"][0]["S3Input"].update(LocalPath="/etc/raw"),
            "ProcessingInputs[0].S3Input.LocalPath",
        ),
        (
            lambda r: r["ProcessingInputs"][0]["S3Input"].update(S3Uri="s3://research-data/none"),
            "ProcessingInputs[0].S3Input.S3Uri",
        ),
        (
            lambda r: r["ProcessingInputs"][1].update(InputName="raw"),
            "ProcessingInputs[1].InputName",
        ),
        (
            lambda r: r["ProcessingOutputConfig"]["Outputs"][0]["S3Output"].update(
                LocalPath="/opt/ml/processing/input/raw"
            ),
            "ProcessingOutputConfig.Outputs[0].S3Output.LocalPath",
        ),
        (
            lambda r: r["ProcessingResources"]["ClusterConfig"].update(InstanceType="ml.x.y"),
            "ProcessingResources.ClusterConfig.InstanceType",
        ),
        (lambda r: r.update(ProcessingJobName="no_underscores"), "ProcessingJobName"),
        (lambda r: r["AppSpecification"].pop("ImageUri"), "AppSpecification.ImageUri"),
    ],
)
def test_bad_processing_requests_create_nothing(
    instance_types, alice, alice_profile, data, code, change, field
):
    spec = request("prep-x", code)
    change(spec)
    with pytest.raises(ValidationException) as e:
        create_processing_job(alice, alice_profile.domain.domain_id, spec)
    assert e.value.field == field, e.value.message
    assert not ProcessingJob.objects.exists()
