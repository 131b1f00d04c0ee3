"""Fixtures for workloads: the instance-type catalog, a runtime per test, data in the store."""

import importlib
import io
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.capabilities import need
from tests.e2e.conftest import asgi_server  # noqa: F401  (the live web server, for API tests)

SKLEARN_IMAGE = "studio/sklearn:latest"


@pytest.fixture
def instance_types(transactional_db) -> None:
    """The seeded catalog (a transactional test's flush empties every table)."""
    from metering.catalog import InstanceType

    # The migration that seeds it looks the model up where it lived then (`jobs`).
    seed = importlib.import_module("jobs.migrations.0002_seed_instance_types").seed
    seed(SimpleNamespace(get_model=lambda *_: InstanceType), None)


def _require_runtime(name: str) -> None:
    from studio.core.runtime import docker_available, get_runtime

    if name == "docker":
        need("docker", docker_available(), "no Docker Engine answers (start dockerd)")
    else:
        need("sandbox", shutil.which("bwrap") is not None, "bwrap is not installed")
    need(
        name,
        get_runtime(name).has_image(SKLEARN_IMAGE),
        f"{SKLEARN_IMAGE} is not built for {name}: run `studio images build sklearn`",
    )


@pytest.fixture(params=["docker", "sandbox"])
def runtime(request, settings, instance_types) -> str:
    """Each test using this runs once per runtime; jobs it creates run there."""
    _require_runtime(request.param)
    settings.STUDIO_RUNTIME = request.param
    return request.param


def put(uri: str, content: bytes | str) -> str:
    """Store `content` at `uri` in the artifact store."""
    from studio.core import storage

    data = content.encode() if isinstance(content, str) else content
    storage.artifact_store().put(uri, io.BytesIO(data))
    return uri


def put_sourcedir(uri: str, files: dict[str, str], tmp_path: Path) -> str:
    """A script-mode `sourcedir.tar.gz`, as the SageMaker SDK uploads it."""
    import tarfile

    source = tmp_path / "src"
    source.mkdir()
    for name, text in files.items():
        (source / name).write_text(text)
    archive = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in files:
            tar.add(source / name, arcname=name)
    return put(uri, archive.read_bytes())


@pytest.fixture
def data() -> str:
    """A small separable CSV (label first) at the URI the training requests use."""
    from tests.integration.training import DATA, separable_csv

    return put(DATA, separable_csv())


@pytest.fixture(autouse=True)
def _empty_artifact_store():
    """Each test starts with an empty store, as each starts with an empty database."""
    yield
    from studio.core import storage

    shutil.rmtree(storage.artifact_store().root, ignore_errors=True)


@pytest.fixture
def jupyter(runtime) -> str:
    """The runtime, once the JupyterLab image is known to be built for it."""
    from studio.core.runtime import get_runtime
    from tests.capabilities import need

    need(
        runtime,
        get_runtime(runtime).has_image("studio/jupyter:latest"),
        "studio/jupyter:latest is not built: run `studio images build jupyter`",
    )
    return runtime
