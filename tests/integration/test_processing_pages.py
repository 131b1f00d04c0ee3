"""The processing-job pages through the Django test client: the jobs list with both kinds, a
processing job's page, Stop, log downloads, the form, and the websocket subscription. What
every kind's pages do alike is tested by `TestProcessingJobPages` (job_pages.JobPageCases); the
functions here test what only processing jobs have, and the list of both kinds.

Page tests create ProcessingJob rows directly: what they show does not need a container to run.
"""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.models import ProcessingJob
from jobs.processing.workspace import job_dir
from jobs.services.processing import processing_code_uri
from studio.core import storage
from studio.core.lifecycle import record_creation, transition
from tests.integration import job_pages
from tests.integration.job_pages import (
    JOBS,
    JobPageCases,
    dataset,
    errors_in,
    field_error,
    html_of,
    inside,
    queries_of,
)
from tests.integration.test_job_pages import make_job
from tests.integration.training import DATA

pytestmark = pytest.mark.usefixtures("live", "instance_types")
carol_elsewhere = job_pages.carol_elsewhere
data = job_pages.data

NEW = reverse("dashboard:processing_job_new")
CODE = "s3://research-code/prep/preprocess.py"
OUTPUT = "s3://research-output/processing/prep/clean"


def job_url(name: str, view: str = "job", **kwargs) -> str:
    return reverse(f"dashboard:processing_{view}", kwargs={"name": name, **kwargs})


def make_processing_job(profile, name: str, status: str = "InProgress", **fields) -> ProcessingJob:
    """A job row as the service would have accepted it (its creation recorded); nothing runs
    it."""
    request = {
        "ProcessingJobName": name,
        "AppSpecification": {
            "ImageUri": "studio/sklearn:latest",
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
            "ContainerArguments": ["--min", "0.5"],
        },
        "ProcessingInputs": [
            {
                "InputName": "code",
                "S3Input": {"S3Uri": CODE, "LocalPath": "/opt/ml/processing/input/code"},
            },
            {
                "InputName": "data",
                "S3Input": {"S3Uri": DATA, "LocalPath": "/opt/ml/processing/input/data"},
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "clean",
                    "S3Output": {"S3Uri": OUTPUT, "LocalPath": "/opt/ml/processing/output"},
                }
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}
        },
        "Environment": {"MIN_VALUE": "0.5"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    fields.setdefault("instance_type", "ml.m5.large")
    job = ProcessingJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request=request,
        status="InProgress",
        **fields,
    )
    record_creation(job)
    if status != "InProgress":
        transition(job, status, reason="AlgorithmError: boom" if status == "Failed" else "")
    return job


def status_keys(html: str) -> list[str]:
    """ "<kind>:<name>" of each job a page's live badges follow (by "<domain id>/<name>")."""
    found = re.findall(r'data-status-of="((?:Training|Processing)Job):d-[a-z0-9]+/([^"]+)"', html)
    return [f"{kind}:{name}" for kind, name in found]


# --- The list -----------------------------------------------------------------------------


def test_the_list_shows_both_kinds_with_a_type_filter(client, alice, alice_profile, bob_profile):
    now = timezone.now()
    make_job(alice_profile, "train-old", created_at=now - timedelta(minutes=3))
    make_processing_job(bob_profile, "prep-new", created_at=now - timedelta(minutes=1))
    make_processing_job(alice_profile, "prep-done", status="Completed", created_at=now)
    # A training and a processing job may share a name: each links to its own page.
    make_job(alice_profile, "twin", status="Failed", created_at=now - timedelta(minutes=2))
    make_processing_job(alice_profile, "twin", created_at=now - timedelta(minutes=4))
    client.force_login(alice)

    html = html_of(client, JOBS)
    assert status_keys(html) == [
        "ProcessingJob:prep-done",
        "ProcessingJob:prep-new",
        "TrainingJob:twin",
        "TrainingJob:train-old",
        "ProcessingJob:twin",
    ]
    assert html.count('<span class="pill">Processing</span>') == 3
    assert html.count('<span class="pill">Training</span>') == 2
    assert f'href="{job_url("twin")}"' in html
    assert f'href="{reverse("dashboard:training_job", args=["twin"])}"' in html
    assert f'href="{NEW}"' in html

    assert status_keys(html_of(client, JOBS + "?type=processing")) == [
        "ProcessingJob:prep-done",
        "ProcessingJob:prep-new",
        "ProcessingJob:twin",
    ]
    assert status_keys(html_of(client, JOBS + "?type=training&q=tw")) == ["TrainingJob:twin"]
    assert status_keys(html_of(client, JOBS + "?status=Completed")) == ["ProcessingJob:prep-done"]
    assert status_keys(html_of(client, JOBS + "?mine=1&type=processing&q=prep")) == [
        "ProcessingJob:prep-done"
    ]
    assert "Type must be one of training, processing" in html_of(client, JOBS + "?type=tuning")
    assert "StatusEquals must be one of" in html_of(client, JOBS + "?status=Sleeping")


