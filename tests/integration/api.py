"""boto3 clients for Studio's API, and reading the errors it answers, for the API tests."""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def aws(service: str, url: str, key_id: str, secret: str, **config):
    """A boto3 client of any AWS service Studio answers, at Studio's URL."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def sagemaker(url: str, key_id: str, secret: str, **config):
    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def error_code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def sagemaker_runtime(url: str, key_id: str, secret: str):
    """sagemaker-runtime (InvokeEndpoint) against Studio's router."""
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )
