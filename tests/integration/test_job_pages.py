"""The training-job pages through the Django test client: list, job page, Stop, downloads, the
form, and the websocket subscription that feeds a job page its logs and metrics.

Page tests create TrainingJob rows directly: what they show does not need a container to run.
"""

import io
import json
import re
import tarfile
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.models import Dataset, InstanceType, MetricPoint, TrainingJob
from jobs.training import workspace
from jobs.training.logs import log_path
from studio import storage
from studio.dashboard.forms import code_uri
from studio.events import Event, resource_group, send_now
from studio.models import StatusTransition
from tests.integration.conftest import put
from tests.integration.test_live_events import _connect, _next_event
from tests.integration.training import DATA, OUTPUT, separable_csv

pytestmark = pytest.mark.usefixtures("live", "instance_types")

JOBS = reverse("dashboard:jobs")
NEW = reverse("dashboard:training_job_new")


def job_url(name: str, view: str = "job", **kwargs) -> str:
    return reverse(f"dashboard:training_{view}", kwargs={"name": name, **kwargs})


def make_job(profile, name: str, status: str = "InProgress", **fields) -> TrainingJob:
    """A job row as the service would have accepted it; nothing runs it."""
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "AlgorithmName": "linear-learner",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "train:loss", "Regex": "loss=([0-9.]+)"}],
        },
        "HyperParameters": {"predictor_type": "binary_classifier", "epochs": "7"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": DATA}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": OUTPUT},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 900},
    }
    fields.setdefault("instance_type", "ml.m5.large")
    return TrainingJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request=request,
        status=status,
        **fields,
    )


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response
    return response.content.decode()


def names_in(html: str) -> list[str]:
    return re.findall(r'data-status-of="TrainingJob:([^"]+)"', html)


@pytest.fixture
def carol_elsewhere(make_domain, make_profile, carol):
    """Carol, with a profile in another domain only."""
    return make_profile(make_domain("vision"), carol)


# --- The list -----------------------------------------------------------------------------


def test_list_filters_by_status_name_and_owner_and_paginates(
    client, alice, alice_profile, bob_profile
):
    for i in range(27):
        make_job(alice_profile, f"churn-{i:02d}", created_at=timezone.now() - timedelta(minutes=i))
    make_job(bob_profile, "bobs-churn", status="Failed")
    make_job(bob_profile, "bobs-forecast", status="Completed")
    client.force_login(alice)

    first = html_of(client, JOBS)
    assert names_in(first)[:3] == ["bobs-forecast", "bobs-churn", "churn-00"]  # newest first
    assert len(names_in(first)) == 25
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = html_of(client, JOBS + "?page=2")
    assert len(names_in(second)) == 4 and names_in(second)[-1] == "churn-26"

    assert names_in(html_of(client, JOBS + "?status=Failed")) == ["bobs-churn"]
    assert names_in(html_of(client, JOBS + "?q=forecast")) == ["bobs-forecast"]
    mine = names_in(html_of(client, JOBS + "?mine=1&q=churn&page=2"))
    assert mine == ["churn-25", "churn-26"]  # 27 of alice's churn jobs: 2 on page 2
    # The pager keeps the filters.
    assert "?mine=1&amp;q=churn&amp;page=1" in html_of(client, JOBS + "?mine=1&q=churn&page=2")
    assert "No jobs match" in html_of(client, JOBS + "?q=nothing-like-this")
    bad = html_of(client, JOBS + "?status=Sleeping")
    assert "StatusEquals must be one of" in bad


def test_list_uses_a_constant_number_of_queries(client, alice, alice_profile, bob_profile):
    client.force_login(alice)
    make_job(alice_profile, "only-one")
    client.get(JOBS)  # the session and first-request work are not what is measured

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(JOBS).status_code == 200
        return len(captured.captured_queries)

    one = queries()
    for i in range(59):
        make_job(bob_profile if i % 2 else alice_profile, f"job-{i}")
    assert queries() == one
    assert "Jobs" in html_of(client, JOBS + "?mine=1")


def test_another_domains_jobs_are_not_listed(client, carol, carol_elsewhere, alice_profile):
    make_job(alice_profile, "alices-job")
    client.force_login(carol)
    assert "alices-job" not in html_of(client, JOBS)


def test_home_shows_the_five_newest_jobs(client, alice, alice_profile):
    for i in range(7):
        make_job(alice_profile, f"recent-{i}", created_at=timezone.now() - timedelta(minutes=i))
    client.force_login(alice)
    html = html_of(client, reverse("dashboard:home"))
    assert names_in(html) == [f"recent-{i}" for i in range(5)]
    assert f'href="{JOBS}"' in html


