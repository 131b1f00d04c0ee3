"""The built-in sklearn image, as CI builds it before the tests (`studio images build sklearn`):
it runs under Docker as a non-root user without a network, and its exported tree runs under
bubblewrap. These tests never build: a missing image fails (under STUDIO_REQUIRE) or skips,
saying how to build it."""

import json
import shutil
import subprocess

import pytest

from studio.core.images import image_ref
from studio.core.images.docker_build import docker_available, inspect_image
from studio.core.images.rootfs import read_metadata
from studio.core.runtime.base import sandbox_rootfs
from tests.capabilities import need

SKLEARN = image_ref("sklearn")
BUILD_IT = "run `studio images build-base && studio images build sklearn` (CI does) first"


@pytest.fixture(scope="module")
def docker_image() -> dict:
    need("docker", docker_available(), "no Docker engine answers (`docker version`)")
    info = inspect_image(SKLEARN)
    need("docker", info is not None, f"the image {SKLEARN} is missing: {BUILD_IT}")
    return info


@pytest.fixture(scope="module")
def rootfs_tree():
    need("sandbox", shutil.which("bwrap") is not None, "bubblewrap (bwrap) is not installed")
    tree = sandbox_rootfs(SKLEARN)
    need(
        "sandbox",
        read_metadata(tree) is not None,
        f"no sandbox tree of {SKLEARN} at {tree} (STUDIO_IMAGES_DIR): {BUILD_IT}",
    )
    return tree


def test_sklearn_image_imports_sklearn_as_a_non_root_user_without_network(docker_image):
    script = "import os, sklearn, pandas, pyarrow; print(os.getuid(), os.getgid())"
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", SKLEARN, "python", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1000", "100"]


def test_sklearn_image_has_train_and_serve_on_its_path(docker_image):
    # dash's `command -v` answers for its first argument only: ask for each.
    script = "command -v train && command -v serve"
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", SKLEARN, "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/opt/venv/bin/train", "/opt/venv/bin/serve"]


def test_sandbox_tree_runs_sklearn_under_bubblewrap(rootfs_tree):
    result = subprocess.run(
        [
            "bwrap", "--ro-bind", str(rootfs_tree), "/", "--proc", "/proc", "--dev", "/dev",
            "--unshare-all", "--", "/opt/venv/bin/python", "-c", "import sklearn",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_sandbox_tree_is_the_docker_image_with_its_run_configuration(docker_image, rootfs_tree):
    metadata = read_metadata(rootfs_tree)
    assert metadata["image_id"] == docker_image["Id"], (
        f"the sandbox tree is older than {SKLEARN}: {BUILD_IT}"
    )
    assert metadata["user"] == "sagemaker-user"
    assert any(e.startswith("PATH=/opt/venv/bin:") for e in metadata["env"]), json.dumps(metadata)
    passwd = (rootfs_tree / "etc" / "passwd").read_text()
    assert "sagemaker-user:x:1000:100:" in passwd
