"""Which URIs a job of a domain may name: its own bucket and shared ones; not another
domain's bucket, nor (unless allowed) the worker host's files; wherever they hide."""

import pytest

from domains.models import Domain
from studio.core.errors import AccessDenied, ValidationException
from studio.core.models import Bucket
from studio.core.storage import check_access, check_request_uris

# Who owns a bucket is read from the database (buckets created through the S3 endpoint).
pytestmark = pytest.mark.django_db
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


def test_a_bucket_another_domain_created_is_refused():
    other = Domain.objects.create(name="other")
    Bucket.objects.create(name="others-data", domain=other)
    with pytest.raises(AccessDenied, match="S3Uri: bucket others-data belongs to another domain"):
        check_access("s3://others-data/x", OWN, "S3Uri")
    check_access("s3://others-data/x", other.domain_id, "S3Uri")


def test_the_sdk_default_bucket_is_its_accounts_domains_even_before_it_is_created():
    mine = Domain.objects.create(name="mine")
    other = Domain.objects.create(name="other")
    theirs = f"s3://sagemaker-us-east-1-{other.account_id}/code/x.tar.gz"
    with pytest.raises(AccessDenied):
        check_access(theirs, mine.domain_id, "S3Uri")
    check_access(theirs, other.domain_id, "S3Uri")
    # An account id no domain has names a shared bucket, as any other name.
    check_access("s3://sagemaker-us-east-1-000000000000/x", mine.domain_id, "S3Uri")


def test_platform_buckets_and_unknown_domains_buckets_are_refused():
    for uri in ("s3://studio/x", "s3://studio.internal/x", "s3://studio-d-nobody/x"):
        with pytest.raises(AccessDenied):
            check_access(uri, OWN, "S3Uri")
