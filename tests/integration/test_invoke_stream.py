"""sagemaker-runtime's InvokeEndpointWithResponseStream through the live router, with the real
boto3 reading the event stream, against a real serving container on both runtimes."""

import json

import pytest
from botocore.exceptions import ClientError

from domains.services import create_access_key
from tests.integration.api import sagemaker_runtime
from tests.integration.hosting import (
    iris_model,
    make_endpoint,
    make_model,
    settled,
    store_model,
    variant,
)

pytestmark = pytest.mark.usefixtures("live")

MODEL_URI = "s3://research-models/iris/model.tar.gz"
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


def csv(rows) -> str:
    return "\n".join(",".join(str(float(v)) for v in row) for row in rows)


@pytest.fixture
def client(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker_runtime(asgi_server, key.access_key_id, secret)


@pytest.fixture
def endpoint(runtime, alice, alice_profile):
    estimator, _ = iris_model()
    store_model(MODEL_URI, estimator)
    domain_id = alice_profile.domain.domain_id
    make_model(alice, domain_id, "iris", MODEL_URI)
    deployed = settled(make_endpoint(alice, domain_id, "streamed", [variant("iris")]))
    assert deployed.status == "InService", deployed.failure_reason
    return estimator


def test_a_streamed_answer_is_the_models_answer_in_payload_parts(client, endpoint):
    answer = client.invoke_endpoint_with_response_stream(
        EndpointName="streamed", Body=csv(ROWS), ContentType="text/csv", Accept="application/json"
    )
    assert answer["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/vnd.amazon.eventstream"
    )
    assert answer["ContentType"] == "application/json"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    events = list(answer["Body"])
    # A container that does not stream gives its whole answer as one part.
    assert [list(event) for event in events] == [["PayloadPart"]]
    body = b"".join(event["PayloadPart"]["Bytes"] for event in events)
    assert json.loads(body)["predictions"] == endpoint.predict(ROWS).tolist()
    # The same as InvokeEndpoint answers.
    whole = client.invoke_endpoint(
        EndpointName="streamed", Body=csv(ROWS), ContentType="text/csv", Accept="application/json"
    )
    assert json.loads(whole["Body"].read()) == json.loads(body)


def test_a_model_error_and_a_missing_endpoint_answer_as_sagemaker_runtime(
    client, endpoint, alice_profile
):
    with pytest.raises(ClientError) as caught:
        client.invoke_endpoint_with_response_stream(
            EndpointName="streamed", Body="not,a,number\n", ContentType="text/csv"
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] >= 400
    with pytest.raises(ClientError) as caught:
        client.invoke_endpoint_with_response_stream(
            EndpointName="nowhere", Body=csv(ROWS), ContentType="text/csv"
        )
    account = alice_profile.domain.account_id
    assert caught.value.response["Error"] == {
        "Code": "ValidationError",
        "Message": f"Endpoint nowhere of account {account} not found.",
    }
