"""A boto3 user's whole lifecycle against a live Studio, every call through boto3 as a script
written for AWS makes it (only the endpoint URL and keys differ): data into S3, a built-in
training job waited on with boto3's own waiter, a model, an endpoint waited on, predictions
checked against the trained model's own, a paginator over three pages, the deletes, and the
error codes AWS gives for the common mistakes."""

import io
import json
import tarfile

import boto3
import httpx
import joblib
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from tests.integration.api import error_code, sagemaker, sagemaker_runtime
from tests.integration.training import separable_csv

pytestmark = pytest.mark.usefixtures("live", "instance_types")

REGION = "us-east-1"
# The URI the SDK's image_uris.retrieve("linear-learner", "us-east-1") gives.
LINEAR_LEARNER = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
FAST = {"Delay": 1, "MaxAttempts": 300}
ROWS = [[0.9, 0.8], [-0.7, -0.2], [0.3, -0.1], [-0.5, 0.45]]


@pytest.fixture
def keys(alice, alice_profile) -> tuple[str, str]:
    from domains.services import create_access_key

    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return key.access_key_id, secret


def s3_client(url: str, keys: tuple[str, str]):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
        config=Config(retries={"max_attempts": 1}),
    )


def test_a_boto3_script_runs_the_whole_lifecycle(asgi_server, keys, alice_profile, tmp_path):
    s3 = s3_client(asgi_server, keys)
    api = sagemaker(asgi_server, *keys)
    runtime = sagemaker_runtime(asgi_server, *keys)
    bucket = f"lifecycle-{alice_profile.domain.account_id}"

    # S3: a bucket, objects, a multipart upload, a listing by "folder", a range, a link.
    s3.create_bucket(Bucket=bucket)
    assert error_code(lambda: s3.create_bucket(Bucket=bucket)) == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket=bucket, Key="data/train.csv", Body=separable_csv().encode())
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (20 * 1024 * 4))  # 20 MiB
    s3.upload_file(
        str(big), bucket, "blobs/big.bin", Config=TransferConfig(multipart_threshold=8 << 20)
    )
    assert s3.head_object(Bucket=bucket, Key="blobs/big.bin")["ETag"].endswith('-3"')
    listing = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in listing["CommonPrefixes"]] == ["blobs/", "data/"]
    ranged = s3.get_object(Bucket=bucket, Key="blobs/big.bin", Range="bytes=256-511")
    assert ranged["Body"].read() == bytes(range(256))
    link = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "data/train.csv"}, ExpiresIn=60
    )
    assert httpx.get(link).content == separable_csv().encode()
    assert error_code(lambda: s3.get_object(Bucket=bucket, Key="nothing")) == "NoSuchKey"
    assert error_code(lambda: s3.head_bucket(Bucket="no-such-bucket-here")) == "404"
    assert error_code(lambda: s3.list_objects_v2(Bucket="no-such-bucket-here")) == "NoSuchBucket"

    # Training: a built-in by its ECR URI, waited on with boto3's waiter.
    training = {
        "TrainingJobName": "boto3-linear",
        "AlgorithmSpecification": {"TrainingImage": LINEAR_LEARNER, "TrainingInputMode": "File"},
        "RoleArn": role_of(api, alice_profile),
        "HyperParameters": {"predictor_type": "binary_classifier", "feature_dim": "2"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/data/"}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    api.create_training_job(**training)
    assert error_code(lambda: api.create_training_job(**training)) == "ResourceInUse"
    api.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="boto3-linear", WaiterConfig=FAST
    )
    job = api.describe_training_job(TrainingJobName="boto3-linear")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts.startswith(f"s3://{bucket}/output/boto3-linear/")

    # The model's own predictions, from the artifact fetched back through S3.
    key = artifacts.removeprefix(f"s3://{bucket}/")
    packed = io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    with tarfile.open(fileobj=packed, mode="r:gz") as archive:
        estimator = joblib.load(archive.extractfile("model.joblib"))
    expected = [int(label) for label in estimator.predict(ROWS)]

    # Hosting: model, config, endpoint waited on, invoked.
    api.create_model(
        ModelName="boto3-linear",
        PrimaryContainer={"Image": LINEAR_LEARNER, "ModelDataUrl": artifacts},
        ExecutionRoleArn=role_of(api, alice_profile),
    )
    api.create_endpoint_config(
        EndpointConfigName="boto3-linear",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "boto3-linear",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    api.create_endpoint(EndpointName="boto3-linear", EndpointConfigName="boto3-linear")
    api.get_waiter("endpoint_in_service").wait(EndpointName="boto3-linear", WaiterConfig=FAST)
    answer = runtime.invoke_endpoint(
        EndpointName="boto3-linear",
        ContentType="text/csv",
        Accept="application/json",
        Body="\n".join(",".join(str(v) for v in row) for row in ROWS),
    )
    predictions = json.loads(answer["Body"].read())["predictions"]
    assert [int(p["predicted_label"]) for p in predictions] == expected
    assert (
        error_code(lambda: runtime.invoke_endpoint(EndpointName="nowhere", Body=b"1,2"))
        == "ValidationError"
    )

    # A paginator over three pages sees every model once, in SageMaker's default order.
    for n in range(5):
        api.create_model(
            ModelName=f"boto3-extra-{n}",
            PrimaryContainer={"Image": LINEAR_LEARNER, "ModelDataUrl": artifacts},
            ExecutionRoleArn=role_of(api, alice_profile),
        )
    pages = list(api.get_paginator("list_models").paginate(PaginationConfig={"PageSize": 2}))
    names = [m["ModelName"] for page in pages for m in page["Models"]]
    assert len(pages) == 3
    assert names == [*(f"boto3-extra-{n}" for n in reversed(range(5))), "boto3-linear"]

    # The deletes, each answered as AWS answers a second one.
    api.delete_endpoint(EndpointName="boto3-linear")
    api.get_waiter("endpoint_deleted").wait(EndpointName="boto3-linear", WaiterConfig=FAST)
    api.delete_endpoint_config(EndpointConfigName="boto3-linear")
    for name in names:
        api.delete_model(ModelName=name)
    assert error_code(lambda: api.delete_model(ModelName="boto3-linear")) == "ValidationException"
    assert error_code(lambda: api.describe_training_job(TrainingJobName="nope")) == (
        "ValidationException"
    )
    s3.delete_objects(
        Bucket=bucket,
        Delete={
            "Objects": [{"Key": o["Key"]} for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        },
    )
    s3.delete_bucket(Bucket=bucket)
    assert error_code(lambda: s3.delete_bucket(Bucket=bucket)) == "NoSuchBucket"


def role_of(api, profile) -> str:
    return api.describe_user_profile(
        DomainId=profile.domain.domain_id, UserProfileName=profile.name
    )["UserSettings"]["ExecutionRole"]
