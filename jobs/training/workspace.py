"""The host side of SageMaker's training container contract: one `/opt/ml` tree per host.

`$STUDIO_DATA_DIR/jobs/training/<job>/<host>/` is mounted at `/opt/ml`, holding
`input/config/*.json`, `input/data/<channel>/` (copied from the store: "Downloading"),
`code/` (script mode), `model/`, `output/`, and `checkpoints/`.
"""

import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

from django.conf import settings

from studio import storage

CONTAINER_UID, CONTAINER_GID = 1000, 100  # the image's sagemaker-user


def job_dir(job_name: str) -> Path:
    return Path(settings.DATA_DIR) / "jobs" / "training" / job_name


def hosts(count: int) -> list[str]:
    return [f"algo-{i}" for i in range(1, count + 1)]


def own(path: Path) -> None:
    """Give the container's non-root user the directories it writes."""
    if os.geteuid() == 0:
        os.chown(path, CONTAINER_UID, CONTAINER_GID)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2))


def prepare(job_name: str, request: dict[str, Any], host: str, all_hosts: list[str]) -> Path:
    """Build (or rebuild, for a retry) one host's /opt/ml; return its directory."""
    root = job_dir(job_name) / host
    if root.exists():
        shutil.rmtree(root)
    config = root / "input" / "config"
    config.mkdir(parents=True)
    hyperparameters = request.get("HyperParameters", {})
    _write_json(config / "hyperparameters.json", hyperparameters)
    channels = request.get("InputDataConfig", [])
    _write_json(
        config / "inputdataconfig.json",
        {
            c["ChannelName"]: {
                "ContentType": c.get("ContentType", "application/octet-stream"),
                "TrainingInputMode": c.get("InputMode", "File"),
                "S3DistributionType": c["DataSource"]["S3DataSource"].get(
                    "S3DataDistributionType", "FullyReplicated"
                ),
                "RecordWrapperType": c.get("RecordWrapperType", "None"),
                **({"CompressionType": c["CompressionType"]} if "CompressionType" in c else {}),
            }
            for c in channels
        },
    )
    _write_json(
        config / "resourceconfig.json",
        {
            "current_host": host,
            "current_group_name": "homogeneousCluster",
            "current_instance_type": request["ResourceConfig"]["InstanceType"],
            "hosts": all_hosts,
            "instance_groups": [
                {
                    "instance_group_name": "homogeneousCluster",
                    "instance_type": request["ResourceConfig"]["InstanceType"],
                    "hosts": all_hosts,
                }
            ],
            "network_interface_name": "eth0",
        },
    )
    for channel in channels:
        target = root / "input" / "data" / channel["ChannelName"]
        target.mkdir(parents=True)
        uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
        for relative, source in storage.files_under(uri):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    (root / "input" / "data").mkdir(parents=True, exist_ok=True)
    for writable in ("model", "output", "output/data", "checkpoints", "code"):
        (root / writable).mkdir(parents=True, exist_ok=True)
        own(root / writable)
    own(root / "output")
    _place_code(root / "code", hyperparameters)
    restore_checkpoints(request, root)
    return root


def checkpoint_dir(request: dict[str, Any], root: Path) -> Path:
    """Where the container's CheckpointConfig.LocalPath (default /opt/ml/checkpoints) lands
    on the host: it must be under /opt/ml, which is this host directory."""
    local = request.get("CheckpointConfig", {}).get("LocalPath", "/opt/ml/checkpoints")
    return root / local.removeprefix("/opt/ml/").strip("/")


def restore_checkpoints(request: dict[str, Any], root: Path) -> None:
    """SageMaker copies CheckpointConfig.S3Uri into LocalPath before training starts, so a
    retried (or re-run) job resumes from what an earlier attempt saved."""
    config = request.get("CheckpointConfig")
    if not config:
        return
    target = checkpoint_dir(request, root)
    target.mkdir(parents=True, exist_ok=True)
    own(target)
    for relative, source in storage.files_under(config["S3Uri"], "CheckpointConfig.S3Uri"):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        own(destination)


def save_checkpoints(request: dict[str, Any], root: Path) -> None:
    """Copy what the job left in LocalPath to CheckpointConfig.S3Uri."""
    config = request.get("CheckpointConfig")
    source = checkpoint_dir(request, root)
    if not config or not source.is_dir():
        return
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        storage.put_file(path, storage.join(config["S3Uri"], str(path.relative_to(source))))


def _place_code(code: Path, hyperparameters: dict[str, str]) -> None:
    """Script mode: the SDK uploads `sourcedir.tar.gz` and names it in a hyperparameter; the
    container has no network, so the worker unpacks it into /opt/ml/code beforehand."""
    submit = hyperparameters.get("sagemaker_submit_directory", "").strip('"')
    if not submit:
        return
    for _, source in storage.files_under(submit, "HyperParameters.sagemaker_submit_directory"):
        if source.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(source) as archive:
                archive.extractall(code, filter="data")
        else:
            shutil.copyfile(source, code / source.name)
    for path in [code, *code.rglob("*")]:
        own(path)


def pack(directory: Path, uri: str) -> str | None:
    """Tar.gz `directory`'s contents to `uri` in the store; None when it is empty."""
    if not directory.is_dir() or not any(directory.iterdir()):
        return None
    archive = directory.parent / f".{directory.name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(directory.iterdir()):
            tar.add(item, arcname=item.name)
    storage.put_file(archive, uri)
    archive.unlink()
    return uri


def failure_file(root: Path) -> str:
    path = root / "output" / "failure"
    try:
        return path.read_text(errors="replace").strip()[:1024]
    except OSError:
        return ""
