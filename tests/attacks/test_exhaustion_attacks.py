"""Class 7 of issue 8, and the command-line secrets of class 9: a member tries to starve or
exhaust the worker and the host with one-line jobs through boto3 — a catastrophic metric
regex, output without newlines, a flood of lines, a full /tmp, four long jobs while a colleague
starts a notebook — and to read another's secrets from a command line; on both runtimes."""

import secrets
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from jobs.models import TrainingJob
from jobs.training.logs import LOG_LIMIT_BYTES, log_path
from jobs.training.workspace import job_dir
from metering.catalog import InstanceType
from studio.core.runtime import get_runtime
from studio.core.runtime.base import LABEL_NAME
from studio.core.storage import artifact_store
from tests.attacks.conftest import Member
from tests.attacks.test_post_run_attacks import ROLE, sourcedir, wait_training
from tests.conftest import settled, wait_for
from tests.integration.conftest import put
from tests.integration.training import script_request

MIB = 2**20


def start_training(member: Member, name: str, script: str, **overrides) -> None:
    uri = put(f"s3://research-code/{name}/sourcedir.tar.gz", sourcedir({"train.py": script}))
    spec = script_request(name, uri, **overrides)
    spec["AlgorithmSpecification"].setdefault("TrainingInputMode", "File")
    member.api.create_training_job(**spec, RoleArn=ROLE)


def worker_rss(worker) -> int:
    for line in Path(f"/proc/{worker.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("the worker has no VmRSS")


def wait_sampling_rss(member: Member, name: str, worker) -> tuple[dict, int]:
    """Wait for the job's end, sampling the worker's memory as it goes; (answer, peak RSS)."""
    peak = worker_rss(worker)

    def ended() -> bool:
        nonlocal peak
        peak = max(peak, worker_rss(worker))
        status = member.api.describe_training_job(TrainingJobName=name)["TrainingJobStatus"]
        return status in ("Completed", "Failed", "Stopped")

    wait_for(ended, 600, f"training job {name} to end")
    return wait_training(member, name), peak


def container_of(name: str):
    """The running container of training job `name`, as its runtime lists it."""
    found = []

    def listed() -> bool:
        found[:] = [c for c in get_runtime().list_managed() if c.labels.get(LABEL_NAME) == name]
        return bool(found)

    wait_for(listed, 60, f"the container of {name}")
    return found[0]


def test_a_catastrophic_metric_regex_is_evaluated_linearly_and_the_job_completes(
    runtime, member, data, canaries, celery_worker
):
    """`(a+)+$` against a's followed by b backtracks for ever in Python's `re`; with RE2 the
    worker parses it in linear time, records the honest metric, and finishes the job."""
    script = "print('a' * 20000 + 'b', flush=True)\nprint('loss=0.25', flush=True)\n"
    definitions = [
        {"Name": "evil", "Regex": r"(a+)+$"},
        {"Name": "nested", "Regex": r"((a|aa)+)+b$"},
        {"Name": "loss", "Regex": r"loss=([0-9.]+)"},
    ]
    algorithm = {"TrainingImage": "studio/sklearn:latest", "MetricDefinitions": definitions}
    start_training(member, "evil-regex", script, AlgorithmSpecification=algorithm)

    answer = wait_training(member, "evil-regex")

    assert answer["TrainingJobStatus"] == "Completed", answer.get("FailureReason")
    metrics = {m["MetricName"]: m["Value"] for m in answer["FinalMetricDataList"]}
    assert metrics == {"loss": 0.25}
    # The worker still answers: another member's job runs to its end after it.
    start_training(member, "after-evil", "print('fine')\n")
    assert wait_training(member, "after-evil")["TrainingJobStatus"] == "Completed"
    canaries.assert_absent(answer)


def test_a_gigabyte_without_a_newline_keeps_the_worker_small_and_the_log_capped(
    runtime, member, data, canaries, celery_worker
):
    script = (
        "import sys\n"
        "chunk = b'x' * 2**20\n"
        "for _ in range(1024):\n"
        "    sys.stdout.buffer.write(chunk)\n"
        "sys.stdout.buffer.write(b'\\ndone\\n')\n"
    )
    before = worker_rss(celery_worker)
    start_training(member, "no-newline", script)

    answer, peak = wait_sampling_rss(member, "no-newline", celery_worker)

    assert answer["TrainingJobStatus"] == "Completed", answer.get("FailureReason")
    assert peak - before < 100 * MIB, f"the worker grew by {(peak - before) // MIB} MiB"
    log = log_path(job_dir(member.domain_id, "no-newline"), "algo-1")
    assert log.stat().st_size <= LOG_LIMIT_BYTES + 100
    lines = log.read_text().splitlines()
    cut = [line for line in lines if line.endswith("[Studio: line cut at 16 KiB]")]
    assert len(cut) == 1 and len(cut[0]) < 17 * 1024
    canaries.assert_absent(answer, lines[-5:])


def test_a_flood_of_lines_stops_at_the_runtimes_log_cap_while_the_job_runs_on(
    runtime, member, data, canaries
):
    """200 MiB of lines: the runtime's own copy stops at STUDIO_CONTAINER_LOG_BYTES (the
    engine rotates, the shim drops), the container is never blocked, and the job completes."""
    script = (
        "import os, sys, time\n"
        "line = b'y' * 99 + b'\\n'\n"
        "for _ in range(2 * 2**20):\n"
        "    sys.stdout.buffer.write(line)\n"
        "sys.stdout.flush()\n"
        "open('/opt/ml/model/flooded', 'w').close()\n"
        "time.sleep(8)\n"
    )
    start_training(member, "flood", script)
    container = container_of("flood")
    wait_for(
        lambda: (job_dir(member.domain_id, "flood") / "algo-1/model/flooded").exists(),
        300,
        "the flood to end",
    )

    cap = settings.STUDIO_CONTAINER_LOG_BYTES
    if runtime == "sandbox":
        kept = (get_runtime().root / container.id / "log").stat().st_size
    else:
        path = Path(get_runtime().client.containers.get(container.id).attrs["LogPath"])
        kept = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    # The engine's json-file counts its JSON framing too: a line's worth of slack.
    assert kept <= cap + 64 * 1024, f"the runtime kept {kept // MIB} MiB of 200"

    answer = wait_training(member, "flood")
    assert answer["TrainingJobStatus"] == "Completed", answer.get("FailureReason")
    assert (
        log_path(job_dir(member.domain_id, "flood"), "algo-1").stat().st_size
        <= LOG_LIMIT_BYTES + 100
    )
    canaries.assert_absent(answer)


def test_filling_tmp_fails_the_write_inside_the_container_not_the_host(
    runtime, member, data, canaries
):
    # A small instance type, so that its /tmp (half its memory) fills in a moment.
    InstanceType.objects.filter(name="ml.t3.medium").update(memory_gib=Decimal("0.5"))
    script = (
        "import errno\n"
        "written = 0\n"
        "try:\n"
        "    with open('/tmp/fill', 'wb') as f:\n"
        "        while True:\n"
        "            f.write(b'z' * 2**20)\n"
        "            f.flush()\n"
        "            written += 1\n"
        "except OSError as e:\n"
        "    assert e.errno == errno.ENOSPC, e\n"
        "    print(f'tmp full after {written} MiB', flush=True)\n"
    )
    resources = {"InstanceType": "ml.t3.medium", "InstanceCount": 1}
    start_training(member, "fill-tmp", script, ResourceConfig=resources)

    answer = wait_training(member, "fill-tmp")

    assert answer["TrainingJobStatus"] == "Completed", answer.get("FailureReason")
    text = log_path(job_dir(member.domain_id, "fill-tmp"), "algo-1").read_text()
    full_after = int(text.split("tmp full after ")[1].split()[0])
    assert 0 < full_after <= 256
    canaries.assert_absent(answer, text)


def test_a_job_writing_past_its_volume_size_is_stopped_and_failed(runtime, member, data, canaries):
    """No runtime bounds the host directory bound at /opt/ml: the watch measures it, and a job
    that outgrows its VolumeSizeInGB is stopped, nothing of it packed."""
    script = (
        "import os, time\n"
        "with open('/opt/ml/model/huge.bin', 'wb') as f:\n"
        "    os.posix_fallocate(f.fileno(), 0, 1200 * 2**20)\n"
        "print('allocated', flush=True)\n"
        "time.sleep(120)\n"
    )
    resources = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}
    start_training(member, "outgrow", script, ResourceConfig=resources)

    answer = wait_training(member, "outgrow")

    assert answer["TrainingJobStatus"] == "Failed"
    assert "VolumeSizeInGB (1 GB)" in answer["FailureReason"], answer["FailureReason"]
    # DescribeTrainingJob always names where the model would go; nothing was packed there.
    packed = answer["ModelArtifacts"]["S3ModelArtifacts"]
    assert not artifact_store().exists(packed)
    canaries.assert_absent(answer)
    canaries.assert_nothing_outside()


