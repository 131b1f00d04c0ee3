"""Hosting end to end, on both runtimes: the real worker deploys real serving containers, boto3's
sagemaker-runtime calls them through the live web process's router. Training a model and
deploying it, updates under a client that never stops calling, a container killed under load,
scaling to zero and back, and autoscaling. The beat's tick (`scaling.tend`) is called by the
tests, at their pace."""

import base64
import io
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from jobs.hosting import scaling
from jobs.services import create_training_job
from jobs.services.endpoint_configs import create_endpoint_config
from jobs.services.endpoints import put_scaling_policy, update_endpoint
from jobs.services.hosted_models import model_from_training_job
from studio.core.runtime import get_runtime
from tests.conftest import wait_for
from tests.integration.api import sagemaker_runtime
from tests.integration.hosting import (
    iris_model,
    make_endpoint,
    make_model,
    serving,
    settled,
    store_model,
    variant,
)
from tests.integration.training import ended, model_files, request

pytestmark = pytest.mark.usefixtures("live")

MODEL_URI = "s3://research-models/iris/model.tar.gz"
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


def csv(rows) -> str:
    return "\n".join(",".join(str(float(v)) for v in row) for row in rows)


@pytest.fixture
def client(asgi_server, alice, alice_profile):
    from domains.services import create_access_key

    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker_runtime(asgi_server, key.access_key_id, secret)


@pytest.fixture
def iris(alice, alice_profile):
    estimator, _ = iris_model()
    store_model(MODEL_URI, estimator)
    make_model(alice, alice_profile.domain.domain_id, "iris", MODEL_URI)
    return estimator


def invoke(client, endpoint: str, rows=ROWS, **params) -> tuple[list, str]:
    answer = client.invoke_endpoint(
        EndpointName=endpoint,
        Body=csv(rows),
        ContentType="text/csv",
        Accept="application/json",
        **params,
    )
    body = json.loads(answer["Body"].read())
    return body["predictions"], answer["InvokedProductionVariant"]


class Hammer:
    """Clients calling an endpoint without pause, in threads, counting what they get."""

    def __init__(self, make_client, endpoint: str, threads: int = 2):
        self.make_client, self.endpoint = make_client, endpoint
        self.results: Counter[str] = Counter()
        self.errors: list[str] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        client = self.make_client()
        while not self.stopping.is_set():
            try:
                invoke(client, self.endpoint, ROWS[:1])
                self.results["ok"] += 1
            except ClientError as error:
                self.results["failed"] += 1
                self.errors.append(str(error))

    def __enter__(self) -> "Hammer":
        for thread in self.threads:
            thread.start()
        wait_for(lambda: self.results["ok"] > 10, 30, "the hammer to start")
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def hammer(asgi_server, alice, alice_profile) -> Iterator:
    from domains.services import create_access_key

    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    yield lambda endpoint: Hammer(
        lambda: sagemaker_runtime(asgi_server, key.access_key_id, secret), endpoint
    )


def test_a_trained_model_deployed_answers_exactly_its_predictions(
    runtime, client, alice, alice_profile, data
):
    import joblib
    import numpy as np

    domain_id = alice_profile.domain.domain_id
    job = ended(create_training_job(alice, domain_id, request("ll-serve")))
    assert job.status == "Completed", job.failure_reason
    model_from_training_job(alice, domain_id, "ll-serve", "ll-model")
    endpoint = settled(make_endpoint(alice, domain_id, "ll-ep", [variant("ll-model")]))
    assert endpoint.status == "InService", endpoint.failure_reason
    rows = [[0.9, 0.8], [-0.9, -0.7], [0.1, -0.3], [0.4, 0.2]]
    predictions, answered_by = invoke(client, "ll-ep", rows)
    loaded = joblib.load(io.BytesIO(model_files(job)["model.joblib"]))
    assert [p["predicted_label"] for p in predictions] == loaded.predict(np.array(rows)).tolist()
    assert answered_by == "AllTraffic"