def test_the_list_pages_both_kinds_in_a_constant_number_of_queries(
    client, alice, alice_profile, bob_profile
):
    client.force_login(alice)
    make_job(alice_profile, "only-one", created_at=timezone.now() - timedelta(days=1))
    client.get(JOBS)  # the session and first-request work are not what is measured
    one = queries_of(client, JOBS)
    start = timezone.now()
    for i in range(30):
        owner = bob_profile if i % 2 else alice_profile
        make_job(owner, f"train-{i:02d}", created_at=start - timedelta(minutes=2 * i))
        make_processing_job(owner, f"prep-{i:02d}", created_at=start - timedelta(minutes=2 * i + 1))
    assert queries_of(client, JOBS) == one
    # Interleaved by creation time across the kinds, 25 a page.
    first = status_keys(html_of(client, JOBS))
    assert first[:3] == ["TrainingJob:train-00", "ProcessingJob:prep-00", "TrainingJob:train-01"]
    assert len(first) == 25
    last = status_keys(html_of(client, JOBS + "?page=3"))
    assert last[-2:] == ["ProcessingJob:prep-29", "TrainingJob:only-one"]
    assert len(last) == 11  # 61 jobs


def test_home_shows_recent_jobs_of_both_kinds(client, alice, alice_profile):
    now = timezone.now()
    for i in range(4):
        make_job(alice_profile, f"train-{i}", created_at=now - timedelta(minutes=2 * i))
        make_processing_job(
            alice_profile, f"prep-{i}", created_at=now - timedelta(minutes=2 * i + 1)
        )
    client.force_login(alice)
    home = reverse("dashboard:home")
    client.get(home)

    with CaptureQueriesContext(connection) as few:
        html = html_of(client, home)
    assert status_keys(html) == [
        "TrainingJob:train-0",
        "ProcessingJob:prep-0",
        "TrainingJob:train-1",
        "ProcessingJob:prep-1",
        "TrainingJob:train-2",
    ]
    assert job_url("prep-0") in html and f'href="{NEW}"' in html
    for i in range(4, 20):
        make_processing_job(alice_profile, f"more-{i}", created_at=now - timedelta(hours=i))
    with CaptureQueriesContext(connection) as many:
        html_of(client, home)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- The job page -------------------------------------------------------------------------