def test_four_long_jobs_do_not_keep_another_members_notebook_from_starting(
    jupyter, member, data, canaries, bob, bob_profile
):
    from domains.models import App
    from domains.services import create_app, create_space

    for i in range(4):
        start_training(member, f"long-{i}", "import time\ntime.sleep(300)\n")
    wait_for(
        lambda: (
            TrainingJob.objects.filter(
                name__startswith="long-", secondary_status="Training"
            ).count()
            == 4
        ),
        120,
        "four long jobs to be training",
    )
    space = settled(create_space(bob, member.domain_id, name="bobs"))

    app = create_app(bob, member.domain_id, space_name=space.name)

    # settled() waits its timeout, then fails: 30 s is the promise.
    assert settled(app, "InService", timeout=30).status == "InService"
    assert TrainingJob.objects.filter(name__startswith="long-", status="InProgress").count() == 4
    assert App.objects.get(pk=app.pk).status == "InService"
    for i in range(4):
        member.api.stop_training_job(TrainingJobName=f"long-{i}")


def test_a_secret_in_a_jobs_environment_is_on_no_host_command_line(runtime, member, data, canaries):
    secret = f"secret-{secrets.token_hex(12)}"
    script = (
        "import os, time\n"
        f"print('seen' if os.environ['AWS_SECRET_ACCESS_KEY'] == {secret!r} else 'not seen')\n"
        "open('/opt/ml/model/ready', 'w').close()\n"
        "time.sleep(10)\n"
    )
    start_training(member, "env-secret", script, Environment={"AWS_SECRET_ACCESS_KEY": secret})
    wait_for(
        lambda: (job_dir(member.domain_id, "env-secret") / "algo-1/model/ready").exists(),
        120,
        "the job",
    )

    on_command_lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if secret.encode() in (entry / "cmdline").read_bytes():
                    on_command_lines.append(entry.name)
            except OSError:
                continue  # exited meanwhile
    assert on_command_lines == []

    answer = wait_training(member, "env-secret")
    assert answer["TrainingJobStatus"] == "Completed", answer.get("FailureReason")
    assert (
        "seen"
        in log_path(job_dir(member.domain_id, "env-secret"), "algo-1").read_text().splitlines()
    )
    canaries.assert_absent(answer)
