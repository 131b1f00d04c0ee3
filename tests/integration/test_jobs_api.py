"""Training and processing jobs through SageMaker's API, driven by boto3 as users' code drives
SageMaker: create, wait with boto3's own waiters, describe, list, stop; denials by policy."""

import json

import pytest
from botocore.exceptions import ClientError
from django.core.files.uploadedfile import SimpleUploadedFile

from domains.services import create_access_key, create_app, create_space
from jobs.models import ProcessingJob, TrainingJob
from jobs.services import create_training_job, upload_dataset
from tests.conftest import settled
from tests.integration.api import error_code, sagemaker
from tests.integration.conftest import put
from tests.integration.notebooks import Server, running
from tests.integration.processing import PREPARE
from tests.integration.processing import request as processing_request
from tests.integration.training import ended, separable_csv
from tests.integration.training import request as training_request

pytestmark = pytest.mark.usefixtures("live")
FAST = {"Delay": 1, "MaxAttempts": 120}
ROLE = "arn:aws:iam::000000000000:role/SageMakerExecution"  # required by boto3; unused here


def as_boto3_sends(spec: dict) -> dict:
    """A request as boto3 insists on it: with a RoleArn and, for training, an input mode."""
    if "AlgorithmSpecification" in spec:
        spec["AlgorithmSpecification"].setdefault("TrainingInputMode", "File")
    return {**spec, "RoleArn": ROLE}


@pytest.fixture
def alice_api(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret)


def test_boto3_trains_a_model_and_reads_it_back(runtime, data, alice_api, alice_profile):
    arn = alice_api.create_training_job(**as_boto3_sends(training_request("api-train")))[
        "TrainingJobArn"
    ]
    # The domain's own account id, as a SageMaker ARN carries its account's.
    account = alice_profile.domain.account_id
    assert arn.endswith(f":{account}:training-job/api-train")
    alice_api.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="api-train", WaiterConfig=FAST
    )
    job = alice_api.describe_training_job(TrainingJobName="api-train")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Completed", "Completed")
    assert job["ModelArtifacts"]["S3ModelArtifacts"].endswith("/api-train/output/model.tar.gz")
    assert job["AlgorithmSpecification"]["AlgorithmName"] == "linear-learner"
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 300}
    assert job["TrainingEndTime"] >= job["TrainingStartTime"] >= job["CreationTime"]
    steps = [step["Status"] for step in job["SecondaryStatusTransitions"]]
    assert steps[0] == "Starting" and steps[-1] == "Completed", steps
    assert job["BillableTimeInSeconds"] >= 0
    listed = alice_api.list_training_jobs(StatusEquals="Completed")["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in listed] == ["api-train"]


def test_boto3_runs_a_processing_job(runtime, data, alice_api):
    code = put("s3://research-code/prepare/prepare.py", PREPARE)
    alice_api.create_processing_job(**as_boto3_sends(processing_request("api-prep", code)))
    alice_api.get_waiter("processing_job_completed_or_stopped").wait(
        ProcessingJobName="api-prep", WaiterConfig=FAST
    )
    job = alice_api.describe_processing_job(ProcessingJobName="api-prep")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    outputs = job["ProcessingOutputConfig"]["Outputs"]
    assert [o["OutputName"] for o in outputs] == ["clean"]
    assert job["ProcessingEndTime"] >= job["ProcessingStartTime"]
    listed = alice_api.list_processing_jobs()["ProcessingJobSummaries"]
    assert [(s["ProcessingJobName"], s["ProcessingJobStatus"]) for s in listed] == [
        ("api-prep", "Completed")
    ]


def test_a_key_cannot_stop_anothers_job_or_see_another_domains(
    instance_types, data, alice_api, bob, bob_profile, make_domain, make_profile, carol
):
    job = ended(
        create_training_job(bob, bob_profile.domain.domain_id, training_request("bobs-job"))
    )
    # Reading a colleague's job is allowed, as in the dashboard; stopping it is not.
    assert alice_api.describe_training_job(TrainingJobName="bobs-job")["TrainingJobStatus"] == (
        job.status
    )
    assert error_code(lambda: alice_api.stop_training_job(TrainingJobName="bobs-job")) == (
        "AccessDeniedException"
    )
    other = make_domain("elsewhere")
    carols = make_profile(other, carol, "carol")
    create_training_job(carol, other.domain_id, training_request("carols-job"))
    assert carols.domain != bob_profile.domain
    # As SageMaker answers a job that does not exist (botocore's waiters rely on it).
    assert error_code(lambda: alice_api.describe_training_job(TrainingJobName="carols-job")) == (
        "ValidationException"
    )


def test_a_bad_job_request_names_the_field_and_creates_nothing(
    instance_types, asgi_server, alice, alice_profile
):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    client = sagemaker(asgi_server, key.access_key_id, secret, parameter_validation=False)
    spec = as_boto3_sends(
        training_request("bad-job", ResourceConfig={"InstanceType": "ml.nope", "InstanceCount": 1})
    )
    with pytest.raises(ClientError, match="InstanceType"):
        client.create_training_job(**spec)
    bad = as_boto3_sends(training_request("bad-job"))
    del bad["OutputDataConfig"]
    with pytest.raises(ClientError, match="OutputDataConfig"):
        client.create_training_job(**bad)
    assert error_code(lambda: client.stop_processing_job(ProcessingJobName="none-such")) == (
        "ValidationException"
    )
    assert not TrainingJob.objects.exists() and not ProcessingJob.objects.exists()


TRAIN_FROM_A_CELL = """
import json, boto3
sm = boto3.client("sagemaker")
spec = json.loads({spec!r})
sm.create_training_job(**spec)
sm.get_waiter("training_job_completed_or_stopped").wait(
    TrainingJobName=spec["TrainingJobName"], WaiterConfig={{"Delay": 1, "MaxAttempts": 120}}
)
print(sm.describe_training_job(TrainingJobName=spec["TrainingJobName"])["TrainingJobStatus"])
"""


def test_a_notebook_trains_on_a_dataset_with_boto3(jupyter, asgi_server, alice, alice_profile):
    """The lifecycle in one tab: a dataset uploaded in the dashboard, a training job started
    from a notebook cell and waited for there, as the notebook's owner."""
    domain_id = alice_profile.domain.domain_id
    upload = SimpleUploadedFile("iris.csv", separable_csv().encode(), "text/csv")
    dataset = upload_dataset(alice, domain_id, name="iris", uploaded_file=upload)
    settled(create_space(alice, domain_id, name="lab"))
    app = running(create_app(alice, domain_id, space_name="lab"))
    spec = as_boto3_sends(
        training_request(
            f"from-a-notebook-{jupyter}",
            InputDataConfig=[
                {
                    "ChannelName": "train",
                    "ContentType": "text/csv",
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": dataset.s3_uri}
                    },
                }
            ],
            OutputDataConfig={"S3OutputPath": f"s3://studio-{domain_id}/training-output"},
        )
    )
    printed = Server(app).execute(TRAIN_FROM_A_CELL.format(spec=json.dumps(spec)))
    assert printed.strip() == "Completed", printed
    job = TrainingJob.objects.get(name=spec["TrainingJobName"])
    assert job.profile == alice_profile and job.model_artifacts
