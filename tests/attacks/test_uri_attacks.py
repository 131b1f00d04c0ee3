"""Attacks through the URIs a job request names (issue 8, class 3): the access check and the
store read every URI with one parser, so no spelling of a scheme, a bucket or a key gets past
the check and is then read differently. Each attack is refused with the field named, creates
no job, shows no canary and writes nothing outside the data directory; one spelling that is
accepted runs, on both runtimes, on exactly the objects the check looked at."""

import json
import tarfile

import pytest

from studio.core import storage
from tests.attacks.refusals import processing, refused, script_training, training
from tests.integration.conftest import put, put_sourcedir

SUBMIT = "HyperParameters.sagemaker_submit_directory"
CHANNEL = "InputDataConfig[0].DataSource.S3DataSource.S3Uri"
DENIED, INVALID = "AccessDeniedException", "ValidationException"


def other_bucket(canaries) -> str:
    return storage.parse_uri(canaries.other_bucket_uri, "canary").bucket


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda path: json.dumps(f"FILE://{path}"), id="upper-case-scheme"),
        pytest.param(lambda path: json.dumps(f" file://{path}"), id="space-before"),
        pytest.param(lambda path: json.dumps(f"\tfile://{path}"), id="tab-before"),
        pytest.param(lambda path: f'" file://{path}"', id="space-inside-sdk-quotes"),
        pytest.param(lambda path: f'"" FiLe://{path} ""', id="quotes-twice"),
        pytest.param(lambda path: json.dumps(f"file://{path}\n"), id="newline-after"),
        pytest.param(lambda path: json.dumps("FILE:///etc"), id="etc"),
    ],
)
def test_the_hosts_files_in_any_spelling_are_not_copied_into_the_code_directory(
    member, canaries, spelling
):
    spec = script_training("host-code", spelling(canaries.host_file))
    refused(member, canaries, "create_training_job", spec, INVALID, SUBMIT)


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        pytest.param(lambda b, own: json.dumps(f"S3://{b}/private/"), DENIED, id="upper-scheme"),
        pytest.param(lambda b, own: f'" s3://{b}/private/ "', DENIED, id="spaces-in-quotes"),
        pytest.param(lambda b, own: f"s3://{b.upper()}/private/", INVALID, id="upper-bucket"),
        pytest.param(lambda b, own: f"s3://{b}./private/", INVALID, id="trailing-dot"),
        pytest.param(
            lambda b, own: f"s3://studio-%{ord(b[7]):02X}{b[8:]}/private/",
            INVALID,
            id="percent-encoded",
        ),
        pytest.param(lambda b, own: f"s3://alice@{b}:1/private/", INVALID, id="user-and-port"),
        pytest.param(lambda b, own: f"s3://{own}/../{b}/private/", INVALID, id="dot-dot-key"),
        pytest.param(lambda b, own: f"s3://{own}/..\\{b}\\private", INVALID, id="backslashes"),
        pytest.param(lambda b, own: f"s3://{b}/private/?x=1", INVALID, id="query"),
        pytest.param(lambda b, own: f"s3://{own}/x\x00/../../{b}/", INVALID, id="nul"),
        pytest.param(lambda b, own: f"s3://{own}/x\n/../../{b}/", INVALID, id="newline"),
    ],
)
def test_another_domains_bucket_in_any_spelling_is_not_copied_into_the_code_directory(
    member, canaries, spelling, code
):
    value = spelling(other_bucket(canaries), storage.domain_bucket(member.domain_id))
    spec = script_training("other-code", value)
    refused(member, canaries, "create_training_job", spec, code, SUBMIT)


