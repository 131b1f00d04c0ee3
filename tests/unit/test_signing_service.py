"""Where a request goes is read from the service its credential scope names."""

import pytest

from studio.web.api.sigv4 import signing_service

HEADER = (
    "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261128/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


@pytest.mark.parametrize("service", ["s3", "sts", "logs", "sagemaker"])
def test_the_authorization_header_names_the_service(service):
    assert signing_service(HEADER.format(service=service), "") == service


def test_a_presigned_url_names_its_service_percent_encoded():
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261128%2Fus-east-1"
        "%2Fs3%2Faws4_request&X-Amz-Date=20261128T000000Z&X-Amz-Expires=60"
    )
    assert signing_service("", query) == "s3"


@pytest.mark.parametrize(
    "authorization, query",
    [
        ("", ""),
        ("Bearer abc", ""),
        ("AWS4-HMAC-SHA256 Credential=short", ""),
        ("", "Credential=AKIA/20261128/us-east-1/s3/aws4_request"),
    ],
)
def test_anything_else_names_no_service(authorization, query):
    assert signing_service(authorization, query) is None
