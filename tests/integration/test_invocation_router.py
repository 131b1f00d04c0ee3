"""The invocation router, end to end: boto3's sagemaker-runtime client against the live ASGI
server, which routes to the sklearn image's real `serve` running on the host.

Until an endpoint is deployed here by the worker (tests/integration/test_endpoint_lifecycle.py
does that), each test makes its endpoint's rows directly — InService, with InService instances
— and moves the socket of an already running `serve` to each instance's socket path. Starting
`serve` imports scikit-learn (seconds), so the servers start once per module.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import wait_for

pytestmark = pytest.mark.usefixtures("live")

ROOT = Path(__file__).resolve().parents[2]
TOOLKIT_DIR = ROOT / "images" / "sklearn"
START_TIMEOUT = 90
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
CSV = "\n".join(",".join(str(v) for v in row) for row in ROWS)

# Script-mode handlers for the server that sleeps on request, or leaves a marker file when a
# request reaches it.
HANDLERS = """
import json, time

def input_fn(body, content_type):
    doc = json.loads(body)
    if doc.get("marker"):
        open(doc["marker"], "w").close()
    time.sleep(doc.get("sleep", 0))
    return doc["rows"]

def output_fn(prediction, accept):
    return json.dumps({"labels": prediction.tolist()}), "application/json"
"""


# -- serve, on the host ------------------------------------------------------------------------


@dataclass
class Serve:
    """A running `serve` and where its socket is now (moved to an instance's path)."""

    home: Path
    process: subprocess.Popen
    socket: Path = field(init=False)

    def __post_init__(self) -> None:
        self.socket = self.home / "s.sock"

    def place(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.socket, path)
        self.socket = path

    def home_again(self) -> None:
        if self.socket.exists() and self.socket != self.home / "s.sock":
            os.rename(self.socket, self.home / "s.sock")
        self.socket = self.home / "s.sock"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def start_serve(home: Path, model, **env: str) -> Serve:
    import joblib

    (home / "model").mkdir(parents=True)
    joblib.dump(model, home / "model" / "model.joblib")
    if env.get("SAGEMAKER_PROGRAM"):
        (home / "model" / "code").mkdir()
        (home / "model" / "code" / env["SAGEMAKER_PROGRAM"]).write_text(HANDLERS)
    environment = {
        **os.environ,
        "PYTHONPATH": str(TOOLKIT_DIR),
        "STUDIO_ML_ROOT": str(home),
        "STUDIO_SERVE_SOCKET": str(home / "s.sock"),
        "OMP_NUM_THREADS": "1",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "studio_toolkit.serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Serve(home, process)


def wait_ready(serve: Serve) -> Serve:
    from studio.core.unix_socket import http_get

    def answers() -> bool:
        assert serve.process.poll() is None, f"serve exited {serve.process.returncode}"
        try:
            return http_get(serve.socket, "/ping", None)[0] == 200
        except OSError:
            return False

    wait_for(answers, START_TIMEOUT, "serve to answer /ping")
    return serve


def iris_model():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=500).fit(x, y)


@dataclass
class Servers:
    a: Serve
    b: Serve
    slow: Serve  # script-mode handlers: {"rows": [...], "sleep": s, "marker": path}
    model: Any

    def all(self) -> list[Serve]:
        return [self.a, self.b, self.slow]


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Servers]:
    model = iris_model()
    started = Servers(
        a=start_serve(tmp_path_factory.mktemp("a"), model),
        b=start_serve(tmp_path_factory.mktemp("b"), model),
        slow=start_serve(tmp_path_factory.mktemp("slow"), model, SAGEMAKER_PROGRAM="inference.py"),
        model=model,
    )
    try:
        for serve in started.all():
            wait_ready(serve)
        yield started
    finally:
        for serve in started.all():
            serve.stop()


# -- endpoints made as rows --------------------------------------------------------------------


@dataclass
class Spec:
    """A variant: its weight, the servers of its instances, and extra ProductionVariant keys."""

    weight: float = 1.0
    serves: list[Serve] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


