"""Jobs cannot reach another domain's data, nor the host's files, through the URIs they name:
attacks from a member of one domain on another domain's dataset, and on the worker's disk."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import ProcessingJob, TrainingJob
from jobs.services import create_processing_job, create_training_job, upload_dataset
from studio.core.errors import AccessDenied, ValidationException
from tests.integration.processing import request as processing_request
from tests.integration.training import request as training_request
from tests.integration.training import separable_csv

pytestmark = pytest.mark.usefixtures("live")


@pytest.fixture
def carols_dataset(instance_types, make_domain, make_profile, carol):
    """A dataset of another domain, and its URI."""
    other = make_domain("elsewhere")
    make_profile(other, carol, "carol")
    upload = SimpleUploadedFile("secret.csv", separable_csv().encode(), "text/csv")
    return upload_dataset(carol, other.domain_id, name="secret", uploaded_file=upload).s3_uri


def input_from(uri: str) -> list[dict]:
    return [
        {
            "ChannelName": "train",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
        }
    ]


def test_a_training_job_cannot_read_another_domains_dataset(alice, alice_profile, carols_dataset):
    domain_id = alice_profile.domain.domain_id
    for uri in (carols_dataset, carols_dataset + "no-such-file.csv"):
        # The same answer whether the path exists or not: nothing about it shows.
        with pytest.raises(AccessDenied, match="belongs to another domain") as refused:
            create_training_job(
                alice, domain_id, training_request("steal", InputDataConfig=input_from(uri))
            )
        assert "InputDataConfig[0].DataSource.S3DataSource.S3Uri" in refused.value.message
    assert not TrainingJob.objects.exists()


def test_a_job_cannot_write_into_another_domains_bucket(alice, alice_profile, carols_dataset):
    domain_id = alice_profile.domain.domain_id
    overwrite = {"S3OutputPath": carols_dataset}
    with pytest.raises(AccessDenied, match=r"OutputDataConfig\.S3OutputPath"):
        create_training_job(
            alice, domain_id, training_request("clobber", OutputDataConfig=overwrite)
        )
    code = "s3://research-code/prepare/prepare.py"
    spec = processing_request("clobber", code)
    spec["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = carols_dataset
    with pytest.raises(AccessDenied, match="belongs to another domain"):
        create_processing_job(alice, domain_id, spec)
    assert not TrainingJob.objects.exists() and not ProcessingJob.objects.exists()


def test_a_job_cannot_name_the_workers_own_files(instance_types, alice, alice_profile, settings):
    domain_id = alice_profile.domain.domain_id
    data_dir = f"file://{settings.DATA_DIR}/"
    with pytest.raises(ValidationException, match="file:// URIs name files on the worker"):
        create_training_job(
            alice, domain_id, training_request("host", InputDataConfig=input_from(data_dir))
        )
    # Script mode's code location, as the SageMaker SDK sends it (JSON-encoded), too.
    sneaky = training_request(
        "host-code",
        AlgorithmSpecification={"TrainingImage": "studio/sklearn:latest"},
        HyperParameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"file:///etc"',
        },
    )
    with pytest.raises(ValidationException, match="sagemaker_submit_directory"):
        create_training_job(alice, domain_id, sneaky)
    assert not TrainingJob.objects.exists()


def test_a_job_cannot_name_a_bucket_another_domain_created_through_s3(
    alice, alice_profile, make_domain, make_profile, carol
):
    """Buckets created through the S3 endpoint, and the SageMaker SDK's default bucket of
    another domain's account (created or not), are that domain's for jobs too."""
    from studio.core.models import Bucket

    other = make_domain("elsewhere")
    make_profile(other, carol, "carol")
    Bucket.objects.create(name="carols-s3-bucket", domain=other)
    domain_id = alice_profile.domain.domain_id
    for uri in (
        "s3://carols-s3-bucket/train/",
        f"s3://sagemaker-us-east-1-{other.account_id}/train/",
    ):
        with pytest.raises(AccessDenied, match="belongs to another domain"):
            create_training_job(
                alice, domain_id, training_request("steal", InputDataConfig=input_from(uri))
            )
    assert not TrainingJob.objects.exists()