def test_a_completed_jobs_page_shows_its_spec_and_links_the_datasets_it_made(
    client, alice, alice_profile
):
    start = timezone.now() - timedelta(minutes=5)
    job = make_processing_job(
        alice_profile,
        "prep-done",
        processing_start_time=start,
        processing_end_time=start + timedelta(seconds=45),
        exit_message="kept 120 of 200 rows",
        runtime_state={"runtime": "docker", "image": "studio/sklearn:latest"},
    )
    dataset(alice_profile, "prep-done-clean", OUTPUT)
    ProcessingJob.objects.filter(pk=job.pk).update(output_datasets={"clean": "prep-done-clean"})
    transition(job, "Completed")
    client.force_login(alice)

    html = html_of(client, job_url("prep-done"))
    for shown in (
        "studio/sklearn:latest",
        "python3 /opt/ml/processing/input/code/preprocess.py",
        "--min 0.5",
        "ml.m5.large</code> \N{MULTIPLICATION SIGN} 1",
        "600 s",
        "MIN_VALUE",
        # Inputs: where each comes from and where it is mounted
        CODE,
        "/opt/ml/processing/input/code",
        DATA,
        "/opt/ml/processing/input/data",
        # The output: where it was written from, where it went
        "/opt/ml/processing/output",
        OUTPUT,
        "kept 120 of 200 rows",
    ):
        assert shown in html, shown
    url = reverse("dashboard:dataset", args=[alice_profile.domain.domain_id, "prep-done-clean"])
    assert f'<a href="{url}" class="dataset-link">prep-done-clean</a>' in html
    assert re.findall(r'data-step="([^"]+)"', html) == ["InProgress", "Completed"]
    assert client.get(url).status_code == 200  # the link leads to the dataset's page


def test_a_running_jobs_page_has_no_dataset_link_yet(client, alice, alice_profile):
    make_processing_job(
        alice_profile, "prep-running", processing_start_time=timezone.now() - timedelta(hours=1)
    )
    client.force_login(alice)
    html = html_of(client, job_url("prep-running"))
    assert "when the job completes" in html and "dataset-link" not in html


def test_a_failed_jobs_page_shows_the_reason(client, alice, alice_profile):
    make_processing_job(alice_profile, "prep-failed", status="Failed")
    client.force_login(alice)
    html = html_of(client, job_url("prep-failed"))
    assert 'id="failure-reason"' in html and "AlgorithmError: boom" in html
    assert re.findall(r'data-step="([^"]+)"', html) == ["InProgress", "Failed"]
    assert "dataset-link" not in html


# --- The form -----------------------------------------------------------------------------

PREPROCESS = b"print('hello')\n"


def form_data(name: str = "prep-form", **overrides) -> dict:
    data = {
        "name": name,
        "script": SimpleUploadedFile("preprocess.py", PREPROCESS),
        "dataset": DATA,
        "output_name": "output",
        "image": "studio/sklearn:latest",
        "instance_type": "ml.m5.large",
        "max_runtime": "600",
        "environment": "# thresholds\nMIN_VALUE = 0.5\n\nMODE=strict",
    }
    data.update(overrides)
    return data


def test_a_taken_name_is_shown_at_the_name_and_keeps_the_owners_code(
    client, alice, alice_profile, bob, bob_profile, data
):
    client.force_login(alice)
    assert client.post(NEW, form_data("taken")).status_code == 302
    code_uri = processing_code_uri(alice_profile.domain.domain_id, "taken", "preprocess.py")
    code = storage.artifact_store().path(code_uri)
    assert code.read_bytes() == PREPROCESS

    client.force_login(bob)
    response = client.post(
        NEW, form_data("taken", script=SimpleUploadedFile("preprocess.py", b"evil()\n"))
    )
    assert "taken" in field_error(response.content.decode(), "name")
    assert code.read_bytes() == PREPROCESS
    assert ProcessingJob.objects.get(name="taken").profile == alice_profile


def test_the_form_offers_an_image_and_an_output_name(client, alice, alice_profile):
    client.force_login(alice)
    html = html_of(client, NEW)
    assert 'value="studio/sklearn:latest"' in html and 'value="output"' in html


