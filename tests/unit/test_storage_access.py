"""Which URIs a job of a domain may name: its own bucket and shared ones; not another
domain's bucket, nor (unless allowed) the worker host's files; wherever they hide."""

import pytest

from studio.core.errors import AccessDenied, ValidationException
from studio.core.storage import check_request_uris

OWN = "d-own"


@pytest.mark.parametrize(
    "uri",
    ["s3://studio-d-own/datasets/x/", "s3://research-data/train.csv", "s3://sagemaker-us-east-1/a"],
)
def test_own_and_shared_buckets_are_allowed(uri):
    check_request_uris({"InputDataConfig": [{"S3Uri": uri}]}, OWN)


def test_another_domains_bucket_is_refused_naming_the_member():
    request = {"InputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://studio-d-x/"}}}]}
    with pytest.raises(AccessDenied, match=r"InputDataConfig\[0\].DataSource.S3DataSource.S3Uri"):
        check_request_uris(request, OWN)


def test_a_json_encoded_hyperparameter_is_looked_into(settings):
    settings.STUDIO_ALLOW_FILE_URIS = False
    with pytest.raises(ValidationException, match=r"HyperParameters\.sagemaker_submit_directory"):
        check_request_uris(
            {"HyperParameters": {"sagemaker_submit_directory": '"file:///etc"'}}, OWN
        )


def test_host_files_only_when_an_admin_allows_them(settings):
    request = {"OutputDataConfig": {"S3OutputPath": "file:///var/lib/studio"}}
    settings.STUDIO_ALLOW_FILE_URIS = False
    with pytest.raises(ValidationException, match="STUDIO_ALLOW_FILE_URIS=1"):
        check_request_uris(request, OWN)
    settings.STUDIO_ALLOW_FILE_URIS = True
    check_request_uris(request, OWN)
