"""Batch transform on the real runtimes, driven by the real worker: every input line answered
by one output line, in order, with the model's own predictions; records joined with their
predictions; a record too large, a corrupt model and a stop each end the job clearly with no
container left; bad requests and other domains' URIs refused; the API as boto3 calls it."""

import json
import re
import time

import pytest

from jobs.models import TransformJob
from jobs.services.transform import (
    create_transform_job,
    describe_transform_job,
    stop_transform_job,
)
from jobs.tasks import reconcile_jobs
from jobs.training.logs import log_path
from jobs.transform.workspace import job_dir
from metering.meters import Meter
from studio.core import storage
from studio.core.errors import AccessDenied, ValidationException
from studio.core.runtime import get_runtime
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME
from tests.conftest import wait_for
from tests.integration.api import sagemaker
from tests.integration.conftest import put
from tests.integration.hosting import archive, iris_model, make_model, store_model
from tests.integration.training import ENDED

pytestmark = pytest.mark.usefixtures("live")

MODEL_URI = "s3://research-models/iris/model.tar.gz"
INPUT = "s3://research-data/transform/"
OUTPUT = "s3://research-output/transform"
SOURCE = "TransformInput.DataSource.S3DataSource"


def csv_lines(x) -> list[str]:
    return [",".join(repr(float(v)) for v in row) for row in x]


def put_lines(uri: str, lines: list[str]) -> str:
    return put(uri, "\n".join(lines) + "\n")


def output_lines(name: str) -> list[str]:
    with storage.artifact_store().open(f"{OUTPUT}/{name}.out") as f:
        return f.read().decode().splitlines()


