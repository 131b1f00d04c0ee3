"""One serving instance: its model on the host, its container, and whether it answers.

A serving container runs `serve` with no network, as its endpoint owner's uid, the variant's
model mounted read-only at /opt/ml/model, and binds `serve.sock` in its own runtime directory
(jobs/hosting/paths.py), where the router and the health checks reach it through
`studio.core.unix_socket` only.

Script mode: a model whose Environment names its code in the store
(`SAGEMAKER_SUBMIT_DIRECTORY=s3://.../sourcedir.tar.gz`, as the SDK's SKLearnModel and
`estimator.deploy()` set it) has that code unpacked beside the model, as the model's uid, and
mounted read-only at /opt/ml/code, where the container is pointed instead (it has no network
to fetch it).
"""

import contextlib
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from domains.notebooks.volumes import HOME_GID, create_home
from jobs.hosting import paths
from jobs.models import Endpoint, EndpointInstance, InstanceStatus, Model
from jobs.services.images import resolve_image
from metering.catalog import GIB, InstanceType
from studio.core import storage
from studio.core.errors import ResourceNotFound, StudioError
from studio.core.lifecycle import record_creation, transition
from studio.core.runtime import ContainerError, ContainerSpec, Mount, Runtime, get_runtime
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME
from studio.core.storage import confined
from studio.core.unix_socket import http_get

log = logging.getLogger(__name__)

SERVERLESS_TYPE = "ml.serverless"  # what a serverless instance meters as
# A serverless instance's CPUs per GB of memory, as SageMaker sizes them (about one per 2 GB).
SERVERLESS_CPUS_PER_GB = Decimal("0.5")
PING_TIMEOUT_S = 2.0
LOG_TAIL_LINES = 20
UNPACKED = ".unpacked"  # beside a model directory once its archive is all there
SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
CODE_DIR = "/opt/ml/code"  # where a serving container sees its model's staged code
ARCHIVES = (".tar.gz", ".tgz", ".tar")
# Labels that tell the hosting reconciler whose a serving container is.
LABEL_ENDPOINT = "studio.endpoint"


class ModelUnavailable(Exception):
    """The variant's model cannot be served (gone, corrupt, refused): the message says why."""


def variant_model(endpoint: Endpoint, variant: dict) -> Model:
    model = Model.objects.filter(domain=endpoint.domain, name=variant["ModelName"]).first()
    if model is None:
        raise ModelUnavailable(f"model {variant['ModelName']} was deleted before it was deployed")
    return model


def prepare_model(endpoint: Endpoint, generation: int, index: int, model: Model) -> Path:
    """The unpacked model of variant `index` of `generation` (once: its instances share it,
    read-only): the directory to mount at /opt/ml/model."""
    root = paths.model_tree(endpoint, generation, index)
    return unpack_model(root, endpoint.profile.home_uid, model)


def submitted_code(model: Model) -> str | None:
    """The store URI of the model's script-mode code (its SAGEMAKER_SUBMIT_DIRECTORY when that
    names the store), else None: a local directory in the image, or no script at all."""
    submit = model.containers[0].get("Environment", {}).get(SUBMIT_DIRECTORY, "")
    return submit if storage.names_storage(submit) else None


def code_dir(model_dir: Path) -> Path:
    """Where `unpack_model` stages the code of the model it unpacked into `model_dir`."""
    return model_dir.parent / "code"


def unpack_model(root: Path, uid: int, model: Model) -> Path:
    """Unpack `model`'s model.tar.gz into `root`/model (and its script-mode code from the
    store into `root`/code), unless it is there already, and return the model directory.
    `root` is made root's; the archives are the user's: the confined helper unpacks them as
    `uid`, refusing links, names leaving the tree and bombs (studio/core/storage/confined.py).
    Raises ModelUnavailable saying why."""
    target, done = root / "model", root / UNPACKED
    if done.exists():
        return target
    shutil.rmtree(root, ignore_errors=True)  # what an interrupted unpacking left
    root.mkdir(mode=0o755, parents=True)
    # Made by root and given to `uid` before anything is in it: nothing there can be a link.
    create_home(target, uid)
    tree = confined.Tree(root, uid, HOME_GID)
    url = model.containers[0].get("ModelDataUrl")
    submit = submitted_code(model)
    reading = url
    try:
        if url:  # else a model whose image carries everything it needs
            with storage.artifact_store().open(url) as archive:
                confined.extract(tree, "model", archive, f"the model archive {url}")
        if submit:
            reading = submit
            create_home(code_dir(target), uid)
            _stage_code(tree, submit, model.domain.domain_id)
    except confined.Refused as refused:
        shutil.rmtree(root, ignore_errors=True)
        raise ModelUnavailable(f"model {model.name}: {refused}") from refused
    except (OSError, StudioError) as error:
        shutil.rmtree(root, ignore_errors=True)
        raise ModelUnavailable(f"model {model.name}: cannot read {reading}: {error}") from error
    # Root's, in root's directory: the next instance of the variant reuses the model.
    done.touch()
    return target


