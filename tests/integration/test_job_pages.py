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
from datetime import UTC, datetime, timedelta

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
    errors_in,
    field_error,
    html_of,
    inside,
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
        ({"name": "bad_name"}, "name", "Use only letters, digits and hyphens, and begin"),
        ({"name": "x" * 64}, "name", "at most 63 characters"),
        ({"dataset": "s3://research-data/nothing-here/"}, "dataset", "no data at"),
        ({"dataset": "http://example.com/x.csv"}, "dataset", "Give an s3:// URI"),
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


# --- Errors in words, at their fields -----------------------------------------------------

NAME_RULE = (
    "Use only letters, digits and hyphens, and begin and end with a letter or digit, at most "
    "63 characters."
)


@pytest.mark.parametrize(
    ("overrides", "shown_at", "words"),
    [
        ({"name": "bad_name"}, "field-name", NAME_RULE),
        ({"name": "-starts-with-a-hyphen"}, "field-name", NAME_RULE),
        ({"name": "x" * 64}, "field-name", "at most 63 characters (it has 64)"),
        ({"name": ""}, "field-name", "This field is required."),
        (
            {"hyperparameters": "predictor_type=multiclass_classifier\nnum_classes=abc"},
            "field-hyperparameters",
            "num_classes: must be an integer of at least 3, not &#x27;abc&#x27;.",
        ),
        (
            {"hyperparameters": "predictor_type=binary_classifier\nbanana=1"},
            "field-hyperparameters",
            "banana: is not a hyperparameter of linear-learner",
        ),
        (
            {"hyperparameters": "epochs=5"},
            "field-hyperparameters",
            "predictor_type: is required for linear-learner",
        ),
        ({"dataset": "http://example.com/x.csv"}, "field-dataset", "Give an s3:// URI"),
        ({"instance_count": "abc"}, "field-instance_count", "Enter a whole number."),
        ({"instance_count": "17"}, "field-instance_count", "Instance count must be between 1"),
        ({"max_runtime": ""}, "field-max_runtime", "This field is required."),
        (
            {"algorithm": ""},
            "pair-algorithm",
            "Choose a built-in algorithm or upload a script (one of the two).",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith(("field-", "pair-")) else None,
)
def test_a_bad_value_is_refused_at_its_field_in_words_keeping_the_rest(
    client, alice, alice_profile, data, overrides, shown_at, words
):
    client.force_login(alice)
    response = client.post(NEW, form_data(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert any(words in error for error in errors_in(html, shown_at)), errors_in(html, shown_at)
    assert "regular expression" not in html and "HyperParameters." not in html
    assert "Value at" not in html
    # The field's input is marked and described by its error; the rest of the input is kept.
    field = shown_at.split("-", 1)[1]
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error"', inside(html, shown_at))
    assert 'aria-invalid="true"' in inside(html, shown_at)
    assert f'value="{OUTPUT}"' in html
    assert f'value="{DATA}"' in html or "dataset" in overrides
    assert 'value="600"' in html or "max_runtime" in overrides
    assert not TrainingJob.objects.exists()


def test_the_algorithm_and_script_are_one_of_a_pair_and_both_is_refused_on_the_pair(
    client, alice, alice_profile, data
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice)
    html = html_of(client, NEW)
    pair = inside(html, "pair-algorithm")
    assert "one of the two" in pair
    for field in ("algorithm", "script"):
        label = inside(html, f"field-{field}")
        assert "one of" in label and "optional" not in label
    # Validation data is optional on its own.
    assert "optional" in inside(html, "field-validation_dataset")

    response = client.post(NEW, form_data(script=SimpleUploadedFile("train.py", b"print(1)\n")))
    html = response.content.decode()
    assert errors_in(html, "pair-algorithm") == [
        "Choose a built-in algorithm or upload a script, not both."
    ]
    # Both inputs are described by the pair's error, and neither field repeats it.
    assert errors_in(html, "field-algorithm") == errors_in(html, "field-script") == []
    assert re.search(r'id="id_script"[^>]*aria-describedby="[^"]*id_algorithm_error"', html) or (
        re.search(r'aria-describedby="[^"]*id_algorithm_error"[^>]*id="id_script"', html)
    )
    assert not TrainingJob.objects.exists()


def test_a_dataset_or_a_uri_is_a_pair_refused_when_neither_or_both(
    client, alice, alice_profile, data
):
    dataset(alice_profile, "iris", DATA)
    client.force_login(alice)
    html = html_of(client, NEW)
    assert "Training data" in inside(html, "pair-dataset")
    for field in ("dataset_name", "dataset"):
        label = inside(html, f"field-{field}")
        assert "one of" in label and "optional" not in label

    neither = client.post(NEW, form_data(dataset="")).content.decode()
    assert errors_in(neither, "pair-dataset") == [
        "Choose a dataset or give an s3:// URI (one of the two)."
    ]
    both = client.post(NEW, form_data(dataset_name="iris")).content.decode()
    assert errors_in(both, "pair-dataset") == ["Choose a dataset or give an s3:// URI, not both."]
    assert not TrainingJob.objects.exists()


# --- Start similar ------------------------------------------------------------------------


def similar_url(name: str) -> str:
    return f"{NEW}?from={name}"


def selected(html: str, field: str) -> str:
    match = re.search(
        rf'<select name="{field}"[^>]*>.*?<option value="([^"]*)"[^>]*selected', html, re.S
    )
    assert match, f"nothing selected in {field}"
    return match[1]


def textarea(html: str, field: str) -> str:
    match = re.search(rf'<textarea name="{field}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no {field}"
    return match[1].strip()


def test_a_jobs_page_offers_start_similar(client, alice, alice_profile):
    make_job(alice_profile, "done", "Completed")
    client.force_login(alice)
    html = html_of(client, job_url("done"))
    assert re.search(
        rf'<a class="btn" id="start-similar" href="{re.escape(similar_url("done"))}"', html
    )


def test_start_similar_prefills_the_form_from_a_builtin_algorithm_job(
    client, alice, alice_profile, data
):
    make_job(alice_profile, "linear", "Completed", instance_count=2)
    TrainingJob.objects.filter(name="linear").update(
        request={
            **TrainingJob.objects.get(name="linear").request,
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2},
        }
    )
    make_job(alice_profile, "linear-2", "Completed")  # taken: the next is -3
    dataset(alice_profile, "iris", DATA)
    client.force_login(alice)

    html = html_of(client, similar_url("linear"))
    assert 'value="linear-3"' in html
    assert selected(html, "algorithm") == "linear-learner"
    assert selected(html, "dataset_name") == "iris"  # the domain's dataset of that URI
    assert selected(html, "instance_type") == "ml.m5.xlarge"
    assert re.search(r'name="instance_count" value="2"', html)
    assert re.search(r'name="max_runtime" value="900"', html)
    # (in the order the database keeps them)
    assert sorted(textarea(html, "hyperparameters").splitlines()) == [
        "epochs=7",
        "predictor_type=binary_classifier",
    ]
    assert textarea(html, "metric_definitions") == "train:loss=loss=([0-9.]+)"
    assert f'name="output_path" value="{OUTPUT}"' in html
    assert "Settings from training job" in html and job_url("linear") in html

    # Submitted as it is, it starts the copy.
    response = client.post(
        similar_url("linear"),
        form_data(
            "linear-3",
            dataset="",
            dataset_name="iris",
            instance_type="ml.m5.xlarge",
            instance_count="2",
            hyperparameters=textarea(html, "hyperparameters"),
            metric_definitions=textarea(html, "metric_definitions"),
            max_runtime="900",
        ),
    )
    assert response.status_code == 302 and response["Location"] == job_url("linear-3")
    copy = TrainingJob.objects.get(name="linear-3")
    assert copy.request["HyperParameters"] == {"predictor_type": "binary_classifier", "epochs": "7"}
    assert copy.request["ResourceConfig"]["InstanceCount"] == 2


def test_start_similar_reuses_the_script_a_script_mode_job_ran(client, alice, alice_profile, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    script = b"print('train:loss=0.25')\n"
    client.force_login(alice)
    created = client.post(
        NEW,
        form_data(
            "scripted",
            algorithm="",
            hyperparameters="epochs=3",
            script=SimpleUploadedFile("my_train.py", script),
            metric_definitions="train:loss=train:loss=([0-9.]+)",
        ),
    )
    assert created.status_code == 302

    html = html_of(client, similar_url("scripted"))
    assert 'value="scripted-2"' in html
    assert selected(html, "algorithm") == ""
    assert textarea(html, "hyperparameters") == "epochs=3"  # not the script's own settings
    assert "my_train.py from scripted runs again unless you upload another" in html
    assert "upload it again" not in html

    response = client.post(
        similar_url("scripted"),
        form_data(
            "scripted-2",
            algorithm="",
            hyperparameters="epochs=3",
            metric_definitions="train:loss=train:loss=([0-9.]+)",
        ),
    )
    assert response.status_code == 302, response.content.decode()
    job = TrainingJob.objects.get(name="scripted-2")
    uri = training_code_uri(alice_profile.domain.domain_id, "scripted-2")
    assert job.request["HyperParameters"]["sagemaker_program"] == "my_train.py"
    assert job.request["HyperParameters"]["sagemaker_submit_directory"] == uri
    with tarfile.open(fileobj=io.BytesIO(storage.artifact_store().path(uri).read_bytes())) as tar:
        assert tar.extractfile("my_train.py").read() == script


def test_start_similar_of_a_script_job_whose_script_is_gone_says_to_upload_it(
    client, alice, alice_profile
):
    make_job(alice_profile, "sdk-job", "Completed")
    job = TrainingJob.objects.get(name="sdk-job")
    job.request["AlgorithmSpecification"] = {"TrainingImage": "studio/sklearn:latest"}
    job.request["HyperParameters"] = {
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": "s3://elsewhere/code/sourcedir.tar.gz",
    }
    job.save()
    client.force_login(alice)
    html = html_of(client, similar_url("sdk-job"))
    assert "The script sdk-job ran is not stored with it: upload it again." in html
    response = client.post(similar_url("sdk-job"), form_data("sdk-job-2", algorithm=""))
    assert errors_in(response.content.decode(), "pair-algorithm") == [
        "Choose a built-in algorithm or upload a script (one of the two)."
    ]
    assert not TrainingJob.objects.filter(name="sdk-job-2").exists()


def test_start_similar_is_for_jobs_the_user_may_describe(
    client, root, alice, alice_profile, bob, bob_profile, carol, carol_elsewhere
):
    from domains.services import update_policy

    make_job(carol_elsewhere, "theirs", "Completed")
    make_job(alice_profile, "ours", "Completed")
    client.force_login(alice)
    # Another domain's job is not found, as its page is; so is one nobody has.
    assert client.get(similar_url("theirs")).status_code == 404
    assert client.get(similar_url("no-such-job")).status_code == 404
    # Another member's job of the domain, when the policy lets them describe it.
    client.force_login(bob)
    assert 'value="ours-2"' in html_of(client, similar_url("ours"))

    update_policy(
        root,
        alice_profile.domain.domain_id,
        "DataScientist",
        deny=["sagemaker:DescribeTrainingJob"],
    )
    response = client.get(similar_url("ours"))
    assert response.status_code == 403
    assert "explicitly denies sagemaker:DescribeTrainingJob" in response.content.decode()
    assert "ours-2" not in response.content.decode()
    # Posting to it is refused alike, and starts nothing.
    assert client.post(similar_url("ours"), form_data("ours-2")).status_code == 403
    assert not TrainingJob.objects.filter(name="ours-2").exists()


def test_the_job_page_and_the_list_print_when_a_job_was_created_the_one_way(
    client, alice, alice_profile
):
    created = datetime(2026, 3, 4, 9, 7, 5, tzinfo=UTC)
    make_job(alice_profile, "dated", status="Completed", created_at=created)
    client.force_login(alice)
    iso = "2026-03-04T09:07:05+00:00"
    printed = f'<time datetime="{iso}" title="{iso}">4 Mar 2026, 09:07</time>'
    assert f"Started by <strong>alice</strong> on {printed}" in html_of(client, job_url("dated"))
    assert printed in html_of(client, JOBS)