def test_the_form_starts_a_processing_job(client, alice, alice_profile, data):
    dataset(alice_profile, "iris", DATA)
    client.force_login(alice)
    response = client.post(NEW, form_data("from-form", dataset="", dataset_name="iris"))
    assert response.status_code == 302 and response["Location"] == job_url("from-form")

    job = ProcessingJob.objects.get(name="from-form")
    domain_id = alice_profile.domain.domain_id
    code = f"s3://studio-{domain_id}/code/from-form/preprocess.py"
    assert job.profile == alice_profile and job.instance_type == "ml.m5.large"
    assert job.request["AppSpecification"] == {
        "ImageUri": "studio/sklearn:latest",
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
    }
    inputs = {i["InputName"]: i["S3Input"] for i in job.request["ProcessingInputs"]}
    assert (inputs["code"]["S3Uri"], inputs["code"]["LocalPath"]) == (
        code,
        "/opt/ml/processing/input/code",
    )
    assert (inputs["data"]["S3Uri"], inputs["data"]["LocalPath"]) == (
        DATA,
        "/opt/ml/processing/input/data",
    )
    [output] = job.request["ProcessingOutputConfig"]["Outputs"]
    assert output["OutputName"] == "output"
    assert output["S3Output"]["S3Uri"] == f"s3://studio-{domain_id}/processing/from-form/output"
    assert output["S3Output"]["LocalPath"] == "/opt/ml/processing/output"
    assert job.request["Environment"] == {"MIN_VALUE": "0.5", "MODE": "strict"}
    assert job.request["StoppingCondition"]["MaxRuntimeInSeconds"] == 600
    assert job.runtime_state["image"] == "studio/sklearn:latest"
    assert storage.artifact_store().path(code).read_bytes() == PREPROCESS
    assert "Processing job from-form was created" in html_of(client, job_url("from-form"))


# --- What every kind's pages do ---------------------------------------------------------


class TestProcessingJobPages(JobPageCases):
    view_prefix = "processing"
    resource_type = "ProcessingJob"
    label = "Processing job"
    model = ProcessingJob
    start_field = "processing_start_time"
    end_field = "processing_end_time"
    make_job = staticmethod(make_processing_job)
    job_dir = staticmethod(job_dir)
    form_data = staticmethod(form_data)
    bad_inputs = [
        ({"environment": "MODE=strict\njust words"}, "environment", "Line 2: expected KEY=value"),
        ({"environment": "A=1\nA=2"}, "environment", "given twice"),
        ({"script": ""}, "script", "This field is required"),
        (
            {"script": SimpleUploadedFile("notes.txt", b"hi")},
            "script",
            "Upload a Python script (a .py file), such as preprocess.py",
        ),
        ({"name": "bad_name"}, "name", "Use only letters, digits and hyphens, and begin"),
        ({"name": "../escape"}, "name", "Use only letters, digits and hyphens, and begin"),
        ({"dataset": "s3://research-data/nothing-here/"}, "dataset", "No data at"),
        ({"dataset": ""}, "dataset", "This field is required"),
        ({"output_name": "a/b"}, "output_name", "Letters, digits and hyphens"),
        (
            {"image": "someone/unregistered:1"},
            "image",
            "Image &#x27;someone/unregistered:1&#x27; is not a registered image",
        ),
        ({"instance_type": "ml.imaginary"}, "instance_type", "Select a valid choice"),
        ({"max_runtime": "0"}, "max_runtime", "greater than or equal to 1"),
        ({"environment": "1BAD=x"}, "environment", "1BAD: Use letters, digits and underscores"),
    ]


