"""How much time Studio adds to a tiny training job, per runtime, next to the same job run bare.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/training_overhead.py --runs 10 [--json out.json]

It makes a scratch PostgreSQL database and data directory, starts a real Celery worker, and
for each runtime submits `--runs` script-mode jobs through `create_training_job`, measuring
submit → container running and submit → Completed. The baseline, measured in the same run,
is the same image and the same /opt/ml contract started directly: `docker run` for docker,
`bwrap` over the same root file system for sandbox. Needs built images (`make images`).
"""

import argparse
import json
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

from harness import Platform, bare_command, p50, p95, print_table, wait

SCRIPT = """
import os
print("train:loss=0.5", flush=True)
open(os.path.join(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"), "model.txt"), "w").write("ok")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--runtimes", default="docker,sandbox")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with Platform() as platform:
        results = run_all(args, platform)
    rows = [
        [
            runtime,
            *(
                f"{r[k]:.3f}"
                for k in (
                    "submit_to_running_p50_s",
                    "submit_to_running_p95_s",
                    "submit_to_completed_p50_s",
                    "submit_to_completed_p95_s",
                    "bare_p50_s",
                    "overhead_p50_s",
                )
            ),
        ]
        for runtime, r in results.items()
    ]
    print_table(
        "Training overhead: a tiny script-mode job through Studio, and the same run bare",
        [
            "runtime",
            "submit→running p50",
            "p95",
            "submit→Completed p50",
            "p95",
            "bare p50",
            "overhead p50",
        ],
        rows,
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def run_all(args, platform: Platform) -> dict:
    from django.conf import settings

    from jobs.services import create_training_job
    from studio.core.runtime import get_runtime

    source = stage_sourcedir(platform.data_dir)
    results = {}
    for runtime in args.runtimes.split(","):
        if not get_runtime(runtime).has_image("studio/sklearn:latest"):
            print(f"skipping {runtime}: studio/sklearn:latest is not built for it")
            continue
        settings.STUDIO_RUNTIME = runtime
        running, completed = [], []
        for i in range(args.runs):
            name = f"bench-{runtime}-{i}"
            submitted = time.time()
            job = create_training_job(
                platform.user, platform.domain.domain_id, request(name, source)
            )
            job = wait(lambda j=job: finished(j), 120, name)
            assert job.status == "Completed", job.failure_reason
            completed.append(time.time() - submitted)
            running.append(job.runtime_state["started_at"]["algo-1"] - submitted)
        bare = [bare_run(runtime, source) for _ in range(args.runs)]
        results[runtime] = {
            "submit_to_running_p50_s": p50(running),
            "submit_to_running_p95_s": p95(running),
            "submit_to_completed_p50_s": p50(completed),
            "submit_to_completed_p95_s": p95(completed),
            "bare_p50_s": p50(bare),
            "bare_p95_s": p95(bare),
            "overhead_p50_s": p50(completed) - p50(bare),
        }
    return results


def finished(job):
    job.refresh_from_db()
    return job if job.status in {"Completed", "Failed", "Stopped"} else None


def stage_sourcedir(data_dir: Path) -> str:
    from studio.core import storage

    archive = data_dir / "sourcedir.tar.gz"
    script = data_dir / "train.py"
    script.write_text(SCRIPT)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(script, arcname="train.py")
    uri = "s3://bench-code/sourcedir.tar.gz"
    store = storage.artifact_store()
    with archive.open("rb") as code, script.open("rb") as data:
        store.put(uri, code)
        store.put("s3://bench-data/train/data.csv", data)
    return uri


def request(name: str, source: str) -> dict:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": "studio/sklearn:latest"},
        "HyperParameters": {"sagemaker_program": "train.py", "sagemaker_submit_directory": source},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench-data/train/"}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://bench-output/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }


def bare_run(runtime: str, source: str) -> float:
    """The same image, the same /opt/ml contract and `train`, without Studio in between."""
    from jobs.training import workspace

    name = f"bare-{uuid.uuid4().hex[:8]}"
    req = request(name, source)
    tree = workspace.prepare(workspace.job_dir("bare", name), req, "algo-1", ["algo-1"], 1000, 100)
    # The data directory is root's alone (0700): bwrap, run as uid 1000, mounts from a
    # directory it can reach, as Studio's own runtimes do through their staging.
    scratch = Path(tempfile.mkdtemp(prefix="studio-bare-"))
    scratch.chmod(0o755)
    opt_ml = scratch / "algo-1"
    tree.root.rename(opt_ml)
    command = bare_command(
        runtime,
        "studio/sklearn:latest",
        ["train"],
        binds={str(opt_ml): "/opt/ml"},
        workdir="/opt/ml/code",
    )
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    shutil.rmtree(scratch, ignore_errors=True)
    return elapsed


if __name__ == "__main__":
    main()
