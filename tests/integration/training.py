"""Building CreateTrainingJob requests and waiting for jobs, for the training tests."""

import random
import tarfile

from studio.core import storage
from tests.conftest import wait_for

DATA = "s3://research-data/iris-like/train.csv"
OUTPUT = "s3://research-output/training"
ENDED = {"Completed", "Failed", "Stopped"}


def separable_csv(rows: int = 200, seed: int = 7) -> str:
    """Label first, no header, as SageMaker's built-in algorithms take CSV."""
    rng = random.Random(seed)
    lines = []
    for _ in range(rows):
        x0, x1 = rng.uniform(-1, 1), rng.uniform(-1, 1)
        lines.append(f"{int(x0 + x1 > 0)},{x0:.4f},{x1:.4f}")
    return "\n".join(lines) + "\n"


def request(name: str, **overrides) -> dict:
    spec = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"AlgorithmName": "linear-learner"},
        "HyperParameters": {"predictor_type": "binary_classifier"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": DATA}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": OUTPUT},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    spec.update(overrides)
    return spec


def script_request(name: str, source_uri: str, **overrides) -> dict:
    return request(
        name,
        AlgorithmSpecification=overrides.pop(
            "AlgorithmSpecification", {"TrainingImage": "studio/sklearn:latest"}
        ),
        HyperParameters={
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": source_uri,
            **overrides.pop("HyperParameters", {}),
        },
        **overrides,
    )


def ended(job, timeout: float = 120):
    def done():
        job.refresh_from_db()
        return job.status in ENDED

    wait_for(done, timeout, f"training job {job.name} to end")
    return job


def model_files(job) -> dict[str, bytes]:
    with tarfile.open(storage.artifact_store().path(job.model_artifacts)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def training_started(job, timeout: float = 60):
    """Wait until the job's containers run (secondary status Training)."""

    def check():
        job.refresh_from_db()
        return job.secondary_status == "Training" and job.runtime_state.get("containers")

    wait_for(check, timeout, f"{job.name} to be training")
    return job
