"""The one join for names that become host paths, the map from container paths to the host
tree, and the stricter rules Studio adds to SageMaker's shapes for such names."""

import re
from pathlib import Path

import pytest

from studio.core.errors import ValidationException
from studio.core.shapes import validate
from studio.core.storage.paths import below, relative_parts, safe_join

ROOT = Path("/data/jobs/j/algo-1/inputs")


@pytest.mark.parametrize(
    ("name", "joined"),
    [("raw", ROOT / "raw"), ("a/b.csv", ROOT / "a" / "b.csv"), ("./x", ROOT / "x")],
)
def test_safe_join_stays_below_its_root(name, joined):
    assert safe_join(ROOT, name, "InputName") == joined


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("/var/tmp/x", "relative"),
        ("../../x", "'..'"),
        ("a/../../x", "'..'"),
        ("", "non-empty"),
        (".", "below its root"),
        ("a\x00b", "NUL"),
    ],
)
def test_safe_join_refuses_what_would_leave_its_root(name, rule):
    with pytest.raises(ValidationException, match=re.escape(rule)) as refused:
        safe_join(ROOT, name, "ProcessingInputs[0].InputName")
    assert refused.value.field == "ProcessingInputs[0].InputName"
    assert "ProcessingInputs[0].InputName" in refused.value.message


def test_relative_parts_are_the_components():
    assert relative_parts("a/b/c", "f") == ("a", "b", "c")


@pytest.mark.parametrize(
    ("path", "rest"),
    [
        ("/opt/ml/checkpoints", "checkpoints"),
        ("/opt/ml/checkpoints/", "checkpoints"),
        ("/opt/ml/model/ckpt", "model/ckpt"),
    ],
)
def test_below_maps_a_container_path_to_the_host_tree(path, rest):
    assert below(path, "/opt/ml/", "CheckpointConfig.LocalPath") == rest


@pytest.mark.parametrize(
    "path",
    [
        "/opt/ml/../../etc",
        "/etc",
        "opt/ml/checkpoints",
        "/opt/ml",
        "/opt/ml/",
        "/opt/ml/./checkpoints",
        "/opt/ml//checkpoints",
        "/opt/mlx/checkpoints",
        "/opt/ml/check\x00points",
    ],
)
def test_below_refuses_paths_outside_or_not_in_plain_form(path):
    with pytest.raises(ValidationException) as refused:
        below(path, "/opt/ml/", "CheckpointConfig.LocalPath")
    assert "CheckpointConfig.LocalPath" in refused.value.message


def channel(name: str) -> dict:
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/x"}},
    }


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "-x", "a" * 65])
def test_a_channel_name_that_is_no_plain_file_name_is_refused(name):
    with pytest.raises(ValidationException) as refused:
        validate(channel(name), "Channel", "InputDataConfig[0]")
    assert refused.value.field == "InputDataConfig[0].ChannelName"


@pytest.mark.parametrize("name", ["train", "validation_1", "my.channel", "a-b"])
def test_sagemakers_usual_channel_names_pass(name):
    validate(channel(name), "Channel", "InputDataConfig[0]")


@pytest.mark.parametrize("name", ["/var/tmp/x", "../../x", "a/b", "..", "", " code"])
def test_processing_input_and_output_names_are_plain_file_names(name):
    with pytest.raises(ValidationException) as refused:
        validate({"InputName": name}, "ProcessingInput", "ProcessingInputs[0]")
    assert refused.value.field == "ProcessingInputs[0].InputName"
    with pytest.raises(ValidationException) as refused:
        validate({"OutputName": name}, "ProcessingOutput", "Outputs[0]")
    assert refused.value.field == "Outputs[0].OutputName"


@pytest.mark.parametrize(
    "path",
    [
        "/opt/ml/processing",
        "/opt/ml/processing/",
        "/opt/ml/processing/../../../etc",
        "/opt/ml/model",
        "/etc/raw",
        "relative/raw",
    ],
)
def test_a_processing_local_path_must_be_a_directory_below_opt_ml_processing(path):
    s3 = {"S3Uri": "s3://b/x", "S3DataType": "S3Prefix", "LocalPath": path}
    with pytest.raises(ValidationException) as refused:
        validate(s3, "ProcessingS3Input", "ProcessingInputs[0].S3Input")
    assert refused.value.field == "ProcessingInputs[0].S3Input.LocalPath"


@pytest.mark.parametrize(
    "path",
    [
        "/opt/ml/../../etc",
        "/etc",
        "/opt/ml",
        "/opt/ml/input",
        "/opt/ml/input/config",
        "/opt/ml/code",
        "/opt/ml/code/",
    ],
)
def test_a_checkpoint_local_path_may_not_replace_what_sagemaker_gives_the_container(path):
    with pytest.raises(ValidationException) as refused:
        validate({"S3Uri": "s3://b/c", "LocalPath": path}, "CheckpointConfig", "CheckpointConfig")
    assert refused.value.field == "CheckpointConfig.LocalPath"


@pytest.mark.parametrize("path", ["/opt/ml/checkpoints", "/opt/ml/checkpoints/", "/opt/ml/inputs"])
def test_usual_checkpoint_paths_pass(path):
    validate({"S3Uri": "s3://b/c", "LocalPath": path}, "CheckpointConfig", "CheckpointConfig")
