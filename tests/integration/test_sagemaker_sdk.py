"""The SageMaker Python SDK against a live Studio, run as its users run it: a script written
for AWS (tests/sdk/sklearn_workflow.py), in the SDK's own virtual environment (`make
sdk-venvs`), given Studio's endpoint URL and an access key and nothing else but the role and
bucket outside a notebook (the SDK asks AWS's own STS for them: docs/api.md, "SageMaker Python
SDK"). Real worker, real containers, real log streaming."""

import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import joblib
import pytest

from studio.core.storage import artifact_store
from tests.capabilities import need
from tests.integration.api import error_code, sagemaker

pytestmark = pytest.mark.usefixtures("live")

ROOT = Path(__file__).resolve().parents[2]
SDK_DIR = ROOT / "tests" / "sdk"
SDK_PYTHON = {2: ROOT / ".venv-sdk2" / "bin" / "python", 3: ROOT / ".venv-sdk3" / "bin" / "python"}
REGION = "us-east-1"
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]  # as the workflow's


def sdk_python(line: int) -> Path:
    python = SDK_PYTHON[line]
    need("sdk", python.exists(), f"{python} is missing: run `make sdk-venvs`")
    return python


@pytest.fixture
def workdir(tmp_path) -> Path:
    """train.csv (iris, the label first, no header) and the entry point's source directory."""
    from sklearn.datasets import load_iris

    features, labels = load_iris(return_X_y=True)
    lines = [
        ",".join([str(int(y)), *(str(v) for v in x)]) for x, y in zip(features, labels, strict=True)
    ]
    (tmp_path / "train.csv").write_text("\n".join(lines) + "\n")
    shutil.copytree(SDK_DIR / "source", tmp_path / "source")
    return tmp_path


@pytest.fixture
def keys(alice, alice_profile) -> tuple[str, str]:
    from domains.services import create_access_key

    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return key.access_key_id, secret


# The SDK reports usage to an AWS bucket unless told not to; here nothing leaves loopback.
NO_TELEMETRY = """SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def sdk_environment(url: str, keys: tuple[str, str], home: Path) -> dict[str, str]:
    """What a user sets: keys, region and Studio's URL for every AWS service (and telemetry
    off, in the SDK's user config file); nothing else from this machine's environment reaches
    the SDK."""
    config = home / ".config" / "sagemaker" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(NO_TELEMETRY)
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": keys[0],
        "AWS_SECRET_ACCESS_KEY": keys[1],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": url,
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }


def run_workflow(python: Path, script: str, workdir: Path, env: dict[str, str], *args: str) -> dict:
    run = subprocess.run(
        [str(python), str(SDK_DIR / script), str(workdir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = run.stdout + run.stderr
    (workdir / "sdk-output.log").write_text(output)
    assert run.returncode == 0, f"{workdir / 'sdk-output.log'}:\n{output[-3000:]}"
    result = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    return {"output": output, **json.loads(result.removeprefix("RESULT "))}


def role_and_bucket(api, profile) -> tuple[str, str]:
    """What a user outside a notebook passes the SDK: the profile's execution role (as
    DescribeUserProfile answers it) and the SDK's default bucket name for the domain."""
    role = api.describe_user_profile(
        DomainId=profile.domain.domain_id, UserProfileName=profile.name
    )["UserSettings"]["ExecutionRole"]
    return role, f"sagemaker-{REGION}-{profile.domain.account_id}"


def trained_model(model_data: str):
    """The estimator the job packed in model.tar.gz, read from the store."""
    with artifact_store().open(model_data) as stream:
        packed = io.BytesIO(stream.read())
    with tarfile.open(fileobj=packed, mode="r:gz") as archive:
        return joblib.load(archive.extractfile("model.joblib"))


