"""Training jobs on the real runtimes: SageMaker's container contract, statuses, limits."""

import io
import json

import pytest

from jobs.services import create_training_job, stop_training_job
from metering.catalog import InstanceType
from studio.core import storage
from tests.integration.conftest import put, put_sourcedir
from tests.integration.training import (
    OUTPUT,
    ended,
    model_files,
    request,
    script_request,
    training_started,
)

pytestmark = pytest.mark.usefixtures("live")


def test_builtin_algorithm_trains_a_model_that_loads_and_predicts(
    runtime, alice, alice_profile, data
):
    import joblib
    import numpy as np

    job = ended(create_training_job(alice, alice_profile.domain.domain_id, request("ll-1")))
    assert job.status == "Completed", job.failure_reason
    assert [t["Status"] for t in job.secondary_status_transitions] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert job.model_artifacts == f"{OUTPUT}/ll-1/output/model.tar.gz"
    model = joblib.load(io.BytesIO(model_files(job)["model.joblib"]))
    assert list(model.predict(np.array([[0.9, 0.8], [-0.9, -0.7]]))) == [1, 0]
    metrics = {m["MetricName"]: m["Value"] for m in job.final_metrics}
    assert metrics["train:binary_classification_accuracy"] > 0.9
    assert job.training_seconds is not None and job.billable_seconds == job.training_seconds


SCRIPT = """
import argparse, json, os
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
args, _ = parser.parse_known_args()
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv")).read().splitlines()
seen = {
    "epochs_arg": args.epochs,
    "epochs_env": os.environ["SM_HP_EPOCHS"],
    "rows": len(rows),
    "hosts": json.loads(os.environ["SM_HOSTS"]),
    "current_host": os.environ["SM_CURRENT_HOST"],
    "job": os.environ["TRAINING_JOB_NAME"],
    "uid": os.getuid(),
}
with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as f:
    json.dump(seen, f)
print("validation:loss=0.25")
"""


def test_script_mode_reads_hyperparameters_and_channels_from_sm_variables(
    runtime, alice, alice_profile, data, tmp_path
):
    source = put_sourcedir(
        "s3://research-code/job/sourcedir.tar.gz", {"train.py": SCRIPT}, tmp_path
    )
    spec = script_request(
        "script-1",
        source,
        HyperParameters={"epochs": "3"},
        AlgorithmSpecification={
            "TrainingImage": "studio/sklearn:latest",
            "MetricDefinitions": [
                {"Name": "validation:loss", "Regex": r"validation:loss=([0-9.]+)"}
            ],
        },
    )
    job = ended(create_training_job(alice, alice_profile.domain.domain_id, spec))
    assert job.status == "Completed", job.failure_reason
    seen = json.loads(model_files(job)["seen.json"])
    assert seen == {
        "epochs_arg": 3,
        "epochs_env": "3",
        "rows": 200,
        "hosts": ["algo-1"],
        "current_host": "algo-1",
        "job": "script-1",
        "uid": alice_profile.home_uid,
    }
    assert job.final_metrics[0]["MetricName"] == "validation:loss"
    assert job.final_metrics[0]["Value"] == 0.25


def test_a_failing_script_fails_the_job_with_its_own_message(
    runtime, alice, alice_profile, data, tmp_path
):
    source = put_sourcedir(
        "s3://research-code/bad/sourcedir.tar.gz",
        {"train.py": "raise ValueError('the learning rate must be positive')\n"},
        tmp_path,
    )
    job = ended(
        create_training_job(alice, alice_profile.domain.domain_id, script_request("bad-1", source))
    )
    assert job.status == "Failed"
    assert "the learning rate must be positive" in job.failure_reason
    assert job.secondary_status == "Failed"


def test_max_runtime_stops_a_sleeping_job(runtime, alice, alice_profile, data, tmp_path):
    source = put_sourcedir(
        "s3://research-code/sleep/sourcedir.tar.gz",
        {"train.py": "import time\ntime.sleep(120)\n"},
        tmp_path,
    )
    spec = script_request("sleepy-1", source, StoppingCondition={"MaxRuntimeInSeconds": 2})
    job = ended(create_training_job(alice, alice_profile.domain.domain_id, spec), timeout=60)
    assert job.status == "Stopped"
    assert job.secondary_status == "MaxRuntimeExceeded"
    assert "MaxRuntimeExceeded" in job.failure_reason
    assert job.training_seconds < 30


def test_stop_works_mid_run(runtime, alice, alice_profile, data, tmp_path):
    source = put_sourcedir(
        "s3://research-code/long/sourcedir.tar.gz",
        {"train.py": "import time\nprint('started', flush=True)\ntime.sleep(120)\n"},
        tmp_path,
    )
    job = create_training_job(
        alice, alice_profile.domain.domain_id, script_request("long-1", source)
    )

    training_started(job)
    stop_training_job(alice, alice_profile.domain.domain_id, "long-1")
    job = ended(job, timeout=60)
    assert job.status == "Stopped"
    statuses = [t["Status"] for t in job.secondary_status_transitions]
    assert statuses[-3:] == ["Stopping", "Uploading", "Stopped"]


