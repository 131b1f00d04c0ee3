"""The training-job pages through the Django test client: list, job page, Stop, downloads, the
form, and the websocket subscription that feeds a job page its logs and metrics. What every
kind's pages do alike is tested by `TestTrainingJobPages` (job_pages.JobPageCases); the
functions here test what only training jobs have.

Page tests create TrainingJob rows directly: what they show does not need a container to run.
"""

import io
import json
import re
import tarfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import MetricPoint, TrainingJob
from jobs.services.training import training_code_uri
from jobs.training import workspace
from studio.core import storage
from studio.core.models import StatusTransition
from tests.integration import job_pages
from tests.integration.conftest import put
from tests.integration.job_pages import (
    JOBS,
    JobPageCases,
    dataset,
    download,
    field_error,
    html_of,
    queries_of,
)
from tests.integration.training import DATA, OUTPUT, separable_csv

pytestmark = pytest.mark.usefixtures("live", "instance_types")
carol_elsewhere = job_pages.carol_elsewhere
data = job_pages.data

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


def names_in(html: str) -> list[str]:
    """The names of the training jobs a page's live badges follow ("<domain id>/<name>")."""
    return re.findall(r'data-status-of="TrainingJob:d-[a-z0-9]+/([^"]+)"', html)


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
    one = queries_of(client, JOBS)
    for i in range(59):
        make_job(bob_profile if i % 2 else alice_profile, f"job-{i}")
    assert queries_of(client, JOBS) == one
    assert "Jobs" in html_of(client, JOBS + "?mine=1")


def test_home_shows_the_five_newest_jobs(client, alice, alice_profile):
    for i in range(7):
        make_job(alice_profile, f"recent-{i}", created_at=timezone.now() - timedelta(minutes=i))
    client.force_login(alice)
    html = html_of(client, reverse("dashboard:home"))
    assert names_in(html) == [f"recent-{i}" for i in range(5)]
    assert f'href="{JOBS}"' in html


# --- The job page -------------------------------------------------------------------------


def test_job_page_shows_spec_timeline_metrics_and_failure(client, alice, alice_profile):
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
    )
    for status, seconds, message in (
        ("Starting", 0, "Preparing the instances required to run the training job"),
        ("Training", 3, "Training image download completed. Training in progress."),
        ("Failed", 90, ""),
    ):
        step = StatusTransition.objects.create(
            resource_type="TrainingJob",
            resource_id=job.resource_id,
            to_status=status,
            reason=message,
            secondary=True,
        )
        StatusTransition.objects.filter(pk=step.pk).update(at=start + timedelta(seconds=seconds))
    MetricPoint.objects.bulk_create(
        MetricPoint(job=job, name="train:loss", value=v, timestamp=start + timedelta(seconds=i))
        for i, v in enumerate([0.9, 0.5, 0.25])
    )
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
    # The chart's points
    metrics = re.search(r'id="job-metrics"[^>]*>(.*?)</script>', html).group(1)
    assert [v for _, v in json.loads(metrics)["train:loss"]] == [0.9, 0.5, 0.25]


# --- Artifacts ----------------------------------------------------------------------------


@pytest.fixture
def finished_job(alice_profile):
    job = make_job(alice_profile, "finished", status="Completed")
    model = f"{OUTPUT}/finished/output/model.tar.gz"
    put(model, b"\x1f\x8b pretend tarball")
    TrainingJob.objects.filter(pk=job.pk).update(model_artifacts=model)
    return job


async def test_artifacts_download_for_the_domain_only(
    finished_job, alice, bob, bob_profile, carol, carol_elsewhere
):
    model_url = job_url("finished", "job_artifact", artifact="model.tar.gz")
    status, body, headers = await download(bob, model_url)  # same domain: may read
    assert status == 200 and body == b"\x1f\x8b pretend tarball"
    assert headers["Content-Type"] == "application/gzip"

    assert (await download(carol, model_url))[0] == 404
    for url in (
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


def test_the_form_offers_the_builtin_algorithms_and_an_output_path(client, alice, alice_profile):
    client.force_login(alice)
    html = html_of(client, NEW)
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


def test_a_chosen_dataset_is_the_train_channel(client, alice, alice_profile, data):
    put("s3://research-data/iris/part.csv", separable_csv(10))
    dataset(alice_profile, "iris", "s3://research-data/iris/")
    client.force_login(alice)
    assert client.post(NEW, form_data("from-dataset", dataset_name="iris", dataset=""))[
        "Location"
    ] == job_url("from-dataset")
    job = TrainingJob.objects.get(name="from-dataset")
    assert job.request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://research-data/iris/"
    )


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
    uri = training_code_uri(alice_profile.domain.domain_id, "scripted")
    assert job.request["AlgorithmSpecification"] == {
        "TrainingImage": "studio/sklearn:latest",
        "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "train:loss", "Regex": "train:loss=([0-9.]+)"}],
    }
    assert job.request["HyperParameters"]["sagemaker_program"] == "train.py"
    assert job.request["HyperParameters"]["sagemaker_submit_directory"] == uri
    with tarfile.open(fileobj=io.BytesIO(storage.artifact_store().path(uri).read_bytes())) as tar:
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
    assert (
        not storage.artifact_store()
        .path(training_code_uri(alice_profile.domain.domain_id, "refused"))
        .exists()
    )


# --- What every kind's pages do ---------------------------------------------------------


class TestTrainingJobPages(JobPageCases):
    view_prefix = "training"
    resource_type = "TrainingJob"
    label = "Training job"
    model = TrainingJob
    start_field = "training_start_time"
    end_field = "training_end_time"
    make_job = staticmethod(make_job)
    job_dir = staticmethod(workspace.job_dir)
    form_data = staticmethod(form_data)
    bad_inputs = [
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
        ({"metric_definitions": "loss=([0-9"}, "metric_definitions", "expression RE2 accepts"),
        ({"output_path": "s3://UPPER/x"}, "output_path", "bucket"),
    ]


# --- A finished job's page (issue 10, item 8) ---------------------------------------------


@pytest.mark.parametrize("status", ["Completed", "Failed", "Stopped"])
def test_an_ended_jobs_page_has_no_stop_at_all(client, alice, alice_profile, status):
    make_job(alice_profile, "ended", status=status)
    client.force_login(alice)
    html = html_of(client, job_url("ended"))
    assert 'id="stop-job"' not in html
    assert job_url("ended", "job_stop") not in html
    # The region stays, empty, for the page's script to swap in place.
    assert 'data-region="stop"' in html


def test_a_stopping_jobs_page_says_stopping_and_offers_no_stop(client, alice, alice_profile):
    make_job(alice_profile, "stopping", status="Stopping")
    client.force_login(alice)
    html = html_of(client, job_url("stopping"))
    assert re.search(
        r'<button type="button" class="btn" id="stop-job" disabled>Stopping…</button>', html
    )
    assert job_url("stopping", "job_stop") not in html


def test_a_flash_is_shown_once_and_marked_for_the_page_to_drop_when_the_job_ends(
    client, alice, alice_profile
):
    make_job(alice_profile, "flashed")
    client.force_login(alice)
    html = client.post(job_url("flashed", "job_stop"), follow=True).content.decode()
    assert re.search(r'class="banner banner-success job-flash"[^>]*>Stopping flashed', html)
    # A Django message: a later visit (the job has ended, or not) no longer shows it.
    assert "Stopping flashed" not in html_of(client, job_url("flashed"))