class Endpoints:
    """Makes endpoint rows whose instances are the given servers; puts the servers' sockets
    back where they were when the test ends (before the endpoint's files are removed)."""

    def __init__(self) -> None:
        self.placed: list[Serve] = []

    def make(
        self,
        profile,
        name: str,
        variants: dict[str, Spec],
        *,
        status: str = "InService",
        capture: dict | None = None,
        pending: bool = False,
    ):
        from jobs.models import Endpoint
        from jobs.services.endpoints import desired_from

        config: dict[str, Any] = {
            "EndpointConfigName": name,
            "ProductionVariants": [
                {
                    "VariantName": variant,
                    "ModelName": "iris",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": len(spec.serves),
                    "InitialVariantWeight": spec.weight,
                    **spec.extra,
                }
                for variant, spec in variants.items()
            ],
        }
        if capture:
            config["DataCaptureConfig"] = capture
        endpoint = Endpoint.objects.create(
            name=name,
            domain=profile.domain,
            profile=profile,
            config_name=name,
            config=config,
            desired=desired_from(config),
            generation=1,
            latest_generation=1,
            status=status,
            runtime="sandbox",
            # An update under way owns the instances: the worker's wake leaves them alone.
            pending_config=config if pending else None,
            pending_config_name=name if pending else "",
        )
        for variant, spec in variants.items():
            for serve in spec.serves:
                self.add_instance(endpoint, variant, serve)
        return endpoint

    def add_instance(self, endpoint, variant: str, serve: Serve, generation: int = 1):
        from jobs.hosting.paths import instance_socket
        from jobs.models import EndpointInstance

        instance = EndpointInstance.objects.create(
            endpoint=endpoint,
            generation=generation,
            variant_name=variant,
            model_name="iris",
            instance_type="ml.m5.large",
            runtime="sandbox",
            uid=os.getuid(),  # who runs serve here, and so owns its socket
            status="InService",
        )
        serve.place(instance_socket(instance))
        self.placed.append(serve)
        return instance

    def restore(self) -> None:
        for serve in self.placed:
            serve.home_again()


@pytest.fixture
def endpoints(asgi_server, servers) -> Iterator[Endpoints]:
    made = Endpoints()
    try:
        yield made
    finally:
        made.restore()


# -- callers -----------------------------------------------------------------------------------


def runtime_client(url: str, key_id: str, secret: str):
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120),
    )


@dataclass
class Invoker:
    profile: Any
    client: Any
    url: str

    def csv(self, endpoint: str, body: str = CSV, **params: Any) -> dict:
        answer = self.client.invoke_endpoint(
            EndpointName=endpoint, Body=body, ContentType="text/csv", Accept="text/csv", **params
        )
        answer["Text"] = answer["Body"].read().decode()
        return answer


@pytest.fixture
def alice_invoker(asgi_server, alice, alice_profile) -> Invoker:
    from domains.services import create_access_key

    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return Invoker(
        alice_profile, runtime_client(asgi_server, key.access_key_id, secret), asgi_server
    )


def refusal(call) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def predictions(text: str) -> list[float]:
    return [float(v) for v in text.split()]


# -- the tests ---------------------------------------------------------------------------------


def test_boto3_invoke_returns_the_models_predictions_and_the_variant(
    alice_invoker, endpoints, servers
):
    endpoints.make(alice_invoker.profile, "iris", {"AllTraffic": Spec(serves=[servers.a])})

    answer = alice_invoker.csv("iris")

    assert predictions(answer["Text"]) == servers.model.predict(np.array(ROWS)).tolist()
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert answer["ContentType"] == "text/csv"