# --- The job page -------------------------------------------------------------------------


def test_job_page_shows_spec_timeline_logs_metrics_failure_and_cost(client, alice, alice_profile):
    start = timezone.now() - timedelta(minutes=10)
    job = make_job(
        alice_profile,
        "broken",
        status="Failed",
        instance_count=2,
        secondary_status="Failed",
        failure_reason="AlgorithmError: the label column holds text <b>",
        training_start_time=start,
        training_end_time=start + timedelta(seconds=90),
        secondary_status_transitions=[
            {
                "Status": "Starting",
                "StartTime": start.isoformat(),
                "EndTime": (start + timedelta(seconds=3)).isoformat(),
                "StatusMessage": "Preparing the instances required to run the training job",
            },
            {
                "Status": "Training",
                "StartTime": (start + timedelta(seconds=3)).isoformat(),
                "EndTime": (start + timedelta(seconds=90)).isoformat(),
                "StatusMessage": "Training image download completed. Training in progress.",
            },
            {"Status": "Failed", "StartTime": (start + timedelta(seconds=90)).isoformat()},
        ],
    )
    MetricPoint.objects.bulk_create(
        MetricPoint(job=job, name="train:loss", value=v, timestamp=start + timedelta(seconds=i))
        for i, v in enumerate([0.9, 0.5, 0.25])
    )
    log = log_path(workspace.job_dir(job.name), "algo-1")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(f"epoch {i} loss={1 / (i + 1):.3f}\n" for i in range(2000)))
    client.force_login(alice)

    html = html_of(client, job_url("broken"))
    # Spec
    for shown in (
        "linear-learner",
        "ml.m5.large</code> \N{MULTIPLICATION SIGN} 2",
        DATA,
        OUTPUT,
        "900 s",
        "predictor_type",
        "binary_classifier",
        "train:loss",
    ):
        assert shown in html, shown
    # Timeline, in order, with how long each step took
    assert re.findall(r'data-step="([^"]+)"', html) == ["Starting", "Training", "Failed"]
    assert "· 3 s</span>" in html and "· 1 min 27 s</span>" in html
    assert "Training image download completed" in html
    # Failure reason, escaped
    assert "AlgorithmError: the label column holds text &lt;b&gt;" in html
    # Cost: 90 s on 2 instances at the catalog's price
    price = InstanceType.objects.get(name="ml.m5.large").price_per_hour
    assert f"${price * 180 / Decimal(3600):.4f}" in html
    assert "3 min 00 s" in html  # billable: 2 instances, 90 s
    # The log's tail (not all 2,000 lines), a download link per host, and the chart's points
    assert "epoch 1999 loss=0.001" in html and "epoch 10 loss" not in html
    assert job_url("broken", "job_log", host="algo-2") in html
    metrics = re.search(r'id="job-metrics"[^>]*>(.*?)</script>', html).group(1)
    assert [v for _, v in json.loads(metrics)["train:loss"]] == [0.9, 0.5, 0.25]
    # Subscribed to its own events; Stop disabled (not InProgress)
    assert 'data-subscribe="TrainingJob:broken"' in html
    assert re.search(r'id="stop-job"\s+disabled', html)


def test_a_running_jobs_page_shows_cost_so_far_and_a_live_stop(client, alice, alice_profile):
    make_job(
        alice_profile,
        "running",
        training_start_time=timezone.now() - timedelta(hours=2),
        instance_type="ml.m5.xlarge",
    )
    client.force_login(alice)
    html = html_of(client, job_url("running"))
    assert "Cost so far" in html and 'data-running="true"' in html
    assert 'data-price="0.2300"' in html
    assert "$0.46" in html  # two hours at $0.23
    assert not re.search(r'id="stop-job"\s+disabled', html)


def test_job_pages_are_visible_in_the_domain_and_hidden_outside_it(
    client, alice_profile, bob, bob_profile, carol, carol_elsewhere
):
    make_job(alice_profile, "shared")
    client.force_login(bob)
    assert client.get(job_url("shared")).status_code == 200
    client.force_login(carol)
    assert client.get(job_url("shared")).status_code == 404
    assert client.get(job_url("no-such-job")).status_code == 404
    assert client.get(job_url("not_a_valid_name")).status_code == 404


