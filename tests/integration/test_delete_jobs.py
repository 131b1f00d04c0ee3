"""DeleteTrainingJob and DeleteProcessingJob with the real boto3, on jobs the real worker ran:
refused while the job runs, then the job, its history and its tree on the host are gone and its
name can be used again. Who may delete, and another domain's job, as SageMaker answers them."""

import pytest
from botocore.exceptions import ClientError

from domains.services import create_access_key
from jobs.models import ProcessingJob, TrainingJob
from jobs.processing import workspace as processing_workspace
from jobs.services import create_training_job
from jobs.training import workspace as training_workspace
from studio.core import storage
from studio.core.models import StatusTransition
from tests.integration.api import sagemaker
from tests.integration.conftest import put
from tests.integration.processing import PREPARE
from tests.integration.processing import request as processing_request
from tests.integration.training import ended
from tests.integration.training import request as training_request

pytestmark = pytest.mark.usefixtures("live")

FAST = {"Delay": 1, "MaxAttempts": 180}
ROLE = "arn:aws:iam::000000000000:role/SageMakerExecution"
NOT_FOUND = {"Code": "ValidationException", "Message": "Requested resource not found."}


def error_of(call) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


@pytest.fixture
def api(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret)


def training_spec(name: str) -> dict:
    spec = training_request(name)
    spec["AlgorithmSpecification"]["TrainingInputMode"] = "File"
    return {**spec, "RoleArn": ROLE}


def history(job) -> int:
    return StatusTransition.objects.filter(
        resource_type=job.RESOURCE_TYPE, resource_id=job.resource_id
    ).count()


def test_a_training_job_is_deleted_once_ended_and_its_name_is_free_again(
    runtime, data, api, alice_profile
):
    domain_id = alice_profile.domain.domain_id
    api.create_training_job(**training_spec("short-lived"))
    job = TrainingJob.objects.get(name="short-lived")
    refused = error_of(lambda: api.delete_training_job(TrainingJobName="short-lived"))
    assert refused["Code"] == "ResourceInUse" and "Stop it first" in refused["Message"]
    api.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="short-lived", WaiterConfig=FAST
    )
    tree = training_workspace.job_dir(domain_id, "short-lived")
    assert tree.exists() and history(job) > 0
    artifacts = api.describe_training_job(TrainingJobName="short-lived")["ModelArtifacts"]

    assert (
        api.delete_training_job(TrainingJobName="short-lived")["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )
    assert error_of(lambda: api.describe_training_job(TrainingJobName="short-lived")) == NOT_FOUND
    assert error_of(lambda: api.delete_training_job(TrainingJobName="short-lived")) == NOT_FOUND
    assert api.list_training_jobs()["TrainingJobSummaries"] == []
    assert not tree.exists() and history(job) == 0
    # What it wrote to the store stays, as SageMaker leaves S3 alone.
    assert storage.artifact_store().head(artifacts["S3ModelArtifacts"]) is not None

    # The name is free: a new job of it starts its own history.
    api.create_training_job(**training_spec("short-lived"))
    again = ended(TrainingJob.objects.get(name="short-lived"))
    assert again.status == "Completed", again.failure_reason
    steps = api.describe_training_job(TrainingJobName="short-lived")["SecondaryStatusTransitions"]
    assert [s["Status"] for s in steps].count("Starting") == 1


def test_a_processing_job_is_deleted_once_ended(runtime, data, api, alice_profile):
    domain_id = alice_profile.domain.domain_id
    code = put("s3://research-code/prepare/prepare.py", PREPARE)
    spec = {**processing_request("prep", code), "RoleArn": ROLE}
    api.create_processing_job(**spec)
    refused = error_of(lambda: api.delete_processing_job(ProcessingJobName="prep"))
    assert refused["Code"] == "ResourceInUse"
    api.get_waiter("processing_job_completed_or_stopped").wait(
        ProcessingJobName="prep", WaiterConfig=FAST
    )
    tree = processing_workspace.job_dir(domain_id, "prep")
    assert tree.exists()
    api.delete_processing_job(ProcessingJobName="prep")
    assert error_of(lambda: api.describe_processing_job(ProcessingJobName="prep")) == NOT_FOUND
    assert not ProcessingJob.objects.exists() and not tree.exists()


def test_who_may_delete_and_whose_jobs_are_found(
    instance_types, data, api, bob, bob_profile, make_domain, make_profile, carol
):
    bobs = ended(
        create_training_job(bob, bob_profile.domain.domain_id, training_request("bobs-job"))
    )
    # A colleague's job is readable, as in the dashboard, but not the caller's to delete.
    refused = error_of(lambda: api.delete_training_job(TrainingJobName="bobs-job"))
    assert refused["Code"] == "AccessDeniedException"
    other = make_domain("elsewhere")
    carols = make_profile(other, carol, "carol")
    ended(create_training_job(carol, other.domain_id, training_request("carols-job")))
    # Another domain's job is not found, exactly as one nobody made.
    assert error_of(lambda: api.delete_training_job(TrainingJobName="carols-job")) == NOT_FOUND
    assert TrainingJob.objects.filter(pk=bobs.pk).exists()
    assert TrainingJob.objects.filter(name="carols-job", profile=carols).exists()