def request(name: str = "xform", **overrides) -> dict:
    spec = {
        "TransformJobName": name,
        "ModelName": "iris",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": INPUT}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": OUTPUT, "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    spec.update(overrides)
    return spec


def ended(job: TransformJob, timeout: float = 120) -> TransformJob:
    def done():
        job.refresh_from_db()
        return job.status in ENDED

    wait_for(done, timeout, f"transform job {job.name} to end")
    return job


def containers_of(runtime: str, job: TransformJob) -> list:
    return [
        c
        for c in get_runtime(runtime).list_managed()
        if c.labels.get(LABEL_KIND) == "TransformJob" and c.labels.get(LABEL_NAME) == job.name
    ]


@pytest.fixture
def iris(alice, alice_profile):
    estimator, x = iris_model()
    store_model(MODEL_URI, estimator)
    make_model(alice, alice_profile.domain.domain_id, "iris", MODEL_URI)
    return estimator, x


@pytest.mark.parametrize("accept", ["text/csv", None])
def test_multi_record_output_lines_match_input_lines_one_to_one(
    runtime, alice, alice_profile, iris, accept
):
    estimator, x = iris
    big = [line for _ in range(300) for line in csv_lines(x)]  # ~1.6 MB: payloads of 1 MB
    put_lines(f"{INPUT}a-big.csv", big)
    put_lines(f"{INPUT}b-small.csv", csv_lines(x[:7]))
    output = {"S3OutputPath": OUTPUT, "AssembleWith": "Line"}
    if accept:
        output["Accept"] = accept
    spec = request(
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=1,
        MaxConcurrentTransforms=2,
        TransformOutput=output,
    )
    job = ended(create_transform_job(alice, alice_profile.domain.domain_id, spec))
    assert job.status == "Completed", job.failure_reason
    expected = estimator.predict(x).tolist()
    assert [int(v) for v in output_lines("a-big.csv")] == expected * 300
    assert [int(v) for v in output_lines("b-small.csv")] == expected[:7]
    assert not containers_of(runtime, job)


def test_two_instances_share_the_records_and_the_output_keeps_their_order(
    runtime, alice, alice_profile, iris
):
    estimator, x = iris
    put_lines(f"{INPUT}rows.csv", csv_lines(x))
    resources = {"InstanceType": "ml.m5.large", "InstanceCount": 2}
    spec = request(
        BatchStrategy="SingleRecord", MaxConcurrentTransforms=3, TransformResources=resources
    )
    job = create_transform_job(alice, alice_profile.domain.domain_id, spec)
    wait_for(lambda: len(containers_of(runtime, job)) == 2, 60, "a container per instance")
    job = ended(job)
    assert job.status == "Completed", job.failure_reason
    assert [int(v) for v in output_lines("rows.csv")] == estimator.predict(x).tolist()
    assert not containers_of(runtime, job)
    (meter,) = Meter.objects.filter(resource_type="TransformJob", resource_id=job.resource_id)
    assert (meter.kind, meter.instance_type, meter.instance_count) == (
        Meter.JOB,
        "ml.m5.large",
        2,
    )
    assert meter.ended_at is not None


def test_single_record_joined_with_its_input_line(runtime, alice, alice_profile, iris):
    estimator, x = iris
    lines = csv_lines(x[::10])
    put_lines(f"{INPUT}rows.csv", ["", *lines[:5], "", *lines[5:]])  # blank lines: no record
    spec = request(
        BatchStrategy="SingleRecord",
        DataProcessing={"InputFilter": "$", "JoinSource": "Input", "OutputFilter": "$"},
        TransformOutput={"S3OutputPath": OUTPUT, "AssembleWith": "Line", "Accept": "text/csv"},
    )
    job = ended(create_transform_job(alice, alice_profile.domain.domain_id, spec))
    assert job.status == "Completed", job.failure_reason
    predicted = estimator.predict(x[::10]).tolist()
    assert output_lines("rows.csv") == [f"{a},{p}" for a, p in zip(lines, predicted, strict=True)]
    # The output is kept as a dataset: its table, one row per record, five columns.
    from jobs.models import Dataset

    dataset = Dataset.objects.get(name=job.runtime_state["output_dataset"])
    assert (dataset.name, dataset.format, dataset.row_count) == (f"{job.name}-output", "csv", 15)
    assert len(dataset.columns) == 5


def test_csv_ids_kept_out_of_the_model_and_joined_back_with_filters(
    runtime, alice, alice_profile, iris
):
    estimator, x = iris
    lines = csv_lines(x[:6])
    put_lines(f"{INPUT}rows.csv", [f"id-{i},{line}" for i, line in enumerate(lines)])
    spec = request(
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
        TransformOutput={"S3OutputPath": OUTPUT, "AssembleWith": "Line", "Accept": "text/csv"},
    )
    job = ended(create_transform_job(alice, alice_profile.domain.domain_id, spec))
    assert job.status == "Completed", job.failure_reason
    predicted = estimator.predict(x[:6]).tolist()
    assert output_lines("rows.csv") == [f"id-{i},{p}" for i, p in enumerate(predicted)]


def test_json_lines_records_filtered_and_joined_with_their_prediction(
    runtime, alice, alice_profile, iris
):
    estimator, x = iris
    rows = [{"id": i, "features": row} for i, row in enumerate(x[:4].tolist())]
    put_lines(f"{INPUT}rows.jsonl", [json.dumps(row) for row in rows])
    spec = request(
        DataProcessing={
            "InputFilter": "$.features",
            "JoinSource": "Input",
            "OutputFilter": "$['id','SageMakerOutput']",
        },
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": INPUT}},
            "ContentType": "application/jsonlines",
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": OUTPUT,
            "AssembleWith": "Line",
            "Accept": "application/jsonlines",
        },
    )
    job = ended(create_transform_job(alice, alice_profile.domain.domain_id, spec))
    assert job.status == "Completed", job.failure_reason
    joined = [json.loads(line) for line in output_lines("rows.jsonl")]
    predicted = estimator.predict(x[:4]).tolist()
    assert joined == [{"id": i, "SageMakerOutput": p} for i, p in enumerate(predicted)]


def test_a_record_larger_than_max_payload_fails_the_job_clearly(
    runtime, alice, alice_profile, iris
):
    _, x = iris
    lines = csv_lines(x[:3])
    huge = ",".join(["1.0"] * 400_000)  # 1.6 MB on one line
    put_lines(f"{INPUT}big-record.csv", [*lines[:2], huge, lines[2]])
    job = ended(
        create_transform_job(alice, alice_profile.domain.domain_id, request(MaxPayloadInMB=1))
    )
    assert job.status == "Failed"
    assert "record 3 of big-record.csv is larger than MaxPayloadInMB (1 MB)" in job.failure_reason
    assert not storage.artifact_store().exists(f"{OUTPUT}/big-record.csv.out")
    assert not containers_of(runtime, job)


def test_the_containers_error_fails_the_job_with_its_words(runtime, alice, alice_profile, iris):
    put_lines(f"{INPUT}text.csv", ["5.1,3.5,1.4,0.2", "5.1,three,1.4,0.2"])
    job = ended(create_transform_job(alice, alice_profile.domain.domain_id, request()))
    assert job.status == "Failed"
    assert "ModelError" in job.failure_reason and "400" in job.failure_reason
    assert "'three' is not a number" in job.failure_reason
    assert not containers_of(runtime, job)


