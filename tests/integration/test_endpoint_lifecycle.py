"""Endpoints on the real runtimes, driven by the real worker: deploying, failing with the
container's own words, blue/green updates and their roll back, healing, scaling in place and
to zero, deleting. The beat's tick (`scaling.tend`) is called by the tests, at their pace."""

import json
import os

import pytest

from jobs.hosting import paths, scaling
from jobs.models import Endpoint, EndpointInstance
from jobs.services.endpoint_configs import create_endpoint_config
from jobs.services.endpoints import (
    delete_endpoint,
    update_endpoint,
    update_endpoint_weights_and_capacities,
)
from studio.core.runtime import get_runtime
from tests.conftest import wait_for
from tests.integration.conftest import put
from tests.integration.hosting import (
    archive,
    call,
    iris_model,
    make_endpoint,
    make_model,
    serving,
    settled,
    store_model,
    variant,
)

pytestmark = pytest.mark.usefixtures("live")

MODEL_URI = "s3://research-models/iris/model.tar.gz"


def csv_rows(x) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in x).encode()


def predictions(body: bytes) -> list:
    answer = json.loads(body)
    return answer["predictions"] if isinstance(answer, dict) else answer


@pytest.fixture
def iris(alice, alice_profile):
    estimator, x = iris_model()
    store_model(MODEL_URI, estimator)
    make_model(alice, alice_profile.domain.domain_id, "iris", MODEL_URI)
    return estimator, x


def test_endpoint_serves_exactly_the_predictions_of_its_model(runtime, alice, alice_profile, iris):
    estimator, x = iris
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "iris-ep", [variant("iris")]))
    assert endpoint.status == "InService", endpoint.failure_reason
    [instance] = serving(endpoint)
    assert instance.uid == alice_profile.home_uid
    status, body = call(instance, csv_rows(x[:5]), "text/csv")
    assert status == 200, body
    assert predictions(body) == estimator.predict(x[:5]).tolist()
    body = json.dumps({"instances": x[:1].tolist()}).encode()
    status, body = call(instance, body, "application/json")
    assert status == 200, body
    assert predictions(body) == estimator.predict(x[:1]).tolist()


def test_a_model_that_cannot_load_fails_the_endpoint_with_the_containers_own_words(
    runtime, alice, alice_profile
):
    put(MODEL_URI, archive({"model.joblib": b"this is not a pickle"}))
    domain_id = alice_profile.domain.domain_id
    make_model(alice, domain_id, "broken", MODEL_URI)
    endpoint = settled(make_endpoint(alice, domain_id, "broken-ep", [variant("broken")]))
    assert endpoint.status == "Failed"
    assert "exited with code" in endpoint.failure_reason
    assert "last log lines" in endpoint.failure_reason
    assert "model" in endpoint.failure_reason.split("last log lines", 1)[1].lower()
    assert not EndpointInstance.objects.exists()
    assert not _containers_of(runtime, endpoint)


@pytest.mark.parametrize(
    ("member", "why"),
    [("../outside.joblib", "outside"), ("/etc/cron.d/x", "absolute")],
)
def test_a_model_archive_leaving_its_directory_is_refused_and_nothing_runs(
    runtime, alice, alice_profile, member, why
):
    put(MODEL_URI, archive({member: b"x"}))
    domain_id = alice_profile.domain.domain_id
    make_model(alice, domain_id, "escape", MODEL_URI)
    endpoint = settled(make_endpoint(alice, domain_id, "escape-ep", [variant("escape")]))
    assert endpoint.status == "Failed"
    assert "model.tar.gz" in endpoint.failure_reason or "archive" in endpoint.failure_reason
    assert not EndpointInstance.objects.exists()
    assert not _containers_of(runtime, endpoint)
    assert not os.path.exists("/etc/cron.d/x")


def test_a_model_archive_with_a_link_is_refused(runtime, alice, alice_profile, tmp_path):
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("model.joblib")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/shadow"
        tar.addfile(link)
    put(MODEL_URI, buffer.getvalue())
    domain_id = alice_profile.domain.domain_id
    make_model(alice, domain_id, "linked", MODEL_URI)
    endpoint = settled(make_endpoint(alice, domain_id, "linked-ep", [variant("linked")]))
    assert endpoint.status == "Failed"
    assert "link" in endpoint.failure_reason
    assert not EndpointInstance.objects.exists()