# --- Stop ---------------------------------------------------------------------------------


def test_the_owner_stops_a_running_job(client, alice, alice_profile):
    make_job(alice_profile, "to-stop")
    client.force_login(alice)
    response = client.post(job_url("to-stop", "job_stop"), follow=True)
    assert response.redirect_chain == [(job_url("to-stop"), 302)]
    assert "Stopping to-stop" in response.content.decode()
    assert StatusTransition.objects.filter(
        resource_type="TrainingJob", resource_id="to-stop", to_status="Stopping"
    ).exists()
    # The worker may already have finished the stop of a job that never started.
    assert TrainingJob.objects.get(name="to-stop").status in {"Stopping", "Stopped"}
    assert client.get(job_url("to-stop", "job_stop")).status_code == 405


def test_someone_elses_stop_is_refused_with_a_message(
    client, alice_profile, bob, bob_profile, carol, carol_elsewhere
):
    make_job(alice_profile, "not-bobs")
    client.force_login(bob)
    response = client.post(job_url("not-bobs", "job_stop"), follow=True)
    assert response.status_code == 200
    assert "is not authorized to perform sagemaker:StopTrainingJob" in response.content.decode()
    assert TrainingJob.objects.get(name="not-bobs").status == "InProgress"

    client.force_login(carol)
    assert client.post(job_url("not-bobs", "job_stop")).status_code == 404
    assert TrainingJob.objects.get(name="not-bobs").status == "InProgress"


def test_stopping_an_ended_job_says_why(client, alice, alice_profile):
    make_job(alice_profile, "done", status="Completed")
    client.force_login(alice)
    response = client.post(job_url("done", "job_stop"), follow=True)
    assert "only InProgress jobs can be stopped" in response.content.decode()


# --- Downloads ----------------------------------------------------------------------------


async def download(user, url: str) -> tuple[int, bytes, dict]:
    """GET through the async path the ASGI server uses, consuming the streamed body."""
    client = AsyncClient()
    await client.aforce_login(user)
    response = await client.get(url)
    if not response.streaming:
        return response.status_code, response.content, dict(response.headers)
    body = b"".join([chunk async for chunk in response.streaming_content])
    return response.status_code, body, dict(response.headers)


@pytest.fixture
def finished_job(alice_profile):
    job = make_job(alice_profile, "finished", status="Completed")
    log = log_path(workspace.job_dir(job.name), "algo-1")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"x" * 700_000 + b"\nthe end\n")  # several chunks
    model = f"{OUTPUT}/finished/output/model.tar.gz"
    put(model, b"\x1f\x8b pretend tarball")
    TrainingJob.objects.filter(pk=job.pk).update(model_artifacts=model)
    return job


async def test_logs_and_artifacts_download_for_the_domain_only(
    finished_job, alice, bob, bob_profile, carol, carol_elsewhere
):
    log_url = job_url("finished", "job_log", host="algo-1")
    model_url = job_url("finished", "job_artifact", artifact="model.tar.gz")

    status, body, headers = await download(alice, log_url)
    assert status == 200 and body.endswith(b"\nthe end\n") and len(body) == 700_009
    assert headers["Content-Length"] == "700009"
    assert 'filename="finished-algo-1.log"' in headers["Content-Disposition"]
    status, body, headers = await download(bob, model_url)  # same domain: may read
    assert status == 200 and body == b"\x1f\x8b pretend tarball"
    assert headers["Content-Type"] == "application/gzip"

    for url in (log_url, model_url):
        assert (await download(carol, url))[0] == 404
    for url in (
        job_url("finished", "job_log", host="algo-2"),  # a host the job does not have
        job_url("finished", "job_artifact", artifact="output.tar.gz"),  # not written
        job_url("finished", "job_artifact", artifact="..%2Fsecret"),
    ):
        assert (await download(alice, url))[0] == 404


def test_the_job_page_links_the_artifacts_it_has(client, alice, finished_job):
    client.force_login(alice)
    html = html_of(client, job_url("finished"))
    assert job_url("finished", "job_artifact", artifact="model.tar.gz") in html
    assert job_url("finished", "job_artifact", artifact="output.tar.gz") not in html


# --- The form -----------------------------------------------------------------------------


def form_data(name: str = "from-form", **overrides) -> dict:
    data = {
        "name": name,
        "dataset": DATA,
        "validation_dataset": "",
        "algorithm": "linear-learner",
        "instance_type": "ml.m5.large",
        "instance_count": "1",
        "hyperparameters": "# a comment\npredictor_type = binary_classifier\n\nepochs=5",
        "metric_definitions": "",
        "max_runtime": "600",
        "output_path": OUTPUT,
    }
    data.update(overrides)
    return data


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown for {field}"
    return match.group(1)


