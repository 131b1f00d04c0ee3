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
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCRIPT = """
import os
print("train:loss=0.5", flush=True)
open(os.path.join(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"), "model.txt"), "w").write("ok")
"""


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def scratch_database(url: str) -> tuple[str, str]:
    """A new database beside the one `url` names; returns (its URL, its name)."""
    import psycopg

    name = f"studio_bench_{os.getpid()}"
    parsed = urlparse(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parsed._replace(path=f"/{name}")), name


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--runtimes", default="docker,sandbox")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the benchmark makes a scratch DB).")
    db_url, db_name = scratch_database(admin_url)
    data_dir = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    # The bare sandbox baseline runs bwrap as the container user, who must reach /opt/ml's
    # source (Studio's own runtime stages mounts as root instead).
    data_dir.chmod(0o755)
    tag = f"studio-bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        DATABASE_URL=db_url,
        STUDIO_DATA_DIR=str(data_dir),
        STUDIO_CELERY_QUEUE=tag,
        STUDIO_REDIS_PREFIX=tag,
        DJANGO_SETTINGS_MODULE="studio.settings",
    )
    os.environ.setdefault("STUDIO_IMAGES_DIR", str(ROOT / "var" / "images"))
    worker = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "studio",
                "worker",
                "--pool=threads",
                "--concurrency=4",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
                "-Q",
                tag,
                "-n",
                f"{tag}@bench",
            ],
            cwd=ROOT,
            env={**os.environ, "C_FORCE_ROOT": "1"},
            stdout=subprocess.DEVNULL,
        )
        results = run_all(args, data_dir, f"{tag}@bench")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        drop_database(admin_url, db_name)
        shutil.rmtree(data_dir, ignore_errors=True)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting for {what}")


def run_all(args, data_dir: Path, worker_name: str) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from domains.services import create_domain, create_user_profile
    from jobs.services import create_training_job
    from studio.health import check_redis
    from studio.runtime import get_runtime

    wait(lambda: worker_name in check_redis()[1], 60, "the worker")
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
    domain = create_domain(user, name="bench")
    wait(lambda: type(domain).objects.get(pk=domain.pk).status == "InService", 30, "domain")
    profile = create_user_profile(user, domain.domain_id, name="bench", user=user)
    wait(lambda: type(profile).objects.get(pk=profile.pk).status == "InService", 30, "profile")

    source = stage_sourcedir(data_dir)
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
            job = create_training_job(user, domain.domain_id, request(name, source))
            job = wait(lambda j=job: finished(j), 120, name)
            assert job.status == "Completed", job.failure_reason
            completed.append(time.time() - submitted)
            running.append(job.runtime_state["started_at"]["algo-1"] - submitted)
        bare = [bare_run(runtime, data_dir, source) for _ in range(args.runs)]
        results[runtime] = {
            "submit_to_running_p50_s": statistics.median(running),
            "submit_to_running_p95_s": p95(running),
            "submit_to_completed_p50_s": statistics.median(completed),
            "submit_to_completed_p95_s": p95(completed),
            "bare_p50_s": statistics.median(bare),
            "bare_p95_s": p95(bare),
            "overhead_p50_s": statistics.median(completed) - statistics.median(bare),
        }
    return results


def finished(job):
    job.refresh_from_db()
    return job if job.status in {"Completed", "Failed", "Stopped"} else None


def stage_sourcedir(data_dir: Path) -> str:
    from studio import storage

    archive = data_dir / "sourcedir.tar.gz"
    script = data_dir / "train.py"
    script.write_text(SCRIPT)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(script, arcname="train.py")
    uri = "s3://bench-code/sourcedir.tar.gz"
    storage.put_file(archive, uri)
    storage.put_file(script, "s3://bench-data/train/data.csv")
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


def bare_run(runtime: str, data_dir: Path, source: str) -> float:
    """The same image, the same /opt/ml contract and `train`, without Studio in between."""
    from jobs.training import workspace
    from studio.runtime.base import sandbox_rootfs

    name = f"bare-{uuid.uuid4().hex[:8]}"
    req = request(name, source)
    opt_ml = workspace.prepare(name, req, "algo-1", ["algo-1"])
    if runtime == "docker":
        command = [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--user",
            "1000:100",
            "-v",
            f"{opt_ml}:/opt/ml",
            "-w",
            "/opt/ml/code",
            "studio/sklearn:latest",
            "train",
        ]
    else:
        command = [
            "setpriv",
            "--reuid=1000",
            "--regid=100",
            "--clear-groups",
            "bwrap",
            "--ro-bind",
            str(sandbox_rootfs("studio/sklearn:latest")),
            "/",
            "--bind",
            str(opt_ml),
            "/opt/ml",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            "--unshare-all",
            "--chdir",
            "/opt/ml/code",
            "--setenv",
            "PATH",
            "/opt/venv/bin:/usr/bin:/bin",
            "train",
        ]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    shutil.rmtree(opt_ml.parent, ignore_errors=True)
    return elapsed


def print_table(results: dict) -> None:
    print(f"\nmachine: {os.cpu_count()} CPUs, {sys.platform}; medians and p95 in seconds")
    header = (
        "runtime",
        "submit→running p50",
        "p95",
        "submit→Completed p50",
        "p95",
        "bare p50",
        "overhead p50",
    )
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for runtime, r in results.items():
        print(
            " | ".join(
                [
                    runtime,
                    f"{r['submit_to_running_p50_s']:.3f}",
                    f"{r['submit_to_running_p95_s']:.3f}",
                    f"{r['submit_to_completed_p50_s']:.3f}",
                    f"{r['submit_to_completed_p95_s']:.3f}",
                    f"{r['bare_p50_s']:.3f}",
                    f"{r['overhead_p50_s']:.3f}",
                ]
            )
        )


if __name__ == "__main__":
    main()