def test_update_endpoint_moves_traffic_to_the_new_model_blue_green(
    runtime, alice, alice_profile, iris
):
    _, x = iris
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "bg", [variant("iris")]))
    [old] = serving(endpoint)
    boosted, _ = iris_model("boosting")
    store_model("s3://research-models/boosted/model.tar.gz", boosted)
    make_model(alice, domain_id, "boosted", "s3://research-models/boosted/model.tar.gz")
    create_endpoint_config(
        alice,
        domain_id,
        {"EndpointConfigName": "bg-2", "ProductionVariants": [variant("boosted")]},
    )
    update_endpoint(alice, domain_id, {"EndpointName": "bg", "EndpointConfigName": "bg-2"})
    endpoint = settled(endpoint, statuses={"InService"})
    assert endpoint.config_name == "bg-2" and endpoint.generation == 2
    [new] = serving(endpoint)
    assert new.pk != old.pk
    wait_for(lambda: not EndpointInstance.objects.filter(pk=old.pk).exists(), 30, "old drained")
    assert not get_runtime(runtime).status(old.container_id).running
    _, body = call(new, csv_rows(x[:10]))
    assert predictions(body) == boosted.predict(x[:10]).tolist()


def test_an_update_whose_model_fails_rolls_back_and_says_why(runtime, alice, alice_profile, iris):
    estimator, x = iris
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "rb", [variant("iris")]))
    [old] = serving(endpoint)
    put("s3://research-models/bad/model.tar.gz", archive({"model.joblib": b"garbage"}))
    make_model(alice, domain_id, "bad", "s3://research-models/bad/model.tar.gz")
    create_endpoint_config(
        alice, domain_id, {"EndpointConfigName": "rb-2", "ProductionVariants": [variant("bad")]}
    )
    update_endpoint(alice, domain_id, {"EndpointName": "rb", "EndpointConfigName": "rb-2"})
    wait_for(lambda: Endpoint.objects.get(pk=endpoint.pk).failure_reason, 90, "the roll back")
    endpoint.refresh_from_db()
    assert endpoint.status == "InService"
    assert "rolled back" in endpoint.failure_reason and "last log lines" in endpoint.failure_reason
    assert endpoint.config_name == "rb" and not endpoint.pending_config_name
    assert [i.pk for i in serving(endpoint)] == [old.pk]
    assert get_runtime(runtime).status(old.container_id).running
    assert predictions(call(old, csv_rows(x[:3]))[1]) == estimator.predict(x[:3]).tolist()
    history = [t.to_status for t in endpoint.transitions()]
    assert history[-3:] == ["Updating", "RollingBack", "InService"]


def test_a_dead_serving_container_is_replaced(runtime, alice, alice_profile, iris):
    estimator, x = iris
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "heal", [variant("iris")]))
    [first] = serving(endpoint)
    get_runtime(runtime).stop(first.container_id, timeout=0)

    def replaced():
        scaling.tend()
        current = serving(endpoint)
        return len(current) == 1 and current[0].pk != first.pk

    wait_for(replaced, 60, "the dead instance to be replaced")
    [second] = serving(endpoint)
    assert predictions(call(second, csv_rows(x[:2]))[1]) == estimator.predict(x[:2]).tolist()


def test_weights_and_capacities_change_in_place(runtime, alice, alice_profile, iris):
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "wc", [variant("iris")]))
    [first] = serving(endpoint)
    update_endpoint_weights_and_capacities(
        alice, domain_id, "wc", [{"VariantName": "AllTraffic", "DesiredInstanceCount": 2}]
    )
    endpoint = settled(endpoint, statuses={"InService"})
    wait_for(lambda: len(serving(endpoint)) == 2, 60, "a second instance")
    assert first.pk in [i.pk for i in serving(endpoint)]
    assert endpoint.generation == 1
    update_endpoint_weights_and_capacities(
        alice, domain_id, "wc", [{"VariantName": "AllTraffic", "DesiredInstanceCount": 1}]
    )
    wait_for(lambda: len(serving(endpoint)) == 1, 60, "back to one instance")