@pytest.fixture
def data() -> str:
    return put(DATA, separable_csv(40))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hyperparameters": "epochs=5\njust words"}, "hyperparameters", "Line 2: expected"),
        ({"hyperparameters": "a=1\na=2"}, "hyperparameters", "given twice"),
        ({"instance_type": "ml.imaginary"}, "instance_type", "Select a valid choice"),
        ({"name": "bad_name"}, "name", "Value at &#x27;TrainingJobName&#x27; failed"),
        ({"name": "x" * 64}, "name", "at most 63 characters"),
        ({"dataset": "s3://research-data/nothing-here/"}, "dataset", "no data at"),
        ({"dataset": "http://example.com/x.csv"}, "dataset", "S3Uri"),
        ({"algorithm": ""}, "algorithm", "Choose a built-in algorithm or upload a script"),
        ({"dataset": ""}, "dataset", "This field is required"),
        ({"max_runtime": "0"}, "max_runtime", "greater than or equal to 1"),
        ({"metric_definitions": "loss=([0-9"}, "metric_definitions", "not a valid regular"),
        ({"output_path": "s3://UPPER/x"}, "output_path", "bucket"),
    ],
)
def test_bad_input_shows_the_error_at_its_field_and_creates_nothing(
    client, alice, alice_profile, data, overrides, field, message
):
    client.force_login(alice)
    response = client.post(NEW, form_data(**overrides))
    assert response.status_code == 200
    assert message in field_error(response.content.decode(), field)
    assert not TrainingJob.objects.exists()


def test_a_taken_name_is_shown_at_the_name(client, alice, alice_profile, data):
    make_job(alice_profile, "taken", status="Completed")
    client.force_login(alice)
    response = client.post(NEW, form_data("taken"))
    assert "already exists" in field_error(response.content.decode(), "name")


def test_the_form_offers_the_catalog_and_the_builtin_algorithms(client, alice, alice_profile):
    InstanceType.objects.filter(name="ml.p3.2xlarge").update(enabled=False)
    client.force_login(alice)
    html = html_of(client, NEW)
    assert "ml.m5.large · 2 vCPU, 8 GiB · $0.115/h" in html
    assert "ml.g4dn.xlarge · 4 vCPU, 16 GiB, 1 GPU · $0.736/h" in html
    assert "ml.p3.2xlarge" not in html
    assert '<option value="linear-learner">' in html and '<option value="kmeans">' in html
    assert f"s3://studio-{alice_profile.domain.domain_id}/training-output" in html


def test_the_form_starts_a_builtin_algorithm_job(client, alice, alice_profile, data):
    client.force_login(alice)
    response = client.post(NEW, form_data(validation_dataset=DATA))
    assert response.status_code == 302 and response["Location"] == job_url("from-form")
    job = TrainingJob.objects.get(name="from-form")
    assert job.profile == alice_profile
    assert job.request["AlgorithmSpecification"]["AlgorithmName"] == "linear-learner"
    assert job.request["HyperParameters"] == {"predictor_type": "binary_classifier", "epochs": "5"}
    assert [c["ChannelName"] for c in job.request["InputDataConfig"]] == ["train", "validation"]
    assert job.request["StoppingCondition"]["MaxRuntimeInSeconds"] == 600
    assert "Training job from-form was created" in html_of(client, job_url("from-form"))


def test_the_form_offers_the_domains_datasets(client, alice, alice_profile, carol_elsewhere, data):
    put("s3://research-data/iris/part.csv", separable_csv(10))
    for profile, name, uri in [
        (alice_profile, "iris", "s3://research-data/iris/"),
        (carol_elsewhere, "carols", DATA),
    ]:
        Dataset.objects.create(
            domain=profile.domain,
            owner=profile,
            name=name,
            format="csv",
            s3_uri=uri,
            size_bytes=100,
            row_count=10,
        )
    client.force_login(alice)
    html = html_of(client, NEW)
    assert '<option value="iris">iris · 10 rows</option>' in html
    assert "carols" not in html

    both = client.post(NEW, form_data(dataset_name="iris"))
    assert "Choose a dataset or give" in field_error(both.content.decode(), "dataset")
    assert client.post(NEW, form_data("from-dataset", dataset_name="iris", dataset=""))[
        "Location"
    ] == job_url("from-dataset")
    job = TrainingJob.objects.get(name="from-dataset")
    assert job.request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://research-data/iris/"
    )
    # Another domain's dataset is no choice at all.
    refused = client.post(NEW, form_data("sneaky", dataset_name="carols", dataset=""))
    assert "Select a valid choice" in field_error(refused.content.decode(), "dataset_name")