def channel(uri: str) -> list[dict]:
    return [
        {
            "ChannelName": "train",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
        }
    ]


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        pytest.param("s3://{b}/private/", DENIED, id="as-is"),
        pytest.param("S3://{b}/private/", INVALID, id="upper-scheme"),
        pytest.param("s3://STUDIO-{rest}/private/", INVALID, id="upper-bucket"),
        pytest.param("s3://{own}/../{b}/private/", INVALID, id="dot-dot-key"),
    ],
)
def test_another_domains_bucket_is_not_a_training_channel(member, canaries, spelling, code):
    bucket = other_bucket(canaries)
    uri = spelling.format(
        b=bucket, rest=bucket.removeprefix("studio-"), own=storage.domain_bucket(member.domain_id)
    )
    spec = training("other-channel", InputDataConfig=channel(uri))
    refused(member, canaries, "create_training_job", spec, code, CHANNEL)


def test_another_domains_bucket_is_not_a_training_output_path(member, canaries):
    spec = training(
        "other-output", OutputDataConfig={"S3OutputPath": f"s3://{other_bucket(canaries)}/x"}
    )
    refused(member, canaries, "create_training_job", spec, DENIED, "OutputDataConfig.S3OutputPath")


def test_the_platforms_own_bucket_is_not_a_training_output_path(member, canaries):
    spec = training("platform-output", OutputDataConfig={"S3OutputPath": "s3://studio/x"})
    refused(member, canaries, "create_training_job", spec, DENIED, "OutputDataConfig.S3OutputPath")


def test_another_domains_bucket_is_not_where_checkpoints_come_from(member, canaries):
    spec = training(
        "other-checkpoints", CheckpointConfig={"S3Uri": f"s3://{other_bucket(canaries)}/private/"}
    )
    refused(member, canaries, "create_training_job", spec, DENIED, "CheckpointConfig.S3Uri")


def test_another_domains_bucket_is_not_a_processing_input(member, canaries):
    spec = processing("other-input")
    spec["ProcessingInputs"][0]["S3Input"]["S3Uri"] = f"s3://{other_bucket(canaries)}/private/"
    field = "ProcessingInputs[0].S3Input.S3Uri"
    refused(member, canaries, "create_processing_job", spec, DENIED, field)


def test_another_domains_bucket_is_not_a_processing_output(member, canaries):
    spec = processing("other-out")
    outputs = spec["ProcessingOutputConfig"]["Outputs"]
    outputs[0]["S3Output"]["S3Uri"] = f"s3://{other_bucket(canaries)}/private/"
    field = "ProcessingOutputConfig.Outputs[0].S3Output.S3Uri"
    refused(member, canaries, "create_processing_job", spec, DENIED, field)


TRAIN = """
import os, shutil
shutil.copy(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"),
            os.path.join(os.environ["SM_MODEL_DIR"], "seen.csv"))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "code.txt"), "w") as f:
    f.write("the code the check looked at")
"""


def test_a_scheme_in_capitals_with_spaces_is_read_as_the_check_read_it(
    runtime, member, canaries, tmp_path
):
    own = storage.domain_bucket(member.domain_id)
    put_sourcedir(f"s3://{own}/code/spelled/sourcedir.tar.gz", {"train.py": TRAIN}, tmp_path)
    put(f"s3://{own}/data/train.csv", "1,own-data\n")
    # As the SDK quotes it, with spaces and a scheme in capitals: accepted (it is this
    # domain's bucket), and the job runs on exactly that object.
    submit = f" {json.dumps(f'  S3://{own}/code/spelled/sourcedir.tar.gz ')} "
    spec = script_training("spelled", submit, InputDataConfig=channel(f"s3://{own}/data/"))
    member.api.create_training_job(**spec)
    member.api.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="spelled", WaiterConfig={"Delay": 1, "MaxAttempts": 180}
    )
    job = member.api.describe_training_job(TrainingJobName="spelled")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    artifact = storage.artifact_store().path(job["ModelArtifacts"]["S3ModelArtifacts"])
    with tarfile.open(artifact) as tar:
        model = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert model == {"seen.csv": b"1,own-data\n", "code.txt": b"the code the check looked at"}
    canaries.assert_absent(job, model)
    canaries.assert_nothing_outside()
