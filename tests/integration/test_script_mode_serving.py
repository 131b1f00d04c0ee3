"""Script-mode inference from the store, on both runtimes, as the SageMaker SDK's SKLearnModel
and `estimator.deploy()` set it up: the model's Environment names SAGEMAKER_PROGRAM and
SAGEMAKER_SUBMIT_DIRECTORY=s3://.../sourcedir.tar.gz and its Image is SageMaker's scikit-learn
URI. The worker stages the code (the container has no network); the serving container imports
model_fn/input_fn/predict_fn/output_fn from it, and a `train.py` entry point is imported, not
run. Invoked through the live router with boto3's sagemaker-runtime, and by batch transform."""

import json

import pytest

from jobs.hosting import instances
from jobs.services.hosted_models import create_model
from jobs.services.transform import create_transform_job
from tests.integration.api import sagemaker_runtime
from tests.integration.conftest import put, put_sourcedir
from tests.integration.hosting import iris_model, make_endpoint, settled, store_model, variant
from tests.integration.test_transform_jobs import ended, output_lines, put_lines
from tests.integration.test_transform_jobs import request as transform_request

pytestmark = pytest.mark.usefixtures("live")

SKLEARN_URI = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
MODEL_URI = "s3://research-models/scriptmode/model.tar.gz"
CODE_URI = "s3://research-models/scriptmode/code/sourcedir.tar.gz"
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]

# The SDK's typical entry point: training under the __main__ guard, serving handlers beside it,
# and a module of its own imported from the same directory.
TRAIN_PY = """
import json
import os

import joblib

from helpers import MARK


def model_fn(model_dir):
    return {"estimator": joblib.load(os.path.join(model_dir, "model.joblib")), "mark": MARK}


def input_fn(body, content_type):
    assert isinstance(body, str), type(body)
    return json.loads(body)["rows"]


def predict_fn(data, model):
    return {"labels": model["estimator"].predict(data).tolist(), "mark": model["mark"]}


def output_fn(prediction, accept):
    return json.dumps({**prediction, "by": "output_fn", "accept": accept}), "application/json"


if __name__ == "__main__":
    raise SystemExit("train.py ran its training on import")
"""
HELPERS_PY = 'MARK = "custom handlers"\n'


def script_model(alice, domain_id: str, name: str = "scripted", **environment: str):
    env = {
        "SAGEMAKER_PROGRAM": "train.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": CODE_URI,
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        "SAGEMAKER_REGION": "us-east-1",
        **environment,
    }
    container = {"Image": SKLEARN_URI, "ModelDataUrl": MODEL_URI, "Environment": env}
    return create_model(alice, domain_id, {"ModelName": name, "PrimaryContainer": container})


@pytest.fixture
def scripted(alice, alice_profile, tmp_path):
    estimator, _ = iris_model()
    store_model(MODEL_URI, estimator)
    put_sourcedir(CODE_URI, {"train.py": TRAIN_PY, "helpers.py": HELPERS_PY}, tmp_path)
    script_model(alice, alice_profile.domain.domain_id)
    return estimator


@pytest.fixture
def client(asgi_server, alice, alice_profile):
    from domains.services import create_access_key

    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker_runtime(asgi_server, key.access_key_id, secret)


def test_an_endpoint_serves_the_handlers_of_its_sourcedir_from_the_store(
    runtime, client, alice, alice_profile, scripted
):
    domain_id = alice_profile.domain.domain_id
    endpoint = settled(make_endpoint(alice, domain_id, "scripted", [variant("scripted")]))
    assert endpoint.status == "InService", endpoint.failure_reason
    answer = client.invoke_endpoint(
        EndpointName="scripted",
        Body=json.dumps({"rows": ROWS}),
        ContentType="application/json",
        Accept="application/json",
    )
    body = json.loads(answer["Body"].read())
    assert body == {
        "labels": scripted.predict(ROWS).tolist(),
        "mark": "custom handlers",
        "by": "output_fn",
        "accept": "application/json",
    }
    assert answer["ContentType"] == "application/json"


def test_a_prefix_of_plain_files_is_staged_too(runtime, client, alice, alice_profile, scripted):
    """SAGEMAKER_SUBMIT_DIRECTORY may name a prefix holding the scripts themselves."""
    prefix = "s3://research-models/scriptmode/loose/"
    put(prefix + "train.py", TRAIN_PY)
    put(prefix + "helpers.py", HELPERS_PY.replace("custom", "loose"))
    domain_id = alice_profile.domain.domain_id
    script_model(alice, domain_id, "loose", SAGEMAKER_SUBMIT_DIRECTORY=prefix)
    endpoint = settled(make_endpoint(alice, domain_id, "loose", [variant("loose")]))
    assert endpoint.status == "InService", endpoint.failure_reason
    answer = client.invoke_endpoint(
        EndpointName="loose", Body=json.dumps({"rows": ROWS[:1]}), ContentType="application/json"
    )
    assert json.loads(answer["Body"].read())["mark"] == "loose handlers"


def test_batch_transform_runs_the_same_handlers(runtime, alice, alice_profile, scripted):
    domain_id = alice_profile.domain.domain_id
    put_lines("s3://research-data/transform/rows.json", [json.dumps({"rows": [r]}) for r in ROWS])
    spec = transform_request(
        "scripted-xform",
        ModelName="scripted",
        TransformInput={
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://research-data/transform/",
                }
            },
            "ContentType": "application/json",
            "SplitType": "Line",
        },
        BatchStrategy="SingleRecord",
        TransformOutput={
            "S3OutputPath": "s3://research-output/transform",
            "AssembleWith": "Line",
            "Accept": "application/json",
        },
    )
    job = ended(create_transform_job(alice, domain_id, spec))
    assert job.status == "Completed", job.failure_reason
    lines = [json.loads(line) for line in output_lines("rows.json")]
    assert [line["labels"][0] for line in lines] == scripted.predict(ROWS).tolist()
    assert {line["mark"] for line in lines} == {"custom handlers"}


def test_the_staged_code_is_the_members_and_mounted_read_only(
    instance_types, alice, alice_profile, scripted, tmp_path
):
    """The code is unpacked as the endpoint owner's uid beside the model, and the container
    sees it read-only at /opt/ml/code, told so instead of the S3 URI it cannot reach."""
    model = script_model(alice, alice_profile.domain.domain_id, "inspected")
    uid = alice_profile.home_uid
    model_dir = instances.unpack_model(tmp_path / "tree", uid, model)
    code = instances.code_dir(model_dir)
    assert sorted(p.name for p in code.iterdir()) == ["helpers.py", "train.py"]
    assert {p.stat().st_uid for p in [code, *code.iterdir()]} == {uid}
    spec = instances.serving_spec(
        name="inspected",
        model=model,
        model_dir=model_dir,
        rundir=tmp_path / "run",
        uid=uid,
        limits=(1.0, 2**30),
        env={},
        labels={},
    )
    assert spec.env["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/code"
    assert spec.env["SAGEMAKER_PROGRAM"] == "train.py"
    assert spec.image == "studio/sklearn:latest"
    mounted = {m.target: m for m in spec.mounts}
    assert mounted["/opt/ml/code"].source == code and mounted["/opt/ml/code"].read_only
