"""Class 1 and 4 of issue 8: what a job leaves behind is hostile. A member runs one-line jobs
through boto3 that plant links, FIFOs and hostile archives where the worker reads, packs,
uploads and unpacks after (or before) the run; on both runtimes, nothing secret comes back and
nothing appears outside the data directory.
"""

import contextlib
import io
import json
import tarfile

import pytest
from botocore.exceptions import WaiterError
from django.conf import settings

from studio.core import storage
from tests.attacks.conftest import Canaries, Member
from tests.integration.conftest import put
from tests.integration.processing import request as processing_request
from tests.integration.training import script_request

ROLE = "arn:aws:iam::000000000000:role/SageMakerExecution"
FAST = {"Delay": 1, "MaxAttempts": 120}
OUTPUT = "s3://research-output/training"


def sourcedir(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


def train(member: Member, name: str, script: str, **overrides) -> dict:
    """Run `script` as a script-mode training job through boto3; its description at the end."""
    uri = put(f"s3://research-code/{name}/sourcedir.tar.gz", sourcedir({"train.py": script}))
    spec = script_request(name, uri, **overrides)
    spec["AlgorithmSpecification"].setdefault("TrainingInputMode", "File")
    member.api.create_training_job(**spec, RoleArn=ROLE)
    return wait_training(member, name)


def wait_ended(member: Member, kind: str, name: str) -> dict:
    """boto3's own waiter, then the description: a Failed job ends the waiter with an error,
    and the description says why."""
    with contextlib.suppress(WaiterError):
        member.api.get_waiter(f"{kind}_job_completed_or_stopped").wait(
            **{f"{kind.title()}JobName": name}, WaiterConfig=FAST
        )
    return getattr(member.api, f"describe_{kind}_job")(**{f"{kind.title()}JobName": name})


def wait_training(member: Member, name: str) -> dict:
    return wait_ended(member, "training", name)


def stored(uri: str) -> bytes:
    """Everything in the store at or below `uri`, file contents and archive members alike."""
    path = storage.artifact_store().path(uri)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    found = b""
    for file in files:
        found += file.read_bytes()
        if file.name.endswith(".tar.gz"):
            with tarfile.open(file) as tar:
                for m in tar.getmembers():
                    found += m.name.encode() + m.linkname.encode()
                    if m.isfile():
                        found += tar.extractfile(m).read()
    return found


def assert_nothing_leaked(canaries: Canaries, *answers: object) -> None:
    canaries.assert_absent(*answers, stored(OUTPUT).decode(errors="replace"))
    canaries.assert_nothing_outside()


def link_then(script: str) -> str:
    return f"import os, sys\n{script}\n"


# -- the failure file --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["encryption_key", "secret_key", "host canary", "/proc/self/environ", "/proc/1/environ"],
)
def test_a_failure_file_linked_to_a_host_secret_does_not_become_the_failure_reason(
    runtime, data, member, canaries, target
):
    path = {
        "encryption_key": f"{settings.DATA_DIR}/encryption_key",
        "secret_key": f"{settings.DATA_DIR}/secret_key",
        "host canary": str(canaries.host_file),
    }.get(target, target)
    job = train(
        member,
        "leak-failure",
        link_then(f"os.symlink({path!r}, '/opt/ml/output/failure'); sys.exit(1)"),
    )
    assert job["TrainingJobStatus"] == "Failed"
    assert "exited with code 1" in job["FailureReason"]
    assert_nothing_leaked(canaries, job)


def test_a_fifo_as_the_failure_file_does_not_hang_the_worker(runtime, data, member, canaries):
    job = train(
        member, "fifo-failure", link_then("os.mkfifo('/opt/ml/output/failure'); sys.exit(3)")
    )
    assert job["TrainingJobStatus"] == "Failed"
    assert "exited with code 3" in job["FailureReason"]
    assert_nothing_leaked(canaries, job)


# -- packing the model and the output -------------------------------------------------------


