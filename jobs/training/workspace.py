"""The host side of SageMaker's training container contract: one `/opt/ml` tree per host.

`$STUDIO_DATA_DIR/jobs/training/<domain id>/<job>/<host>/` is mounted at `/opt/ml` (a job's
name is unique only in its domain), holding
`input/config/*.json`, `input/data/<channel>/` (copied from the store: "Downloading"),
`code/` (script mode), `model/`, `output/`, and `checkpoints/`.

The worker builds the tree as root before any container sees it. Once a container has run,
everything below it is the job's: the worker reads, packs and uploads it only through the
confined helper (`studio.core.storage.confined`), never by path (docs/security.md, "The rule").
"""

import json
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings

from domains.models import UserProfile
from domains.notebooks.volumes import HOME_GID
from studio.core import storage
from studio.core.storage import confined
from studio.core.storage.paths import below, safe_join


def job_dir(domain_id: str, job_name: str) -> Path:
    """Where one job's hosts' trees and logs are: below its domain's directory, since two
    domains may each have a job of this name."""
    domain = safe_join(Path(settings.DATA_DIR) / "jobs" / "training", domain_id, "DomainId")
    return safe_join(domain, job_name, "TrainingJobName")


def identity(profile: UserProfile) -> tuple[int, int]:
    """The uid and gid a profile's jobs run as: the profile's own, as its notebooks do, so
    that one member's processes and files are never another's (and never root)."""
    return profile.home_uid, HOME_GID


def hosts(count: int) -> list[str]:
    return [f"algo-{i}" for i in range(1, count + 1)]


def own(path: Path, tree: confined.Tree) -> None:
    """Give the job's uid a directory the worker just made for it (before any container ran:
    nothing there can be a link yet)."""
    if os.geteuid() == 0:
        os.chown(path, tree.uid, tree.gid, follow_symlinks=False)


def own_all(path: Path, tree: confined.Tree) -> None:
    """`own` for a directory the worker just filled from the store, and all in it."""
    for each in [path, *path.rglob("*")]:
        own(each, tree)


def copy_in(uri: str, target: Path, field: str) -> None:
    """Copy what `uri` names from the store into a directory the worker just made. The names
    come from the store, which only Studio writes; they are joined with the one checked join
    all the same."""
    for stored in storage.artifact_store().list(uri, field):
        destination = safe_join(target, stored.name, field)
        destination.parent.mkdir(parents=True, exist_ok=True)
        _download(stored.uri, destination, field)


def _download(uri: str, destination: Path, field: str) -> None:
    with storage.artifact_store().open(uri, field) as source, destination.open("wb") as out:
        shutil.copyfileobj(source, out, storage.CHUNK)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2))


def prepare(
    directory: Path, request: dict[str, Any], host: str, all_hosts: list[str], uid: int, gid: int
) -> confined.Tree:
    """Build (or rebuild, for a retry) one host's /opt/ml, below the job's `directory`
    (`job_dir`), for a job run as `uid`:`gid`."""
    root = directory / host
    tree = confined.Tree(root, uid, gid)
    if root.exists():
        shutil.rmtree(root)  # fd-based: it does not follow links a container left
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
        field = "InputDataConfig.ChannelName"
        target = safe_join(root / "input" / "data", channel["ChannelName"], field)
        target.mkdir(parents=True)
        copy_in(channel["DataSource"]["S3DataSource"]["S3Uri"], target, "S3Uri")
        # The job's own copy, as on SageMaker (whose containers run as root): scripts may
        # chmod it, as the SDK 3.x's driver does (`chmod +x .../sm_drivers/sm_train.sh`).
        own_all(target, tree)
    (root / "input" / "data").mkdir(parents=True, exist_ok=True)
    # input/ and input/data/ are writable as on SageMaker: the SDK 3.x's driver writes
    # input/sm_training.env. input/config/ stays the worker's.
    for writable in (
        "input",
        "input/data",
        "model",
        "output",
        "output/data",
        "checkpoints",
        "code",
    ):
        (root / writable).mkdir(parents=True, exist_ok=True)
        own(root / writable, tree)
    _place_code(tree, hyperparameters)
    restore_checkpoints(request, tree)
    return tree


def checkpoint_dir(request: dict[str, Any]) -> str:
    """Where the container's CheckpointConfig.LocalPath (default /opt/ml/checkpoints) is,
    relative to /opt/ml, which is the host's tree."""
    local = request.get("CheckpointConfig", {}).get("LocalPath", "/opt/ml/checkpoints")
    return below(local, "/opt/ml/", "CheckpointConfig.LocalPath")


def restore_checkpoints(request: dict[str, Any], tree: confined.Tree) -> None:
    """SageMaker copies CheckpointConfig.S3Uri into LocalPath before training starts, so a
    retried (or re-run) job resumes from what an earlier attempt saved."""
    config = request.get("CheckpointConfig")
    if not config:
        return
    target = safe_join(tree.root, checkpoint_dir(request), "CheckpointConfig.LocalPath")
    target.mkdir(parents=True, exist_ok=True)
    copy_in(config["S3Uri"], target, "CheckpointConfig.S3Uri")
    own_all(target, tree)


def save_checkpoints(request: dict[str, Any], tree: confined.Tree) -> None:
    """Copy what the job left in LocalPath to CheckpointConfig.S3Uri."""
    config = request.get("CheckpointConfig")
    if config:
        confined.upload(tree, checkpoint_dir(request), config["S3Uri"], "CheckpointConfig")


def _place_code(tree: confined.Tree, hyperparameters: dict[str, str]) -> None:
    """Script mode: the SDK uploads `sourcedir.tar.gz` and names it in a hyperparameter; the
    container has no network, so the worker unpacks it into /opt/ml/code beforehand (in the
    confined helper: the archive is the member's, and so is what it unpacks to)."""
    field = "HyperParameters.sagemaker_submit_directory"
    # As the SDK sends it (JSON-encoded): the URI parser unquotes it, as it did for the check.
    submit = hyperparameters.get("sagemaker_submit_directory", "")
    if not submit:
        return
    store = storage.artifact_store()
    for stored in store.list(submit, field):
        name = PurePosixPath(stored.name).name
        if name.endswith((".tar.gz", ".tgz")):
            with store.open(stored.uri, field) as archive:
                confined.extract(tree, "code", archive, name)
        else:
            destination = safe_join(tree.root / "code", name, field)
            _download(stored.uri, destination, field)
            own(destination, tree)


def failure_file(tree: confined.Tree) -> str:
    return confined.read_text(tree, "output/failure", 1024)