def test_a_notebook_invokes_through_the_api_socket(alice_invoker, alice, endpoints, servers):
    """Notebook containers reach Studio only through the API socket, where InvokeEndpoint
    answers as on Studio's host (and the dashboard still does not)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from domains.services import create_access_key
    from studio.core.api_socket import API_SOCKET_NAME, api_socket_dir
    from studio.core.unix_socket import UnixHTTPConnection

    endpoints.make(alice_invoker.profile, "iris", {"AllTraffic": Spec(serves=[servers.a])})
    domain_id = alice_invoker.profile.domain.domain_id
    key, secret = create_access_key(alice, domain_id, alice_invoker.profile.name)
    signed = AWSRequest(
        method="POST",
        url="http://localhost/endpoints/iris/invocations",
        data=CSV.encode(),
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
    )
    SigV4Auth(Credentials(key.access_key_id, secret), "sagemaker", "us-east-1").add_auth(signed)

    def post(path: str, headers: dict) -> tuple[int, bytes, str | None]:
        connection = UnixHTTPConnection(api_socket_dir() / API_SOCKET_NAME, timeout=30)
        try:
            connection.request("POST", path, body=CSV.encode(), headers=headers)
            response = connection.getresponse()
            variant = response.getheader("X-Amzn-Invoked-Production-Variant")
            return response.status, response.read(), variant
        finally:
            connection.close()

    status, body, variant = post("/endpoints/iris/invocations", dict(signed.headers.items()))
    dashboard = post("/endpoints/", {})

    assert (status, variant) == (200, "AllTraffic")
    assert predictions(body.decode()) == servers.model.predict(np.array(ROWS)).tolist()
    assert dashboard[0] == 404


def test_weights_3_to_1_split_400_requests(alice_invoker, endpoints, servers):
    endpoints.make(
        alice_invoker.profile,
        "ab",
        {"A": Spec(weight=3, serves=[servers.a]), "B": Spec(weight=1, serves=[servers.b])},
    )

    seen = Counter(alice_invoker.csv("ab")["InvokedProductionVariant"] for _ in range(400))

    # 300 expected; the band is over 5 standard deviations (8.7) wide each way.
    assert 255 <= seen["A"] <= 345, seen
    assert seen["A"] + seen["B"] == 400


def test_target_variant_pins_the_variant_and_an_unknown_one_is_named(
    alice_invoker, endpoints, servers
):
    endpoints.make(
        alice_invoker.profile,
        "ab",
        {"A": Spec(weight=9, serves=[servers.a]), "B": Spec(weight=1, serves=[servers.b])},
    )

    pinned = {
        alice_invoker.csv("ab", TargetVariant="B")["InvokedProductionVariant"] for _ in range(30)
    }
    unknown = refusal(lambda: alice_invoker.csv("ab", TargetVariant="C"))

    assert pinned == {"B"}
    assert unknown.response["Error"]["Code"] == "ValidationError"
    assert "'C' is not a variant of endpoint ab; its variants: A, B" in str(unknown)


def test_a_container_error_is_a_model_error_with_its_own_status_and_message(
    alice_invoker, endpoints, servers
):
    endpoints.make(alice_invoker.profile, "iris", {"AllTraffic": Spec(serves=[servers.a])})

    client = alice_invoker.client
    with pytest.raises(client.exceptions.ModelError) as caught:
        alice_invoker.csv("iris", body="5.1,not-a-number,1.4,0.2")

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    assert error["OriginalMessage"]
    assert error["OriginalMessage"] in error["Error"]["Message"]
    assert "Received client error (400) from model of variant AllTraffic" in str(caught.value)


def test_a_7_mb_payload_is_refused_and_never_forwarded(alice_invoker, endpoints, servers, tmp_path):
    endpoints.make(alice_invoker.profile, "slow", {"AllTraffic": Spec(serves=[servers.slow])})
    marker = tmp_path / "reached"
    doc = {"rows": [ROWS[0]], "marker": str(marker), "pad": "x" * (7 * 2**20)}

    client = alice_invoker.client
    with pytest.raises(client.exceptions.ValidationError) as caught:
        client.invoke_endpoint(
            EndpointName="slow", Body=json.dumps(doc), ContentType="application/json"
        )

    assert "Request payload exceeds 6 MB (6291456 bytes)" in str(caught.value)
    assert not marker.exists(), "the oversized request reached the model"
    small = {"rows": [ROWS[0]], "marker": str(marker)}
    client.invoke_endpoint(
        EndpointName="slow", Body=json.dumps(small), ContentType="application/json"
    )
    assert marker.exists()


def test_a_model_slower_than_the_timeout_is_a_model_error_saying_so(
    alice_invoker, endpoints, servers, settings
):
    settings.STUDIO_INVOKE_TIMEOUT_S = 0.5
    endpoints.make(alice_invoker.profile, "slow", {"AllTraffic": Spec(serves=[servers.slow])})

    client = alice_invoker.client
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(
            EndpointName="slow",
            Body=json.dumps({"rows": [ROWS[0]], "sleep": 2}),
            ContentType="application/json",
        )
    time.sleep(1.6)  # the slow request ends in the server
    answer = client.invoke_endpoint(
        EndpointName="slow", Body=json.dumps({"rows": [ROWS[0]]}), ContentType="application/json"
    )

    assert "did not answer within 0.5 s" in str(caught.value)
    assert "timed out" in str(caught.value)
    assert json.loads(answer["Body"].read())["labels"] == servers.model.predict([ROWS[0]]).tolist()


def test_an_unknown_endpoint_is_not_found_in_the_callers_account(alice_invoker):
    error = refusal(lambda: alice_invoker.csv("nowhere"))

    account = alice_invoker.profile.domain.account_id
    assert error.response["Error"]["Code"] == "ValidationError"
    assert error.response["Error"]["Message"] == f"Endpoint nowhere of account {account} not found."


@pytest.mark.parametrize("status", ["Creating", "Failed", "Deleting"])
def test_an_endpoint_not_in_service_says_its_status(alice_invoker, endpoints, servers, status):
    endpoints.make(alice_invoker.profile, "down", {"AllTraffic": Spec()}, status=status)

    error = refusal(lambda: alice_invoker.csv("down"))

    assert error.response["Error"]["Code"] == "ValidationError"
    assert f"is {status}" in error.response["Error"]["Message"]


def test_an_updating_endpoint_keeps_serving(alice_invoker, endpoints, servers):
    endpoints.make(
        alice_invoker.profile, "iris", {"AllTraffic": Spec(serves=[servers.a])}, status="Updating"
    )

    assert alice_invoker.csv("iris")["InvokedProductionVariant"] == "AllTraffic"


def test_no_instance_in_service_is_service_unavailable(alice_invoker, endpoints):
    endpoints.make(alice_invoker.profile, "empty", {"AllTraffic": Spec()})

    client = alice_invoker.client
    with pytest.raises(client.exceptions.ServiceUnavailable) as caught:
        alice_invoker.csv("empty")

    assert "has no instance in service" in str(caught.value)


def test_a_scaled_to_zero_variant_waits_for_its_cold_start(
    alice_invoker, endpoints, servers, settings
):
    settings.STUDIO_COLD_START_WAIT_S = 20
    serverless = {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
    endpoint = endpoints.make(
        alice_invoker.profile,
        "cold",
        {"AllTraffic": Spec(extra=serverless)},
        status="Updating",
        pending=True,
    )
    threading.Timer(1.0, endpoints.add_instance, (endpoint, "AllTraffic", servers.a)).start()

    started = time.monotonic()
    answer = alice_invoker.csv("cold")

    assert time.monotonic() - started >= 1.0
    assert predictions(answer["Text"]) == servers.model.predict(np.array(ROWS)).tolist()


def test_a_cold_start_past_the_bound_is_model_not_ready(alice_invoker, endpoints, settings):
    settings.STUDIO_COLD_START_WAIT_S = 0.5
    zero = {"ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 0}}
    endpoints.make(
        alice_invoker.profile,
        "cold",
        {"AllTraffic": Spec(extra=zero)},
        status="Updating",
        pending=True,
    )

    client = alice_invoker.client
    with pytest.raises(client.exceptions.ModelNotReadyException) as caught:
        alice_invoker.csv("cold")

    assert "was not ready within 0.5 s" in str(caught.value)


def test_serverless_max_concurrency_throttles_what_is_over_it(alice_invoker, endpoints, servers):
    serverless = {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1}}
    endpoints.make(
        alice_invoker.profile, "one", {"AllTraffic": Spec(serves=[servers.slow], extra=serverless)}
    )
    slow = json.dumps({"rows": [ROWS[0]], "sleep": 1.5})
    first = threading.Thread(
        target=alice_invoker.client.invoke_endpoint,
        kwargs={"EndpointName": "one", "Body": slow, "ContentType": "application/json"},
    )
    first.start()
    time.sleep(0.5)

    error = refusal(
        lambda: alice_invoker.client.invoke_endpoint(
            EndpointName="one", Body=json.dumps({"rows": [ROWS[0]]}), ContentType="application/json"
        )
    )
    first.join()

    assert error.response["Error"]["Code"] == "ThrottlingException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert "MaxConcurrency" in error.response["Error"]["Message"]


def test_an_update_under_a_hammering_client_fails_no_request(
    alice_invoker, endpoints, servers, tmp_path
):
    """Blue/green as the worker does it — the new generation InService, traffic moved, the old
    instance marked Draining — but harsher: the old server is killed at once, with requests in
    flight and while the router's table (a second old) still names it. What could not reach
    it goes to the new instance."""
    from jobs.models import EndpointInstance

    old = wait_ready(start_serve(tmp_path / "old", servers.model))
    endpoint = endpoints.make(alice_invoker.profile, "bg", {"AllTraffic": Spec(serves=[old])})
    failures: list[str] = []
    served = 0
    stop = threading.Event()

    def hammer() -> None:
        nonlocal served
        while not stop.is_set():
            try:
                alice_invoker.csv("bg")
                served += 1
            except Exception as error:  # every kind of failure counts
                failures.append(repr(error))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        # Half way through the life of the router's table (STUDIO_ROUTE_TTL_S, 1 s), read when
        # the hammering began: it names the old instance for half a second after the kill.
        time.sleep(1.5)
        endpoints.add_instance(endpoint, "AllTraffic", servers.b, generation=2)
        type(endpoint).objects.filter(pk=endpoint.pk).update(generation=2, latest_generation=2)
        EndpointInstance.objects.filter(endpoint=endpoint, generation=1).update(status="Draining")
        old.process.kill()
        old.process.wait(timeout=30)
        time.sleep(1.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        old.stop()

    assert failures == []
    assert served > 50


def test_counters_record_invocations_for_the_autoscaler_and_the_charts(
    alice_invoker, endpoints, servers
):
    from jobs.hosting import counters

    endpoint = endpoints.make(
        alice_invoker.profile, "counted", {"AllTraffic": Spec(serves=[servers.a])}
    )
    for _ in range(7):
        alice_invoker.csv("counted")
    refusal(lambda: alice_invoker.csv("counted", body="1,2,x,4"))

    wait_for(
        lambda: counters.invocations_per_minute(endpoint.pk, "AllTraffic", 60) >= 8,
        10,
        "the router's counts to reach Redis",
    )
    points = [p for p in counters.series(endpoint.pk, 60) if p["rate"]]
    assert sum(p["rate"] for p in points) == 8
    assert sum(p["model_errors"] for p in points) == 1
    assert all(p["p50_ms"] and p["p99_ms"] >= p["p50_ms"] for p in points)
    assert counters.last_invoked_at(endpoint.pk, "AllTraffic") is not None


CAPTURE_FILE = re.compile(
    r"capture/captured/AllTraffic/\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$"
)


def test_captured_invocations_are_sagemakers_jsonl_and_match_what_was_sent(
    alice_invoker, endpoints, servers
):
    import base64

    from studio.core.storage import artifact_store, domain_bucket

    destination = f"s3://{domain_bucket(alice_invoker.profile.domain.domain_id)}/capture"
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
    }
    endpoints.make(
        alice_invoker.profile, "captured", {"AllTraffic": Spec(serves=[servers.a])}, capture=capture
    )
    sent = [CSV, "6.7,3.0,5.2,2.3", "5.9,3.0,4.2,1.5"]
    answers = [
        alice_invoker.csv("captured", body=body, InferenceId=f"id-{i}")
        for i, body in enumerate(sent)
    ]
    as_json = alice_invoker.client.invoke_endpoint(
        EndpointName="captured",
        Body=json.dumps({"instances": ROWS}),
        ContentType="application/json",
    )
    json_answer = as_json["Body"].read()

    store = artifact_store()
    records = wait_for(
        lambda: (
            lines
            if len(
                lines := [
                    json.loads(line)
                    for stored in store.list(destination)
                    for line in store.open(stored.uri).read().decode().splitlines()
                ]
            )
            == 4
            else None
        ),
        10,
        "the capture writer to store 4 records",
    )

    assert all(CAPTURE_FILE.search(stored.uri) for stored in store.list(destination))
    by_id = {r["eventMetadata"].get("inferenceId"): r for r in records}
    for i, (body, answer) in enumerate(zip(sent, answers, strict=True)):
        record = by_id[f"id-{i}"]
        assert record["eventVersion"] == "0"
        assert record["captureData"]["endpointInput"] == {
            "observedContentType": "text/csv",
            "mode": "INPUT",
            "data": body,
            "encoding": "CSV",
        }
        assert record["captureData"]["endpointOutput"] == {
            "observedContentType": "text/csv",
            "mode": "OUTPUT",
            "data": answer["Text"],
            "encoding": "CSV",
        }
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["eventMetadata"]["inferenceTime"]
        )
    untyped = by_id[None]["captureData"]
    assert untyped["endpointInput"]["encoding"] == "BASE64"
    assert json.loads(base64.b64decode(untyped["endpointInput"]["data"])) == {"instances": ROWS}
    assert base64.b64decode(untyped["endpointOutput"]["data"]) == json_answer


def test_a_session_of_a_member_of_two_domains_names_the_endpoints_domain(
    alice_invoker, alice, endpoints, servers, make_domain, make_profile
):
    """The dashboard's "try it": a signed-in member's browser, on Studio's own origin."""
    import http.client
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.test import Client

    other = make_domain("second")
    second_profile = make_profile(other, alice, "alice2")
    endpoints.make(second_profile, "iris", {"AllTraffic": Spec(serves=[servers.a])})
    browser = Client()
    browser.force_login(alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    url = urlsplit(alice_invoker.url)

    def post(query: str) -> tuple[int, dict]:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            connection.request(
                "POST",
                f"/endpoints/iris/invocations{query}",
                body=CSV,
                headers={
                    "Content-Type": "text/csv",
                    "Accept": "application/json",
                    "Cookie": cookie,
                    "Origin": alice_invoker.url,
                },
            )
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    unnamed = post("")
    named = post(f"?domain={other.domain_id}")
    first_domain = post(f"?domain={alice_invoker.profile.domain.domain_id}")

    assert unnamed[0] == 400
    assert "several domains" in unnamed[1]["message"]
    assert other.domain_id in unnamed[1]["message"]
    assert named == (200, {"predictions": servers.model.predict(np.array(ROWS)).tolist()})
    assert first_domain[0] == 400
    assert first_domain[1]["message"].startswith("Endpoint iris of account")


@pytest.mark.parametrize(
    ("path", "headers", "code"),
    [
        (
            "/endpoints/iris/invocations",
            {"Authorization": "AWS4-HMAC-SHA256 nonsense"},
            "IncompleteSignatureException",
        ),
        (
            "/endpoints/iris/invocations",
            {"Authorization": "Basic YWxpY2U6cHc="},
            "IncompleteSignatureException",
        ),
        ("/endpoints/not%20a%20name/invocations", {}, "ValidationError"),
        ("/endpoints/" + "x" * 64 + "/invocations", {}, "ValidationError"),
        ("/endpoints//invocations", {}, "ValidationError"),
        (
            "/endpoints/iris/invocations",
            {"Cookie": "sessionid=\u00ff\u00fe; csrftoken=\u00e9"},
            "AccessDeniedException",
        ),
    ],
)
def test_malformed_invocations_are_refused_in_words_never_a_500(alice_invoker, path, headers, code):
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(alice_invoker.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request(
            "POST",
            path,
            body=CSV.encode("latin-1"),
            headers={"Content-Type": "text/csv", **headers},
        )
        response = connection.getresponse()
        status, error_type, body = (
            response.status,
            response.getheader("x-amzn-ErrorType"),
            response.read(),
        )
    finally:
        connection.close()

    assert 400 <= status < 500
    assert error_type == code
    assert json.loads(body)["message"]
