"""A built-in algorithm named by the ECR URI the SageMaker SDK's image_uris.retrieve gives trains
as one named by AlgorithmName does, on both runtimes."""

import pytest

from jobs.services import create_training_job
from tests.integration.training import ended, model_files, request

pytestmark = pytest.mark.usefixtures("live")

URI = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def test_a_built_in_named_by_its_sagemaker_uri_trains(runtime, alice, alice_profile, data):
    spec = request(
        "by-uri", AlgorithmSpecification={"TrainingImage": URI, "TrainingInputMode": "File"}
    )
    job = ended(create_training_job(alice, alice_profile.domain.domain_id, spec), 180)
    assert job.status == "Completed", job.failure_reason
    assert "model.joblib" in model_files(job)
