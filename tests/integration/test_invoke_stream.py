"""sagemaker-runtime's InvokeEndpointWithResponseStream through the live router, with the real
boto3 reading the event stream: against a real serving container on both runtimes (which
answers whole), and against a model server that streams its answer in chunks."""

import json
import os
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EventStreamError

from domains.services import create_access_key
from jobs.hosting.paths import instance_socket
from jobs.models import Endpoint, EndpointInstance
from jobs.services.endpoints import desired_from
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
    assert caught.value.response["ResponseMetadata"]["RequestId"]
    assert caught.value.response["Error"] == {
        "Code": "ValidationError",
        "Message": f"Endpoint nowhere of account {account} not found.",
    }


# A model that streams: a real HTTP server on an instance's socket, answering chunked, as a
# container serving a language model's tokens does.


class StreamingModel(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Answers POST /invocations with Transfer-Encoding: chunked: its first chunk at once,
    the rest only once `go` is set (the test sets it after boto3 has read the first part, so
    the test passes only if parts reach the caller as they are written). `break_off`: close
    the connection mid-answer instead of ending it."""

    daemon_threads = True

    def __init__(self, path: Path, chunks: list[bytes], break_off: bool = False):
        self.chunks, self.break_off, self.go = chunks, break_off, threading.Event()
        self.received: list[bytes] = []
        super().__init__(str(path), StreamingHandler)


class StreamingHandler(socketserver.StreamRequestHandler):
    server: StreamingModel

    def handle(self) -> None:
        head = {}
        self.rfile.readline()
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            head[name.strip().lower()] = value.strip()
        self.server.received.append(self.rfile.read(int(head.get("content-length", "0"))))
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        )
        first, *rest = self.server.chunks
        self.chunk(first)
        if not self.server.go.wait(30):
            return
        if self.server.break_off:
            self.wfile.write(b"ff\r\nhalf a chunk")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        for chunk in rest:
            self.chunk(chunk)
        self.wfile.write(b"0\r\n\r\n")

    def chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


@pytest.fixture
def streaming_endpoint(alice_profile) -> Iterator[Callable[..., StreamingModel]]:
    """An InService endpoint row whose one instance is a StreamingModel (made here, so that no
    deployment moves it), made by calling the fixture with the server's arguments."""
    servers: list[StreamingModel] = []

    def make(chunks: list[bytes], break_off: bool = False) -> StreamingModel:
        name = f"tokens-{len(servers)}"
        config = {
            "EndpointConfigName": name,
            "ProductionVariants": [variant("llm")],
        }
        endpoint = Endpoint.objects.create(
            name=name,
            domain=alice_profile.domain,
            profile=alice_profile,
            config_name=name,
            config=config,
            desired=desired_from(config),
            generation=1,
            latest_generation=1,
            status="InService",
            runtime="sandbox",
        )
        instance = EndpointInstance.objects.create(
            endpoint=endpoint,
            generation=1,
            variant_name="AllTraffic",
            model_name="llm",
            instance_type="ml.m5.large",
            runtime="sandbox",
            uid=os.getuid(),  # who runs the server here, and so owns its socket
            status="InService",
        )
        path = instance_socket(instance)
        path.parent.mkdir(parents=True, exist_ok=True)
        server = StreamingModel(path, chunks, break_off)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.go.set()
        server.shutdown()
        server.server_close()


def test_a_streaming_model_reaches_the_caller_part_by_part(client, streaming_endpoint):
    model = streaming_endpoint([b"The ", b"quick ", b"brown ", b"fox"])
    answer = client.invoke_endpoint_with_response_stream(
        EndpointName="tokens-0", Body=b'{"prompt": "say"}', ContentType="application/json"
    )
    assert answer["ContentType"] == "text/plain"
    events = iter(answer["Body"])
    # The first token arrives while the model still holds the rest back.
    assert next(events) == {"PayloadPart": {"Bytes": b"The "}}
    model.go.set()
    assert [e["PayloadPart"]["Bytes"] for e in events] == [b"quick ", b"brown ", b"fox"]
    assert model.received == [b'{"prompt": "say"}']


def test_a_stream_that_breaks_off_ends_with_a_model_stream_error(client, streaming_endpoint):
    model = streaming_endpoint([b"partial ", b"never sent"], break_off=True)
    answer = client.invoke_endpoint_with_response_stream(
        EndpointName="tokens-0", Body=b"{}", ContentType="application/json"
    )
    events = iter(answer["Body"])
    assert next(events) == {"PayloadPart": {"Bytes": b"partial "}}
    model.go.set()
    with pytest.raises(EventStreamError) as caught:
        list(events)
    assert caught.value.response["Error"]["Code"] == "ModelStreamError"
    assert "broke its answer off" in caught.value.response["Error"]["Message"]