HOG = """
blocks = []
while True:
    blocks.append(bytearray(16 * 1024 * 1024))
"""


def test_a_job_past_its_instance_memory_is_killed_and_says_so(
    runtime, alice, alice_profile, data, tmp_path
):
    # Admins edit the catalog; a small instance makes the limit quick to reach.
    InstanceType.objects.filter(name="ml.m5.large").update(memory_gib="0.25")
    source = put_sourcedir("s3://research-code/hog/sourcedir.tar.gz", {"train.py": HOG}, tmp_path)
    job = ended(
        create_training_job(alice, alice_profile.domain.domain_id, script_request("hog-1", source))
    )
    assert job.status == "Failed"
    assert "out of memory" in job.failure_reason.lower()


PROBE = """
import json, os, socket
found = {{}}
for path in {paths!r}:
    found[path] = os.path.exists(path)
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    found["network"] = True
except OSError:
    found["network"] = False
with open(os.path.join(os.environ["SM_MODEL_DIR"], "probe.json"), "w") as f:
    json.dump(found, f)
"""


def test_a_training_container_sees_no_other_data_and_no_network(
    runtime, alice, alice_profile, data, tmp_path, make_domain, make_profile, carol, settings
):
    other = make_profile(make_domain("other"), carol)
    secret = put("s3://other-data/secret.csv", "1,2,3\n")
    alice_profile.domain.app_network_access_type = "VpcOnly"
    alice_profile.domain.save()
    paths = [
        str(other.home_directory),
        str(storage.artifact_store().path(secret)),
        str(settings.DATA_DIR),
        "/var/run/docker.sock",
    ]
    source = put_sourcedir(
        "s3://research-code/probe/sourcedir.tar.gz",
        {"train.py": PROBE.format(paths=paths, port=5432)},
        tmp_path,
    )
    job = ended(
        create_training_job(
            alice, alice_profile.domain.domain_id, script_request("probe-1", source)
        )
    )
    assert job.status == "Completed", job.failure_reason
    found = json.loads(model_files(job)["probe.json"])
    assert found == {**dict.fromkeys(paths, False), "network": False}


CHECKPOINTING = """
import os
path = "/opt/ml/checkpoints/epoch.txt"
epoch = int(open(path).read()) if os.path.exists(path) else 0
open(path, "w").write(str(epoch + 1))
open(os.path.join(os.environ["SM_MODEL_DIR"], "resumed_from.txt"), "w").write(str(epoch))
"""


def test_checkpoints_are_saved_and_restored_for_the_next_run(
    runtime, alice, alice_profile, data, tmp_path
):
    source = put_sourcedir(
        "s3://research-code/ckpt/sourcedir.tar.gz", {"train.py": CHECKPOINTING}, tmp_path
    )
    checkpoints = {"S3Uri": "s3://research-output/checkpoints/run"}
    domain_id = alice_profile.domain.domain_id
    first = ended(
        create_training_job(
            alice, domain_id, script_request("ckpt-1", source, CheckpointConfig=checkpoints)
        )
    )
    second = ended(
        create_training_job(
            alice, domain_id, script_request("ckpt-2", source, CheckpointConfig=checkpoints)
        )
    )
    assert (first.status, second.status) == ("Completed", "Completed"), second.failure_reason
    assert model_files(first)["resumed_from.txt"] == b"0"
    assert model_files(second)["resumed_from.txt"] == b"1"
    saved = storage.artifact_store().path("s3://research-output/checkpoints/run/epoch.txt")
    assert saved.read_text() == "2"


HOSTS = """
import json, os
config = json.load(open("/opt/ml/input/config/resourceconfig.json"))
seen = {"config": config, "env_hosts": json.loads(os.environ["SM_HOSTS"]),
        "env_current": os.environ["SM_CURRENT_HOST"]}
open(os.path.join(os.environ["SM_MODEL_DIR"], "hosts.json"), "w").write(json.dumps(seen))
"""


def test_two_instances_get_their_own_host_in_a_correct_resourceconfig(
    runtime, alice, alice_profile, data, tmp_path
):
    from jobs.training.workspace import job_dir

    source = put_sourcedir(
        "s3://research-code/hosts/sourcedir.tar.gz", {"train.py": HOSTS}, tmp_path
    )
    spec = script_request(
        "two-hosts", source, ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2}
    )
    job = ended(create_training_job(alice, alice_profile.domain.domain_id, spec))
    assert job.status == "Completed", job.failure_reason
    assert job.billable_seconds == 2 * job.training_seconds
    for host in ("algo-1", "algo-2"):
        root = job_dir(alice_profile.domain.domain_id, "two-hosts")
        seen = json.loads((root / host / "model" / "hosts.json").read_text())
        assert seen["config"]["current_host"] == host == seen["env_current"]
        assert seen["config"]["hosts"] == ["algo-1", "algo-2"] == seen["env_hosts"]
        assert seen["config"]["current_instance_type"] == "ml.m5.large"