def test_a_min_zero_variant_scales_to_zero_when_idle_and_wakes(
    runtime, alice, alice_profile, iris, settings
):
    from studio.core.queue import enqueue

    domain_id = alice_profile.domain.domain_id
    spec = variant(
        "iris",
        ManagedInstanceScaling={"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2},
    )
    endpoint = settled(make_endpoint(alice, domain_id, "zero", [spec]))
    assert len(serving(endpoint)) == 1
    settings.STUDIO_SCALE_TO_ZERO_IDLE_S = 0

    def scaled_to_zero():
        scaling.tend()
        return not serving(endpoint) and not endpoint.instances.exists()

    wait_for(scaled_to_zero, 60, "the idle variant to scale to zero")
    endpoint.refresh_from_db()
    assert endpoint.status == "InService" and endpoint.desired["AllTraffic"]["count"] == 0
    enqueue("jobs.tasks.wake_endpoint", endpoint.pk, "AllTraffic")
    wait_for(lambda: len(serving(endpoint)) == 1, 60, "the variant to wake")


def test_deleting_an_endpoint_stops_its_containers_and_removes_its_files(
    runtime, alice, alice_profile, iris
):
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "del", [variant("iris")]))
    [instance] = serving(endpoint)
    directory = paths.endpoint_dir(endpoint)
    assert directory.is_dir()
    delete_endpoint(alice, domain_id, "del")
    wait_for(lambda: not Endpoint.objects.filter(pk=endpoint.pk).exists(), 60, "deletion")
    assert not directory.exists()
    assert get_runtime(runtime).status(instance.container_id).state == "missing"


def _containers_of(runtime: str, endpoint: Endpoint) -> list:
    return [
        c
        for c in get_runtime(runtime).list_managed()
        if c.labels.get("studio.endpoint") == endpoint.resource_id
    ]


def test_a_corrupt_model_archive_fails_the_endpoint_saying_so_and_nothing_runs(
    runtime, alice, alice_profile
):
    put(MODEL_URI, b"\x1f\x8b\x08\x00 certainly not a whole gzip stream")
    domain_id = alice_profile.domain.domain_id
    make_model(alice, domain_id, "corrupt", MODEL_URI)
    endpoint = settled(make_endpoint(alice, domain_id, "corrupt-ep", [variant("corrupt")]))
    assert endpoint.status == "Failed"
    assert "not a readable tar archive" in endpoint.failure_reason
    assert not EndpointInstance.objects.exists()
    assert not _containers_of(runtime, endpoint)


def test_what_a_dead_worker_left_is_reconciled(runtime, alice, alice_profile, iris):
    """A deploy whose worker died left a Pending instance and its container; a drain whose
    worker died left an old generation's instance running. Neither survives reconciliation."""
    from jobs.hosting import deploy, instances

    estimator, x = iris
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "orphans", [variant("iris")]))
    [serving_now] = serving(endpoint)
    spec = endpoint.config["ProductionVariants"][0]
    model = instances.variant_model(endpoint, spec)
    model_dir = instances.prepare_model(endpoint, endpoint.generation, 0, model)
    # An instance of an older generation, as an interrupted drain leaves it.
    stale = instances.create(endpoint, 0, spec)
    instances.start(stale, instances.container_spec(stale, spec, model, model_dir))

    def stale_gone() -> bool:
        scaling.tend()
        return not EndpointInstance.objects.filter(pk=stale.pk).exists()

    wait_for(stale_gone, 60, "the stale instance to go")
    assert not get_runtime(runtime).status(stale.container_id).running
    assert [i.pk for i in serving(endpoint)] == [serving_now.pk]
    # A half-done deploy of generation 2: its Pending instance is replaced when it is resent.
    Endpoint.objects.filter(pk=endpoint.pk).update(
        status="Updating",
        pending_config=endpoint.config,
        pending_config_name=endpoint.config_name,
        latest_generation=2,
    )
    half = instances.create(endpoint, 2, spec)
    instances.start(half, instances.container_spec(half, spec, model, model_dir))
    deploy.deploy(endpoint.pk, 2)
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.generation) == ("InService", 2)
    assert not EndpointInstance.objects.filter(pk=half.pk).exists()
    assert not get_runtime(runtime).status(half.container_id).running
    [fresh] = serving(endpoint)
    assert predictions(call(fresh, csv_rows(x[:3]))[1]) == estimator.predict(x[:3]).tolist()