# --- Errors in words, at their fields -----------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "shown_at", "words"),
    [
        ({"name": "bad_name"}, "field-name", "Use only letters, digits and hyphens, and begin"),
        ({"name": "x" * 64}, "field-name", "at most 63 characters (it has 64)"),
        ({"environment": "1BAD=x"}, "field-environment", "1BAD: Use letters, digits and"),
        ({"dataset": "http://example.com/x.csv"}, "field-dataset", "Give an s3:// URI"),
        ({"script": ""}, "field-script", "This field is required."),
        ({"output_name": "a/b"}, "field-output_name", "Letters, digits and hyphens"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("field-") else None,
)
def test_a_bad_value_is_refused_at_its_field_in_words_keeping_the_rest(
    client, alice, alice_profile, data, overrides, shown_at, words
):
    client.force_login(alice)
    response = client.post(NEW, form_data(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert any(words in error for error in errors_in(html, shown_at)), errors_in(html, shown_at)
    assert "regular expression" not in html and "Value at" not in html
    assert 'aria-invalid="true"' in inside(html, shown_at)
    assert 'value="studio/sklearn:latest"' in html and 'value="600"' in html  # kept
    assert not ProcessingJob.objects.exists()


def test_a_dataset_or_a_uri_is_a_pair_marked_one_of(client, alice, alice_profile, data):
    dataset(alice_profile, "iris", DATA)
    client.force_login(alice)
    html = html_of(client, NEW)
    assert "Input data" in inside(html, "pair-dataset")
    for field in ("dataset_name", "dataset"):
        label = inside(html, f"field-{field}")
        assert "one of" in label and "optional" not in label
    neither = client.post(NEW, form_data(dataset="")).content.decode()
    assert errors_in(neither, "pair-dataset") == [
        "Choose a dataset or give an s3:// URI (one of the two)."
    ]
    assert not ProcessingJob.objects.exists()


# --- Start similar ------------------------------------------------------------------------


def test_start_similar_prefills_the_form_and_reuses_the_script(client, alice, alice_profile, data):
    client.force_login(alice)
    assert client.post(NEW, form_data("prep", output_name="clean")).status_code == 302
    assert re.search(
        rf'id="start-similar" href="{re.escape(NEW)}\?from=prep"', html_of(client, job_url("prep"))
    )

    html = html_of(client, f"{NEW}?from=prep")
    assert 'name="name" value="prep-2"' in html
    assert f'name="dataset" value="{DATA}"' in html
    assert 'name="output_name" value="clean"' in html
    assert 'name="image" value="studio/sklearn:latest"' in html
    assert 'name="max_runtime" value="600"' in html
    environment = re.search(r'<textarea name="environment"[^>]*>(.*?)</textarea>', html, re.S)
    assert sorted(environment[1].split()) == ["MIN_VALUE=0.5", "MODE=strict"]
    assert "preprocess.py from prep runs again unless you upload another" in html
    assert "optional" in inside(html, "field-script")

    # Submitted without a script, the copy runs the same one, stored under its own name.
    response = client.post(f"{NEW}?from=prep", form_data("prep-2", script="", output_name="clean"))
    assert response.status_code == 302, response.content.decode()
    job = ProcessingJob.objects.get(name="prep-2")
    uri = processing_code_uri(alice_profile.domain.domain_id, "prep-2", "preprocess.py")
    assert job.request["ProcessingInputs"][0]["S3Input"]["S3Uri"] == uri
    assert storage.artifact_store().path(uri).read_bytes() == PREPROCESS


def test_start_similar_of_a_job_whose_script_is_not_stored_says_to_upload_it(
    client, alice, alice_profile
):
    make_processing_job(alice_profile, "sdk-prep", "Completed")  # its code is the SDK's
    client.force_login(alice)
    html = html_of(client, f"{NEW}?from=sdk-prep")
    assert "The script sdk-prep ran is not stored with it: upload it again." in html
    assert 'name="output_name" value="clean"' in html
    response = client.post(f"{NEW}?from=sdk-prep", form_data("sdk-prep-2", script=""))
    assert "This field is required." in errors_in(response.content.decode(), "field-script")
    assert not ProcessingJob.objects.filter(name="sdk-prep-2").exists()


def test_start_similar_is_for_processing_jobs_the_user_may_describe(
    client, root, alice_profile, bob, bob_profile, carol, carol_elsewhere
):
    from domains.services import update_policy

    make_processing_job(carol_elsewhere, "theirs", "Completed")
    make_processing_job(alice_profile, "ours", "Completed")
    client.force_login(carol)
    assert client.get(f"{NEW}?from=ours").status_code == 404  # another domain's
    client.force_login(bob)
    assert client.get(f"{NEW}?from=theirs").status_code == 404
    assert 'value="ours-2"' in html_of(client, f"{NEW}?from=ours")
    update_policy(
        root,
        alice_profile.domain.domain_id,
        "DataScientist",
        deny=["sagemaker:DescribeProcessingJob"],
    )
    response = client.get(f"{NEW}?from=ours")
    assert response.status_code == 403
    assert "explicitly denies sagemaker:DescribeProcessingJob" in response.content.decode()