def test_an_update_under_a_hammering_client_fails_no_request(
    runtime, client, hammer, alice, alice_profile, iris
):
    domain_id = alice_profile.domain.domain_id
    settled(make_endpoint(alice, domain_id, "bg", [variant("iris", "Blue")]))
    create_endpoint_config(
        alice,
        domain_id,
        {"EndpointConfigName": "bg-green", "ProductionVariants": [variant("iris", "Green")]},
    )
    with hammer("bg") as calls:
        endpoint = update_endpoint(
            alice, domain_id, {"EndpointName": "bg", "EndpointConfigName": "bg-green"}
        )
        settled(endpoint, statuses={"InService"})
        wait_for(lambda: invoke(client, "bg")[1] == "Green", 30, "traffic on the new variant")
        ok_before = calls.results["ok"]
        wait_for(lambda: calls.results["ok"] > ok_before + 20, 30, "calls after the drain")
    assert calls.results["failed"] == 0, calls.errors[:3]
    assert [i.variant_name for i in serving(endpoint)] == ["Green"]


def test_a_serving_container_killed_under_load_is_replaced_and_the_endpoint_answers(
    runtime, client, hammer, alice, alice_profile, iris
):
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(
        make_endpoint(alice, domain_id, "heal", [variant("iris", InitialInstanceCount=2)])
    )
    first, second = serving(endpoint)
    with hammer("heal") as calls:
        get_runtime(runtime).stop(first.container_id, timeout=0)

        def replaced():
            scaling.tend()
            current = [i.pk for i in serving(endpoint)]
            return len(current) == 2 and first.pk not in current

        wait_for(replaced, 60, "the killed instance to be replaced")
        ok_before = calls.results["ok"]
        wait_for(lambda: calls.results["ok"] > ok_before + 20, 30, "calls after the healing")
    total = calls.results["ok"] + calls.results["failed"]
    # Only what was in flight on the killed container can fail; the router sends nothing new
    # to a socket that refuses.
    assert calls.results["failed"] <= max(2, total // 50), calls.errors[:3]
    assert second.pk in [i.pk for i in serving(endpoint)]
    assert invoke(client, "heal")[0] == iris.predict(ROWS).tolist()


@pytest.mark.parametrize(
    "spec",
    [
        {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}},
        {
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
            "ManagedInstanceScaling": {
                "Status": "ENABLED",
                "MinInstanceCount": 0,
                "MaxInstanceCount": 2,
            },
        },
    ],
    ids=["serverless", "min-instance-count-0"],
)
def test_an_idle_variant_scales_to_zero_and_the_next_request_waits_for_it(
    runtime, client, alice, alice_profile, iris, settings, spec
):
    domain_id = alice_profile.domain.domain_id
    base = variant("iris", InstanceType=None, InitialInstanceCount=None)
    endpoint = settled(make_endpoint(alice, domain_id, "zero", [{**base, **spec}]))
    assert endpoint.status == "InService", endpoint.failure_reason
    assert invoke(client, "zero")[0] == iris.predict(ROWS).tolist()
    settings.STUDIO_SCALE_TO_ZERO_IDLE_S = 0

    def scaled_to_zero():
        scaling.tend()
        return not endpoint.instances.exists()

    wait_for(scaled_to_zero, 60, "the idle variant to scale to zero")
    started = time.monotonic()
    assert invoke(client, "zero")[0] == iris.predict(ROWS).tolist()
    assert time.monotonic() - started < 30
    assert len(serving(endpoint)) == 1


def test_autoscaling_adds_an_instance_under_load_and_removes_it_after(
    runtime, client, alice, alice_profile, iris, settings
):
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "auto", [variant("iris")]))
    put_scaling_policy(
        alice,
        domain_id,
        "auto",
        "AllTraffic",
        min_count=1,
        max_count=2,
        target_per_instance_per_minute=60,
        scale_out_cooldown_s=0,
        scale_in_cooldown_s=0,
    )
    settings.STUDIO_AUTOSCALE_WINDOW_S = 5
    for _ in range(60):  # 60 in 5 s is 720 a minute: 12 instances' worth, capped at 2
        invoke(client, "auto", ROWS[:1])

    def scaled_out():
        scaling.tend()
        return len(serving(endpoint)) == 2

    wait_for(scaled_out, 60, "a second instance under load")

    def scaled_in():
        scaling.tend()
        return len(serving(endpoint)) == 1

    wait_for(scaled_in, 60, "back to one instance once the load stopped")
    endpoint.refresh_from_db()
    assert endpoint.status == "InService"


