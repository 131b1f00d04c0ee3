"""Attacks through names that become paths on the worker's host (issue 8, class 2): processing
input and output names, channel names, dataset names, and the container paths inputs, outputs
and checkpoints are mounted at. Each is refused at the API (or the dashboard) with the field and
the rule named, before anything is created: no job or dataset, no directory outside the data
directory, no canary in the answer."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.models import Dataset
from tests.attacks.refusals import CODE, processing, refused, training
from tests.integration.conftest import put
from tests.integration.job_pages import field_error
from tests.integration.processing import PREPARE

INVALID = "ValidationException"
ESCAPE = "../" * 12  # more than enough to climb from the data directory to /


@pytest.fixture
def stored(instance_types, data):
    """The processing request's instance type, input and code exist, so a refusal is about
    the names."""
    put(CODE, PREPARE)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(lambda outside: str(outside), id="absolute"),
        pytest.param(lambda outside: ESCAPE + str(outside).lstrip("/"), id="dot-dot"),
        pytest.param(lambda outside: "a/b", id="nested"),
        pytest.param(lambda outside: "..", id="parent"),
    ],
)
def test_a_processing_input_name_does_not_make_directories_on_the_host(
    member, canaries, stored, name
):
    spec = processing("input-name")
    spec["ProcessingInputs"][0]["InputName"] = name(canaries.outside)
    refused(
        member, canaries, "create_processing_job", spec, INVALID, "ProcessingInputs[0].InputName"
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(lambda outside: str(outside), id="absolute"),
        pytest.param(lambda outside: ESCAPE + str(outside).lstrip("/"), id="dot-dot"),
        pytest.param(lambda outside: "clean/..", id="trailing-dot-dot"),
    ],
)
def test_a_processing_output_name_does_not_make_directories_on_the_host(
    member, canaries, stored, name
):
    spec = processing("output-name")
    spec["ProcessingOutputConfig"]["Outputs"][0]["OutputName"] = name(canaries.outside)
    field = "ProcessingOutputConfig.Outputs[0].OutputName"
    refused(member, canaries, "create_processing_job", spec, INVALID, field)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(lambda outside: "/etc/raw", id="outside"),
        pytest.param(lambda outside: f"/opt/ml/processing/{ESCAPE}{outside}", id="dot-dot"),
        pytest.param(lambda outside: "/opt/ml/processing", id="the-root-itself"),
        pytest.param(lambda outside: "/opt/ml/processing/./input", id="dot"),
    ],
)
def test_a_processing_local_path_outside_opt_ml_processing_is_refused(
    member, canaries, stored, path
):
    spec = processing("local-path")
    spec["ProcessingInputs"][0]["S3Input"]["LocalPath"] = path(canaries.outside)
    field = "ProcessingInputs[0].S3Input.LocalPath"
    refused(member, canaries, "create_processing_job", spec, INVALID, field)


def test_a_processing_output_mounted_inside_an_input_is_refused(member, canaries, stored):
    spec = processing("nested-mounts")
    output = spec["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
    output["LocalPath"] = "/opt/ml/processing/input/raw/out"
    field = "ProcessingOutputConfig.Outputs[0].S3Output.LocalPath"
    refused(member, canaries, "create_processing_job", spec, INVALID, field)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(lambda outside: "/opt/ml/../../etc", id="dot-dot-to-etc"),
        pytest.param(lambda outside: "/etc", id="etc"),
        pytest.param(lambda outside: f"/opt/ml/{ESCAPE}{outside}", id="dot-dot-outside"),
        pytest.param(lambda outside: "/opt/ml", id="opt-ml-itself"),
        pytest.param(lambda outside: "/opt/ml/input/config", id="over-the-config"),
        pytest.param(lambda outside: "/opt/ml/code", id="over-the-code"),
    ],
)
def test_a_checkpoint_local_path_cannot_point_the_copy_elsewhere(member, canaries, path):
    spec = training(
        "checkpoint-path",
        CheckpointConfig={
            "S3Uri": "s3://research-output/ckpt/",
            "LocalPath": path(canaries.outside),
        },
    )
    refused(member, canaries, "create_training_job", spec, INVALID, "CheckpointConfig.LocalPath")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(lambda outside: "..", id="parent"),
        pytest.param(lambda outside: ".", id="self"),
        pytest.param(lambda outside: ESCAPE + str(outside).lstrip("/"), id="dot-dot"),
        pytest.param(lambda outside: "train/../../../config", id="into-the-config"),
    ],
)
def test_a_channel_name_does_not_make_directories_on_the_host(member, canaries, data, name):
    spec = training("channel-name")
    spec["InputDataConfig"][0]["ChannelName"] = name(canaries.outside)
    field = "InputDataConfig[0].ChannelName"
    refused(member, canaries, "create_training_job", spec, INVALID, field)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(lambda outside: ESCAPE + str(outside).lstrip("/"), id="dot-dot"),
        pytest.param(lambda outside: str(outside), id="absolute"),
        pytest.param(lambda outside: "..", id="parent"),
    ],
)
def test_a_dataset_name_uploaded_from_the_dashboard_does_not_become_a_host_path(
    client, alice, alice_profile, canaries, name
):
    client.force_login(alice)
    upload = SimpleUploadedFile("evil.csv", b"a,b\n1,2\n", "text/csv")
    response = client.post(
        reverse("dashboard:datasets"), {"name": name(canaries.outside), "file": upload}
    )
    page = response.content.decode()
    assert response.status_code == 400
    # Refused by the name's rules (its length or its characters), said at the field in words.
    assert field_error(page, "name").startswith("Use ")
    assert not Dataset.objects.exists()
    canaries.assert_absent(page)
    canaries.assert_nothing_outside()