def test_a_model_holding_links_to_host_secrets_packs_the_links_not_the_secrets(
    runtime, data, member, canaries
):
    script = link_then(
        "open('/opt/ml/model/model.txt', 'w').write('weights');"
        f"os.symlink({str(settings.DATA_DIR / 'encryption_key')!r}, '/opt/ml/model/key');"
        f"os.symlink({str(canaries.host_file)!r}, '/opt/ml/model/canary');"
        "os.symlink('/proc/self/environ', '/opt/ml/model/environ');"
        f"os.symlink({str(settings.DATA_DIR)!r}, '/opt/ml/model/data-dir')"
    )
    job = train(member, "leak-model", script)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(storage.artifact_store().path(uri)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert tar.extractfile("model.txt").read() == b"weights"
    assert all(members[n].issym() for n in ("key", "canary", "environ", "data-dir"))
    assert_nothing_leaked(canaries, job)


def test_output_data_replaced_by_a_link_to_the_data_directory_uploads_nothing_of_it(
    runtime, data, member, canaries
):
    script = link_then(
        "os.rmdir('/opt/ml/output/data');"
        f"os.symlink({str(settings.DATA_DIR)!r}, '/opt/ml/output/data')"
    )
    job = train(member, "leak-output-data", script)
    # The job's own output is refused (it is a link), and the job says so.
    assert job["TrainingJobStatus"] == "Failed"
    assert "link" in job["FailureReason"]
    assert_nothing_leaked(canaries, job)


# -- checkpoints ---------------------------------------------------------------------------------


def test_checkpoints_linking_to_the_workers_environment_upload_no_secret(
    runtime, data, member, canaries
):
    checkpoints = "s3://research-output/checkpoints/leak"
    script = link_then(
        "open('/opt/ml/checkpoints/step-1', 'w').write('state');"
        "os.symlink('/proc/self/environ', '/opt/ml/checkpoints/environ');"
        "os.symlink('/proc/1/environ', '/opt/ml/checkpoints/init-environ');"
        f"os.symlink({str(canaries.host_file)!r}, '/opt/ml/checkpoints/canary');"
        f"os.symlink({str(settings.DATA_DIR)!r}, '/opt/ml/checkpoints/data')"
    )
    job = train(member, "leak-ckpt", script, CheckpointConfig={"S3Uri": checkpoints})
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    saved = storage.artifact_store().path(checkpoints)
    assert sorted(p.name for p in saved.rglob("*")) == ["step-1"]
    canaries.assert_absent(stored(checkpoints).decode(errors="replace"), job)
    canaries.assert_nothing_outside()


def test_a_checkpoint_directory_replaced_by_a_link_uploads_nothing(runtime, data, member, canaries):
    """/opt/ml itself is root's, but a LocalPath below model/ is the job's to replace."""
    checkpoints = "s3://research-output/checkpoints/swap"
    script = link_then(
        "os.rmdir('/opt/ml/model/ckpt');"
        f"os.symlink({str(settings.DATA_DIR)!r}, '/opt/ml/model/ckpt')"
    )
    config = {"S3Uri": checkpoints, "LocalPath": "/opt/ml/model/ckpt"}
    job = train(member, "swap-ckpt", script, CheckpointConfig=config)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert not storage.artifact_store().path(checkpoints).exists()
    canaries.assert_absent(job)
    canaries.assert_nothing_outside()


# -- processing: the message file and outputs --------------------------------------------------


def process(member: Member, name: str, script: str) -> dict:
    code = put(f"s3://research-code/{name}/prepare.py", script)
    spec = processing_request(name, code)
    member.api.create_processing_job(**spec, RoleArn=ROLE)
    return wait_ended(member, "processing", name)


def test_a_processing_message_file_linked_to_the_encryption_key_is_not_read(
    runtime, data, member, canaries
):
    key = f"{settings.DATA_DIR}/encryption_key"
    job = process(
        member,
        "leak-message",
        f"import os, sys\nos.symlink({key!r}, '/opt/ml/output/message')\nsys.exit(2)\n",
    )
    assert job["ProcessingJobStatus"] == "Failed"
    assert job.get("ExitMessage", "") == ""
    assert_nothing_leaked(canaries, job)


def test_processing_outputs_holding_links_upload_only_real_files(runtime, data, member, canaries):
    out = "/opt/ml/processing/output/clean"
    script = (
        "import os\n"
        f"open('{out}/clean.csv', 'w').write('label,x\\n1,2\\n')\n"
        f"os.symlink('/proc/self/environ', '{out}/environ.csv')\n"
        f"os.symlink({str(canaries.host_file)!r}, '{out}/canary.csv')\n"
        f"os.symlink({str(settings.DATA_DIR)!r}, '{out}/data')\n"
    )
    job = process(member, "leak-outputs", script)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    uploaded = storage.artifact_store().path("s3://research-output/processing/clean")
    assert sorted(p.name for p in uploaded.rglob("*")) == ["clean.csv"]
    canaries.assert_absent(stored("s3://research-output/processing/clean").decode(), job)
    canaries.assert_nothing_outside()


# -- archives: script mode's sourcedir.tar.gz -------------------------------------------------


def hostile_archive(entries: list[tuple[str, bytes, str]]) -> bytes:
    """(name, type, link target or content) entries, as an attacker builds them by hand."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload.encode()))
            else:
                info.linkname = payload
                tar.addfile(info)
    return buffer.getvalue()


def train_with_archive(member: Member, name: str, archive: bytes) -> dict:
    uri = put(f"s3://research-code/{name}/sourcedir.tar.gz", archive)
    spec = script_request(
        name, json.dumps(uri), HyperParameters={"sagemaker_program": '"train.py"'}
    )
    spec["AlgorithmSpecification"]["TrainingInputMode"] = "File"
    member.api.create_training_job(**spec, RoleArn=ROLE)
    return wait_training(member, name)


TRAIN = "print('trained')\n"


@pytest.mark.parametrize(
    ("attack", "entries", "reason"),
    [
        ("dotdot", [("../../../../escape.py", tarfile.REGTYPE, "x")], "leaves the directory"),
        ("absolute", [("/var/tmp/escape.py", tarfile.REGTYPE, "x")], "leaves the directory"),
        ("symlink-out", [("etc", tarfile.SYMTYPE, "/etc")], "points outside"),
        (
            "through-link",
            [("up", tarfile.SYMTYPE, "."), ("up/../../x.py", tarfile.REGTYPE, "x")],
            "leaves the directory",
        ),
        ("hardlink", [("key", tarfile.LNKTYPE, "/etc/shadow")], "hard link or special file"),
        ("device", [("mem", tarfile.CHRTYPE, "")], "hard link or special file"),
    ],
)
def test_a_hostile_source_archive_fails_the_job_and_writes_nothing_outside(
    runtime, data, member, canaries, attack, entries, reason
):
    archive = hostile_archive([("train.py", tarfile.REGTYPE, TRAIN), *entries])
    job = train_with_archive(member, f"tar-{attack}", archive)
    assert job["TrainingJobStatus"] == "Failed"
    assert reason in job["FailureReason"], job["FailureReason"]
    assert "sourcedir.tar.gz" in job["FailureReason"]
    assert_nothing_leaked(canaries, job)


def test_a_compression_bomb_fails_the_job_instead_of_filling_the_disk(
    runtime, data, member, canaries, settings
):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        script = TRAIN.encode()
        info = tarfile.TarInfo("train.py")
        info.size = len(script)
        tar.addfile(info, io.BytesIO(script))
        info = tarfile.TarInfo("zeros.bin")
        info.size = 300 * 2**20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    job = train_with_archive(member, "tar-bomb", buffer.getvalue())
    assert job["TrainingJobStatus"] == "Failed"
    assert "expands more than" in job["FailureReason"]
    assert_nothing_leaked(canaries, job)


def test_a_source_archive_with_a_link_inside_it_still_trains(runtime, data, member, canaries):
    """What the SDK uploads from a real project (a link inside the directory) keeps working."""
    archive = hostile_archive(
        [
            ("lib/helpers.py", tarfile.REGTYPE, "X = 1\n"),
            ("helpers.py", tarfile.SYMTYPE, "lib/helpers.py"),
            ("train.py", tarfile.REGTYPE, "from helpers import X\nprint('trained', X)\n"),
        ]
    )
    job = train_with_archive(member, "tar-inner-link", archive)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    canaries.assert_absent(job)


# -- identity: each member's jobs run as their own uid -----------------------------------------


def test_jobs_of_two_members_run_as_different_uids_and_never_root(
    runtime, data, member, bob, bob_profile, canaries
):
    from domains.services import create_access_key
    from tests.integration.api import sagemaker

    key, secret = create_access_key(bob, bob_profile.domain.domain_id, bob_profile.name)
    bob_api = Member(
        bob,
        bob_profile,
        member.domain_id,
        sagemaker(member.url, key.access_key_id, secret),
        member.url,
        key.access_key_id,
        secret,
    )
    script = "import os\nopen('/opt/ml/model/uid', 'w').write(str(os.getuid()))\n"
    seen = {}
    for who, name in ((member, "uid-alice"), (bob_api, "uid-bob")):
        job = train(who, name, script)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        model = storage.artifact_store().path(job["ModelArtifacts"]["S3ModelArtifacts"])
        with tarfile.open(model) as tar:
            seen[name] = int(tar.extractfile("uid").read())
    assert seen == {"uid-alice": member.profile.home_uid, "uid-bob": bob_profile.home_uid}
    assert 0 not in seen.values()


def test_a_job_cannot_read_another_members_home(runtime, data, member, bob_profile, canaries):
    """Homes are 0700 and owned by their profile's uid: a job of alice, now under her own uid,
    cannot read bob's even if it could name it (it cannot: homes are not mounted in jobs)."""
    from domains.notebooks.volumes import create_home

    home = bob_profile.home_directory
    create_home(home, bob_profile.home_uid)
    (home / "notes.txt").write_text(canaries.host_value)
    script = link_then(f"open('/opt/ml/model/seen', 'w').write(str(os.path.exists({str(home)!r})))")
    job = train(member, "peek-home", script)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    model = storage.artifact_store().path(job["ModelArtifacts"]["S3ModelArtifacts"])
    with tarfile.open(model) as tar:
        assert tar.extractfile("seen").read() == b"False"
    assert_nothing_leaked(canaries, job)