def test_the_sdk_fits_deploys_predicts_and_runs_a_built_in_unchanged(
    asgi_server, alice_profile, keys, workdir, instance_types
):
    api = sagemaker(asgi_server, *keys)
    role, bucket = role_and_bucket(api, alice_profile)

    result = run_workflow(
        sdk_python(2),
        "sklearn_workflow.py",
        workdir,
        sdk_environment(asgi_server, keys, workdir),
        "--role",
        role,
        "--bucket",
        bucket,
    )

    assert result["train"] == f"s3://{bucket}/sdk/train/train.csv"
    # fit(logs=True) streamed the job's own log from CloudWatch Logs.
    assert "trained on 150 rows" in result["output"]
    model = trained_model(result["model_data"])
    assert result["predictions"] == model.predict(ROWS).tolist()
    assert error_code(lambda: api.describe_endpoint(EndpointName=result["endpoint"])) == (
        "ValidationException"
    )
    built_in = api.describe_training_job(TrainingJobName=result["builtin_job"])
    assert built_in["TrainingJobStatus"] == "Completed"
    assert built_in["ModelArtifacts"]["S3ModelArtifacts"] == result["builtin_model_data"]


def test_the_sdk_3_model_trainer_trains_script_mode_with_its_log_streamed(
    asgi_server, alice_profile, keys, workdir, instance_types
):
    api = sagemaker(asgi_server, *keys)
    role, bucket = role_and_bucket(api, alice_profile)

    result = run_workflow(
        sdk_python(3),
        "v3_workflow.py",
        workdir,
        sdk_environment(asgi_server, keys, workdir),
        "--role",
        role,
        "--bucket",
        bucket,
    )

    assert result["status"] == "Completed"
    assert "trained on 150 rows" in result["output"]
    # The same fit, here: the job trained what its script says on the data it was given.
    from sklearn.linear_model import LogisticRegression

    train = [[float(v) for v in line.split(",")] for line in (workdir / "train.csv").open()]
    local = LogisticRegression(max_iter=1000).fit([r[1:] for r in train], [r[0] for r in train])
    assert (
        trained_model(result["model_data"]).predict(ROWS).tolist() == local.predict(ROWS).tolist()
    )


# The workflow again, as a notebook cell: written into the space's home and run in the kernel,
# with no role, bucket, endpoint or key given: the space's files and environment say them all.
NOTEBOOK_CELL = """
import pathlib, sys
work = pathlib.Path.home() / "sdk-work"
(work / "source").mkdir(parents=True, exist_ok=True)
(work / "train.csv").write_text({train!r})
(work / "source" / "train.py").write_text({entry!r})
sys.argv = ["sklearn_workflow.py", str(work)]
exec(compile({workflow!r}, "sklearn_workflow.py", "exec"), {{"__name__": "__main__"}})
"""


@pytest.mark.parametrize("runtime", ["docker"], indirect=True)
def test_the_same_workflow_runs_unchanged_in_a_notebook_cell(
    jupyter, asgi_server, alice, alice_profile, workdir
):
    from domains.services import create_app, create_space
    from tests.conftest import settled
    from tests.integration.notebooks import Server, running

    domain_id = alice_profile.domain.domain_id
    settled(create_space(alice, domain_id, name="lab"))
    app = running(create_app(alice, domain_id, space_name="lab"))
    cell = NOTEBOOK_CELL.format(
        train=(workdir / "train.csv").read_text(),
        entry=(workdir / "source" / "train.py").read_text(),
        workflow=(SDK_DIR / "sklearn_workflow.py").read_text(),
    )

    printed = Server(app).execute(cell)

    lines = [line for line in printed.splitlines() if line.startswith("RESULT ")]
    assert lines, printed[-6000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert result["bucket"] == f"sagemaker-{REGION}-{alice_profile.domain.account_id}"
    assert result["role"].startswith(f"arn:aws:iam::{alice_profile.domain.account_id}:role/")
    assert "trained on 150 rows" in printed
    model = trained_model(result["model_data"])
    assert result["predictions"] == model.predict(ROWS).tolist()