WRONG_COUNT = """
def transform_fn(model, body, content_type, accept):
    return "0\\n0\\n", "text/csv"
"""
TOO_LONG = """
def transform_fn(model, body, content_type, accept):
    return b"0" * (65 * 2**20), "text/csv"
"""


@pytest.mark.parametrize(
    ("handler", "why"),
    [
        (WRONG_COUNT, "not one prediction a record"),
        (TOO_LONG, "answer is larger than 64 MiB"),
    ],
)
def test_an_answer_that_does_not_fit_the_records_fails_the_job(
    runtime, alice, alice_profile, handler, why
):
    import io

    import joblib

    estimator, x = iris_model()
    dumped = io.BytesIO()
    joblib.dump(estimator, dumped)
    put(MODEL_URI, archive({"model.joblib": dumped.getvalue(), "code/run.py": handler.encode()}))
    make_model(alice, alice_profile.domain.domain_id, "iris", MODEL_URI, SAGEMAKER_PROGRAM="run.py")
    put_lines(f"{INPUT}rows.csv", csv_lines(x[:5]))
    job = ended(create_transform_job(alice, alice_profile.domain.domain_id, request()))
    assert job.status == "Failed"
    assert why in job.failure_reason and "rows.csv" in job.failure_reason
    assert not containers_of(runtime, job)
    assert not storage.artifact_store().exists(f"{OUTPUT}/rows.csv.out")


def test_a_corrupt_model_fails_clearly_and_leaves_no_container(runtime, alice, alice_profile):
    put(MODEL_URI, archive({"model.joblib": b"this is not a pickle"}))
    make_model(alice, alice_profile.domain.domain_id, "iris", MODEL_URI)
    put_lines(f"{INPUT}rows.csv", ["5.1,3.5,1.4,0.2"])
    job = ended(create_transform_job(alice, alice_profile.domain.domain_id, request()))
    assert job.status == "Failed"
    assert "exited with code" in job.failure_reason
    assert "model" in job.failure_reason.split("last log lines", 1)[1].lower()
    assert not containers_of(runtime, job)
    kept = log_path(job_dir(job.domain.domain_id, job.name), "algo-1").read_text()
    assert "model" in kept.lower()


def test_stop_a_transform_job(runtime, alice, alice_profile, iris):
    _, x = iris
    put_lines(f"{INPUT}many.csv", [line for _ in range(400) for line in csv_lines(x)])
    domain_id = alice_profile.domain.domain_id
    job = create_transform_job(alice, domain_id, request(BatchStrategy="SingleRecord"))

    def transforming():
        job.refresh_from_db()
        return job.runtime_state.get("cursor", {}).get("record", 1) > 1

    wait_for(transforming, 60, "the transform to begin")
    stop_transform_job(alice, domain_id, job.name)
    assert ended(job, 60).status == "Stopped"
    assert not containers_of(runtime, job)
    assert not storage.artifact_store().exists(f"{OUTPUT}/many.csv.out")
    with pytest.raises(ValidationException, match="only InProgress jobs can be stopped"):
        stop_transform_job(alice, domain_id, job.name)


def test_a_transform_goes_on_where_it_stood_after_its_worker_is_killed(
    runtime, alice, alice_profile, iris, celery_worker
):
    estimator, x = iris
    put_lines(f"{INPUT}many.csv", [line for _ in range(60) for line in csv_lines(x)])
    domain_id = alice_profile.domain.domain_id
    job = create_transform_job(alice, domain_id, request(BatchStrategy="SingleRecord"))

    def transforming():
        job.refresh_from_db()
        return job.runtime_state.get("cursor", {}).get("record", 1) > 1

    wait_for(transforming, 60, "the transform to begin")
    celery_worker.kill()
    celery_worker.start()
    deadline = time.monotonic() + 180
    while job.status not in ENDED and time.monotonic() < deadline:
        reconcile_jobs.delay()  # as beat does, every 10 s
        time.sleep(2)
        job.refresh_from_db()
    assert job.status == "Completed", job.failure_reason
    assert [int(v) for v in output_lines("many.csv")] == estimator.predict(x).tolist() * 60
    assert not containers_of(runtime, job)