def _stage_code(tree: confined.Tree, submit: str, domain_id: str) -> None:
    """Unpack the code `submit` names (a sourcedir.tar.gz, or a prefix of files and archives)
    into the tree's `code`, through the confined helper: archives as they are, and a plain
    file wrapped in a one-member archive, so that nothing lands there but by the helper."""
    field = f"Environment.{SUBMIT_DIRECTORY}"
    # Checked when the model was made; checked again here, where it is read.
    storage.check_access(submit, domain_id, field)
    store = storage.artifact_store()
    found = store.list(submit, field)
    if not found:
        raise ResourceNotFound(f"{field}: there is nothing at {submit}")
    for stored in found:
        with store.open(stored.uri, field) as content:
            if stored.name.endswith(ARCHIVES):
                confined.extract(tree, "code", content, f"the code archive {stored.uri}")
            else:
                with _one_member_archive(stored.name, content, stored.size) as archive:
                    confined.extract(tree, "code", archive, f"the code file {stored.uri}")


@contextlib.contextmanager
def _one_member_archive(name: str, content: BinaryIO, size: int) -> Iterator[BinaryIO]:
    """A tar holding `content` under `name` (a file of a code prefix, by its name below it),
    for the helper to check and unpack as it does any archive."""
    with tempfile.SpooledTemporaryFile(max_size=storage.CHUNK) as archive:
        member = tarfile.TarInfo(name)
        member.size, member.mode = size, 0o644
        with tarfile.open(fileobj=archive, mode="w") as tar:
            tar.addfile(member, content)
        archive.seek(0)
        yield archive


def limits(variant: dict) -> tuple[float, int]:
    """(cpus, memory bytes) of one of the variant's containers."""
    serverless = variant.get("ServerlessConfig")
    if serverless:
        gb = Decimal(serverless["MemorySizeInMB"]) / 1024
        cpus = min(float(max(gb * SERVERLESS_CPUS_PER_GB, Decimal(1))), float(os.cpu_count() or 1))
        return cpus, int(gb * GIB)
    return InstanceType.objects.get(name=variant["InstanceType"]).container_limits()


def serving_spec(
    *,
    name: str,
    model: Model,
    model_dir: Path,
    rundir: Path,
    uid: int,
    limits: tuple[float, int],
    env: dict[str, str],
    labels: dict[str, str],
) -> ContainerSpec:
    """A container running `model`'s image with `serve`, SageMaker's inference contract over
    Studio's socket: no network, `uid`, the model read-only at /opt/ml/model, and `rundir`
    (made by `make_rundir`) at /run/studio for its socket. Endpoints and batch transform
    both run these."""
    container = model.containers[0]
    environment = container.get("Environment", {})
    cpus, memory = limits
    mounts = [Mount(model_dir, paths.MODEL_DIR, read_only=True), Mount(rundir, paths.RUNDIR)]
    if submitted_code(model):
        mounts.append(Mount(code_dir(model_dir), CODE_DIR, read_only=True))
        env = {SUBMIT_DIRECTORY: CODE_DIR, **env}
    return ContainerSpec(
        name=name,
        image=resolve_image(container["Image"], "PrimaryContainer.Image"),
        command=["serve"],
        env={
            **environment,
            "STUDIO_SERVE_SOCKET": f"{paths.RUNDIR}/{paths.SOCKET_NAME}",
            "SAGEMAKER_BIND_TO_PORT": "8080",
            "SAGEMAKER_MODEL_SERVER_TIMEOUT": environment.get(
                "SAGEMAKER_MODEL_SERVER_TIMEOUT", "60"
            ),
            **env,
        },
        mounts=mounts,
        cpus=cpus,
        memory_bytes=memory,
        network="none",
        user=f"{uid}:{HOME_GID}",
        labels=labels,
    )