def test_the_form_starts_a_script_mode_job_with_the_uploaded_script(
    client, alice, alice_profile, data
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    script = b"print('train:loss=0.5')\n"
    client.force_login(alice)
    response = client.post(
        NEW,
        form_data(
            "scripted",
            algorithm="",
            script=SimpleUploadedFile("train.py", script),
            metric_definitions="train:loss=train:loss=([0-9.]+)",
        ),
    )
    assert response.status_code == 302
    job = TrainingJob.objects.get(name="scripted")
    uri = code_uri(alice_profile.domain, "scripted")
    assert job.request["AlgorithmSpecification"] == {
        "TrainingImage": "studio/sklearn:latest",
        "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "train:loss", "Regex": "train:loss=([0-9.]+)"}],
    }
    assert job.request["HyperParameters"]["sagemaker_program"] == "train.py"
    assert job.request["HyperParameters"]["sagemaker_submit_directory"] == uri
    with tarfile.open(fileobj=io.BytesIO(storage.local_path(uri).read_bytes())) as tar:
        assert tar.getnames() == ["train.py"]
        assert tar.extractfile("train.py").read() == script


def test_a_refused_script_job_stores_no_code(client, alice, alice_profile, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice)
    response = client.post(
        NEW,
        form_data(
            "refused",
            algorithm="",
            script=SimpleUploadedFile("train.py", b"pass\n"),
            instance_count="0",
        ),
    )
    assert "greater than or equal to 1" in field_error(response.content.decode(), "instance_count")
    response = client.post(
        NEW,
        form_data("refused", algorithm="", script=SimpleUploadedFile("notes.txt", b"hi")),
    )
    assert "Upload a Python script" in field_error(response.content.decode(), "script")
    assert not TrainingJob.objects.exists()
    assert not storage.local_path(code_uri(alice_profile.domain, "refused")).exists()


# --- The websocket ------------------------------------------------------------------------


async def test_a_job_page_subscription_delivers_the_jobs_log_lines(alice, alice_profile):
    await sync_to_async(make_job)(alice_profile, "watched")
    communicator, connected = await _connect(alice, alice_profile.pk)
    assert connected
    try:
        await communicator.send_json_to({"subscribe": "TrainingJob:watched"})
        ack = await _next_event(communicator, lambda e: e["kind"] in {"subscribed", "error"})
        assert ack == {"kind": "subscribed", "subscribe": "TrainingJob:watched"}
        group = resource_group("TrainingJob", "watched")
        await sync_to_async(send_now)(
            Event("log", "TrainingJob", "watched", [group], {"host": "algo-1", "lines": ["hi"]})
        )
        event = await _next_event(communicator, lambda e: e["kind"] == "log")
        assert (event["resource_id"], event["lines"]) == ("watched", ["hi"])
    finally:
        await communicator.disconnect()


async def test_another_domains_user_cannot_subscribe_to_a_job(
    alice_profile, bob, make_domain, make_profile
):
    vision = await sync_to_async(make_domain)("vision")
    bobs = await sync_to_async(make_profile)(vision, bob)
    await sync_to_async(make_job)(alice_profile, "private")
    communicator, connected = await _connect(bob, bobs.pk)
    assert connected
    try:
        replies = []
        for key in ("TrainingJob:private", "TrainingJob:no-such-job", "Domain:anything", "junk"):
            await communicator.send_json_to({"subscribe": key})
            replies.append(await communicator.receive_json_from(timeout=10))
        assert [r["kind"] for r in replies] == ["error"] * 4
        # Another domain's job is as absent as one that does not exist.
        assert replies[0]["message"] == "Training job private does not exist."
        assert replies[1]["message"] == "Training job no-such-job does not exist."
        # Nothing sent to alice's job reaches bob.
        group = resource_group("TrainingJob", "private")
        await sync_to_async(send_now)(
            Event("log", "TrainingJob", "private", [group], {"host": "algo-1", "lines": ["s"]})
        )
        assert await communicator.receive_nothing(timeout=1)
    finally:
        await communicator.disconnect()