def _set(path: str, value):
    def change(spec: dict) -> None:
        *parents, last = path.split(".")
        target = spec
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_set(f"{SOURCE}.S3DataType", "ManifestFile"), f"{SOURCE}.S3DataType"),
        (_set(f"{SOURCE}.S3Uri", "s3://research-data/nothing/"), f"{SOURCE}.S3Uri"),
        (_set("TransformInput.CompressionType", "Gzip"), "TransformInput.CompressionType"),
        (_set("TransformInput.SplitType", "RecordIO"), "TransformInput.SplitType"),
        (_set("MaxPayloadInMB", 0), "MaxPayloadInMB"),
        (_set("MaxConcurrentTransforms", 20), "MaxPayloadInMB"),  # 20 x 6 MB > 100 MB
        (
            lambda r: r.update(MaxConcurrentTransforms=40, MaxPayloadInMB=1),
            "MaxConcurrentTransforms",
        ),
        (_set("DataProcessing.InputFilter", "$..x"), "DataProcessing.InputFilter"),
        (_set("DataProcessing.InputFilter", "$.x"), "DataProcessing.InputFilter"),  # CSV
        (_set("DataProcessing.OutputFilter", "$[*]"), "DataProcessing.OutputFilter"),
        (_set("TransformOutput.AssembleWith", "None"), "TransformOutput.AssembleWith"),
        (_set("TransformInput.ContentType", "application/x-npy"), "TransformInput.ContentType"),
        (_set("ModelName", "nobody"), "ModelName"),
        (_set("TransformResources.InstanceType", "ml.x.y"), "TransformResources.InstanceType"),
        (_set("TransformResources.InstanceCount", 99), "TransformResources.InstanceCount"),
        (_set("TransformJobName", "no_underscores"), "TransformJobName"),
        (_set("Environment", {"STUDIO_SERVE_SOCKET": "/x"}), "Environment"),
        (_set("TransformOutput.S3OutputPath", "file:///etc"), "TransformOutput.S3OutputPath"),
    ],
)
def test_bad_transform_requests_create_nothing(
    instance_types, alice, alice_profile, iris, change, field
):
    put_lines(f"{INPUT}rows.csv", ["5.1,3.5,1.4,0.2"])
    spec = request(DataProcessing={"JoinSource": "Input"})
    change(spec)
    with pytest.raises(ValidationException) as e:
        create_transform_job(alice, alice_profile.domain.domain_id, spec)
    assert e.value.field == field, e.value.message
    assert not TransformJob.objects.exists()


def test_describing_a_missing_job_says_so_as_sagemaker_does(instance_types, alice, alice_profile):
    with pytest.raises(ValidationException, match=r"^Requested resource not found\.$") as e:
        describe_transform_job(alice, alice_profile.domain.domain_id, "nobody")
    assert e.value.field == "TransformJobName"


def test_another_domains_uris_are_refused(instance_types, alice, alice_profile, iris, make_domain):
    other = storage.domain_bucket(make_domain("other").domain_id)
    put_lines(f"s3://{other}/rows.csv", ["5.1,3.5,1.4,0.2"])
    domain_id = alice_profile.domain.domain_id
    put_lines(f"{INPUT}rows.csv", ["5.1,3.5,1.4,0.2"])
    reading = request()
    reading["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{other}/"
    with pytest.raises(AccessDenied, match=re.escape(f"{SOURCE}.S3Uri")):
        create_transform_job(alice, domain_id, reading)
    writing = request(TransformOutput={"S3OutputPath": f"s3://{other}/out"})
    with pytest.raises(AccessDenied, match=r"TransformOutput\.S3OutputPath"):
        create_transform_job(alice, domain_id, writing)
    assert not TransformJob.objects.exists()


def test_boto3_creates_describes_lists_and_stops_transform_jobs(
    runtime, asgi_server, alice, alice_profile, iris
):
    from botocore.exceptions import ClientError

    from domains.services import create_access_key

    _, x = iris
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    client = sagemaker(asgi_server, key.access_key_id, secret)
    put_lines(f"{INPUT}rows.csv", csv_lines(x[:3]))
    arn = client.create_transform_job(**request("via-boto3"))["TransformJobArn"]
    assert arn.endswith(":transform-job/via-boto3")
    ended(TransformJob.objects.get(name="via-boto3"))
    described = client.describe_transform_job(TransformJobName="via-boto3")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert described["ModelName"] == "iris"
    assert described["TransformOutput"]["S3OutputPath"] == OUTPUT
    assert described["TransformEndTime"] >= described["TransformStartTime"]
    listed = client.list_transform_jobs(StatusEquals="Completed")["TransformJobSummaries"]
    assert [s["TransformJobName"] for s in listed] == ["via-boto3"]
    with pytest.raises(ClientError) as caught:
        client.describe_transform_job(TransformJobName="nobody")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == "Requested resource not found."
    with pytest.raises(ClientError) as caught:
        client.stop_transform_job(TransformJobName="via-boto3")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