def make_rundir(rundir: Path, uid: int) -> None:
    """A serving container's runtime directory, `uid`'s, with no socket in it yet. Its parent
    must be root's: then the container cannot swap the directory itself for a link."""
    rundir.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    create_home(rundir, uid)
    (rundir / paths.SOCKET_NAME).unlink(missing_ok=True)


def container_spec(
    instance: EndpointInstance, variant: dict, model: Model, model_dir: Path
) -> ContainerSpec:
    endpoint = instance.endpoint
    return serving_spec(
        name=instance.container_name,
        model=model,
        model_dir=model_dir,
        rundir=paths.instance_dir(instance),
        uid=instance.uid,
        limits=limits(variant),
        env={
            "SAGEMAKER_ENDPOINT_NAME": endpoint.name,
            "SAGEMAKER_VARIANT_NAME": instance.variant_name,
        },
        labels={
            LABEL_KIND: EndpointInstance.RESOURCE_TYPE,
            LABEL_NAME: instance.resource_id,
            LABEL_ENDPOINT: endpoint.resource_id,
        },
    )


def create(endpoint: Endpoint, generation: int, variant: dict) -> EndpointInstance:
    """A new Pending instance row (metered from now on)."""
    with transaction.atomic():
        instance = EndpointInstance.objects.create(
            endpoint=endpoint,
            generation=generation,
            variant_name=variant["VariantName"],
            model_name=variant["ModelName"],
            instance_type=variant.get("InstanceType") or SERVERLESS_TYPE,
            runtime=endpoint.runtime,
            uid=endpoint.profile.home_uid,
            status=InstanceStatus.PENDING,
        )
        record_creation(instance)
    return instance


def start(instance: EndpointInstance, spec: ContainerSpec) -> None:
    """Make the instance's runtime directory and start its container. Raises ContainerError."""
    make_rundir(paths.instance_dir(instance), instance.uid)
    runtime = get_runtime(instance.runtime)
    instance.container_id = runtime.start(spec)
    instance.save(update_fields=["container_id"])


def answers_ping(instance: EndpointInstance) -> bool:
    try:
        status, _ = http_get(paths.instance_socket(instance), "/ping", instance.uid)
    except OSError:
        return False
    return status == 200


def log_tail(instance: EndpointInstance, lines: int = LOG_TAIL_LINES) -> str:
    """The container's last log lines, for a FailureReason."""
    if not instance.container_id:
        return ""
    try:
        return "\n".join(get_runtime(instance.runtime).tail(instance.container_id, lines))
    except ContainerError:
        return ""


def running(instance: EndpointInstance) -> bool:
    if not instance.container_id:
        return False
    return get_runtime(instance.runtime).status(instance.container_id).running


def exit_code(instance: EndpointInstance) -> int | None:
    if not instance.container_id:
        return None
    return get_runtime(instance.runtime).status(instance.container_id).exit_code


def mark_ready(instance: EndpointInstance) -> None:
    instance.ready_at = timezone.now()
    instance.save(update_fields=["ready_at"])
    transition(instance, InstanceStatus.IN_SERVICE)


def remove(instance: EndpointInstance, *, grace: float = 30) -> None:
    """Stop the container (SIGTERM: the server finishes what is in flight; SIGKILL after
    `grace` s, as SageMaker), remove it and its runtime directory, and forget the instance
    (its meter closes with its row)."""
    if instance.container_id:
        runtime: Runtime = get_runtime(instance.runtime)
        try:
            runtime.stop(instance.container_id, timeout=grace)
            runtime.remove(instance.container_id)
        except ContainerError as error:
            log.warning("could not remove %s: %s", instance.container_name, error)
    # rmtree removes links planted in the directory, never what they point at.
    shutil.rmtree(paths.instance_dir(instance), ignore_errors=True)
    instance.delete()


def remove_files(endpoint: Endpoint) -> None:
    """An endpoint's directory on the host, with its unpacked models (rmtree removes links it
    finds, never what they point at)."""
    shutil.rmtree(paths.endpoint_dir(endpoint), ignore_errors=True)