def test_two_variants_weighted_3_to_1_split_requests_pins_hold_and_captures_match(
    runtime, client, alice, alice_profile, iris
):
    from studio.core.storage import artifact_store, domain_bucket

    domain_id = alice_profile.domain.domain_id
    destination = f"s3://{domain_bucket(domain_id)}/capture"
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
    }
    variants = [
        variant("iris", "Heavy", InitialVariantWeight=3.0),
        variant("iris", "Light", InitialVariantWeight=1.0),
    ]
    endpoint = settled(
        make_endpoint(alice, domain_id, "split", variants, DataCaptureConfig=capture)
    )
    assert endpoint.status == "InService", endpoint.failure_reason
    counts = Counter(invoke(client, "split", ROWS[:1])[1] for _ in range(400))
    # 300 expected on Heavy; a binomial's standard deviation here is under 9.
    assert 255 <= counts["Heavy"] <= 345, counts
    assert counts["Heavy"] + counts["Light"] == 400
    for _ in range(20):
        assert invoke(client, "split", TargetVariant="Light")[1] == "Light"
    store = artifact_store()

    def captured() -> list[dict]:
        return [
            json.loads(line)
            for stored in store.list(destination)
            for line in store.open(stored.uri).read().decode().splitlines()
        ]

    wait_for(lambda: len(captured()) == 420, 30, "420 captured invocations")
    records = captured()
    assert {r["captureData"]["endpointInput"]["data"] for r in records} == {
        csv(ROWS[:1]),
        csv(ROWS),
    }
    pinned = [r for r in records if r["captureData"]["endpointInput"]["data"] == csv(ROWS)]
    assert len(pinned) == 20
    for record in pinned:
        assert record["eventVersion"] == "0"
        assert record["captureData"]["endpointInput"]["encoding"] == "CSV"
        answer = record["captureData"]["endpointOutput"]
        # application/json is not among CaptureContentTypeHeader's types: kept as base64.
        assert answer["encoding"] == "BASE64"
        output = json.loads(base64.b64decode(answer["data"]))
        assert output["predictions"] == iris.predict(ROWS).tolist()
    for stored in store.list(destination):
        # SageMaker's layout: <prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl
        parts = stored.uri.removeprefix(destination + "/").split("/")
        endpoint_name, variant_name, *date, _ = parts
        assert endpoint_name == "split" and variant_name in {"Heavy", "Light"}
        assert [len(part) for part in date] == [4, 2, 2, 2]
        assert all(part.isdigit() for part in date)


def test_bad_invocations_are_clear_errors_from_the_real_container(
    runtime, client, alice, alice_profile, iris
):
    domain_id = alice_profile.domain.domain_id
    settled(make_endpoint(alice, domain_id, "strict", [variant("iris")]))

    def refused(**params) -> ClientError:
        with pytest.raises(ClientError) as caught:
            client.invoke_endpoint(EndpointName="strict", **params)
        return caught.value

    wrong_type = refused(Body=b"\x00\x01", ContentType="image/png")
    assert wrong_type.response["Error"]["Code"] == "ModelError"
    assert "text/csv" in wrong_type.response["Error"]["Message"]
    malformed = refused(Body="1.0,abc,3\n4,5", ContentType="text/csv")
    assert malformed.response["Error"]["Code"] == "ModelError"
    assert "line 1" in malformed.response["Error"]["Message"]
    too_big = refused(Body=b"1," * (7 * 2**20 // 2), ContentType="text/csv")
    assert too_big.response["Error"]["Code"] == "ValidationError"
    assert "6 MB" in too_big.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        client.invoke_endpoint(EndpointName="nosuch", Body="1")
    assert "Endpoint nosuch of account" in missing.value.response["Error"]["Message"]
    # And the endpoint still answers.
    assert invoke(client, "strict")[0] == iris.predict(ROWS).tolist()
