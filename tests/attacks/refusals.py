"""Helpers for attacks that the API must refuse: the request as boto3 sends it, and one check
that the refusal names the field, leaks no canary, creates no job and writes nothing outside."""

from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from jobs.models import ProcessingJob, TrainingJob
from tests.integration.processing import request as processing_request
from tests.integration.training import request as training_request
from tests.integration.training import script_request

ROLE = "arn:aws:iam::000000000000:role/SageMakerExecution"  # required by boto3; unused here
CODE = "s3://research-code/prepare/prepare.py"


@dataclass
class Refusal:
    code: str
    message: str


def as_boto3_sends(spec: dict) -> dict:
    if "AlgorithmSpecification" in spec:
        spec["AlgorithmSpecification"].setdefault("TrainingInputMode", "File")
    return {**spec, "RoleArn": ROLE}


def training(name: str, **overrides) -> dict:
    return as_boto3_sends(training_request(name, **overrides))


def script_training(name: str, submit_directory: str, **overrides) -> dict:
    return as_boto3_sends(script_request(name, submit_directory, **overrides))


def processing(name: str, **overrides) -> dict:
    return as_boto3_sends(processing_request(name, CODE, **overrides))


def refused(member, canaries, operation: str, params: dict, code: str, field: str) -> Refusal:
    """Send `params` to `operation` as the member; assert the refusal is `code`, names `field`,
    shows no canary, and that no job of that name exists nor anything was written outside."""
    with pytest.raises(ClientError) as caught:
        getattr(member.api, operation)(**params)
    error = caught.value.response["Error"]
    canaries.assert_absent(error, caught.value.response)
    assert error["Code"] == code, error
    assert field in error["Message"], error
    name = params.get("TrainingJobName") or params.get("ProcessingJobName")
    assert not TrainingJob.objects.filter(name=name).exists()
    assert not ProcessingJob.objects.filter(name=name).exists()
    canaries.assert_nothing_outside()
    return Refusal(error["Code"], error["Message"])
