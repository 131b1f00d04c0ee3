"""A JupyterLab space is SDK-ready, on both runtimes: the SageMaker Python SDK in a cell finds its
execution role, default bucket and endpoints with no configuration, from files the host wrote
(read-only in the container) and the container's environment."""

import json
import os
import stat

import pytest

from domains.notebooks.access import boot_dir
from domains.notebooks.sdk_files import SDK_DIR
from domains.services import create_app, create_space
from tests.conftest import settled
from tests.integration.notebooks import Server, running

pytestmark = pytest.mark.usefixtures("live")

MARK = "STUDIO-RESULT "  # what the cells below print before their JSON

FILES_AND_ROLE = """
import json, os
os.environ["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
import sagemaker
from sagemaker.config import load_sagemaker_config

def writable(path):
    try:
        with open(path, "a"):
            return "WRITABLE"
    except OSError as e:
        return type(e).__name__

metadata_path = "/opt/ml/metadata/resource-metadata.json"
config_path = "/etc/xdg/sagemaker/config.yaml"
config = load_sagemaker_config()
print("STUDIO-RESULT " + json.dumps({
    "metadata": json.load(open(metadata_path)),
    "metadata_write": writable(metadata_path),
    "config_write": writable(config_path),
    "planted": writable("/opt/ml/metadata/planted"),
    "bucket": config["SageMaker"]["PythonSDK"]["Modules"]["Session"]["DefaultS3Bucket"],
    "training_role": config["SageMaker"]["TrainingJob"]["RoleArn"],
    "model_role": config["SageMaker"]["Model"]["ExecutionRoleArn"],
    "env": {k: v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")},
    "aws_config": open(os.environ["AWS_CONFIG_FILE"]).read(),
    "role": sagemaker.get_execution_role(),
}))
"""

DEFAULT_BUCKET = """
import json, os
os.environ["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
import boto3, sagemaker
session = sagemaker.Session()
bucket = session.default_bucket()
boto3.client("s3").head_bucket(Bucket=bucket)
print("STUDIO-RESULT " + json.dumps({
    "role": sagemaker.get_execution_role(),
    "bucket": bucket,
    "account": boto3.client("sts").get_caller_identity()["Account"],
}))
"""


def result(printed: str) -> dict:
    line = next((ln for ln in printed.splitlines() if ln.startswith(MARK)), None)
    assert line is not None, printed
    return json.loads(line.removeprefix(MARK))


def test_a_space_carries_the_sdks_metadata_config_and_endpoints(
    jupyter, asgi_server, alice, alice_profile
):
    domain = alice_profile.domain
    role = f"arn:aws:iam::{domain.account_id}:role/team-ds"
    # The profile's own ExecutionRole (UserSettings) wins over the domain's default role.
    alice_profile.user_settings = {**alice_profile.user_settings, "ExecutionRole": role}
    alice_profile.save(update_fields=["user_settings"])
    settled(create_space(alice, domain.domain_id, name="lab"))
    app = running(create_app(alice, domain.domain_id, space_name="lab"))

    found = result(Server(app).execute(FILES_AND_ROLE))

    assert found["role"] == role
    assert found["metadata"] == {
        "AppType": "JupyterLab",
        "DomainId": domain.domain_id,
        "SpaceName": "lab",
        "UserProfileName": alice_profile.name,
        "ExecutionRoleArn": role,
        "ResourceArn": app.arn,
        "ResourceName": "default",
    }
    bucket = f"sagemaker-us-east-1-{domain.account_id}"
    assert found["bucket"] == bucket
    assert found["training_role"] == found["model_role"] == role
    # Read-only mounts: the notebook reads the files and can change or add none.
    assert found["metadata_write"] != "WRITABLE" and found["config_write"] != "WRITABLE"
    assert found["planted"] != "WRITABLE"
    endpoint = "http://127.0.0.1:8989"
    for service in ("SAGEMAKER", "SAGEMAKER_RUNTIME", "S3", "STS", "CLOUDWATCH_LOGS"):
        assert found["env"][f"AWS_ENDPOINT_URL_{service}"] == endpoint
    assert "addressing_style = path" in found["aws_config"]

    # On the host, the files are root's, in root's directory: not the tenant's to swap.
    root = boot_dir(app.space) / SDK_DIR
    for path in [root, *root.rglob("*")]:
        info = os.lstat(path)
        assert info.st_uid == 0 and not stat.S_ISLNK(info.st_mode), path
        assert stat.S_IMODE(info.st_mode) in (0o755, 0o644), path


def test_the_sdk_in_a_cell_gets_its_role_and_default_bucket(
    jupyter, asgi_server, alice, alice_profile
):
    """Session().default_bucket() goes through Studio's STS and S3 endpoints."""
    domain = alice_profile.domain
    settled(create_space(alice, domain.domain_id, name="lab"))
    app = running(create_app(alice, domain.domain_id, space_name="lab"))

    found = result(Server(app).execute(DEFAULT_BUCKET))

    assert found == {
        "role": f"arn:aws:iam::{domain.account_id}:role/studio",
        "bucket": f"sagemaker-us-east-1-{domain.account_id}",
        "account": domain.account_id,
    }
