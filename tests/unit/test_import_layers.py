"""The import-layer contract (pyproject.toml, [tool.importlinter]): the tree keeps it, and a
planted import against it breaks it, so the contract can fail."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("studio", "metering", "domains", "jobs")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_the_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def plant(tree: Path, module: str, imported: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    # Inside a function, where a cycle is usually hidden: the contract sees those too.
    path.write_text(path.read_text() + f"\n\ndef _planted():\n    import {imported}  # noqa\n")


def test_the_tree_keeps_its_import_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imported", "broken"),
    [
        ("studio.core.errors", "domains.models", "studio.core is not allowed to import domains"),
        ("metering.usage", "jobs.models", "metering is not allowed to import jobs"),
        ("domains.permissions", "jobs.models", "domains is not allowed to import jobs"),
        ("jobs.services.common", "studio.web.urls", "jobs is not allowed to import studio.web"),
        (
            "jobs.services.training",
            "jobs.tasks",
            "jobs.services is not allowed to import jobs.tasks",
        ),
        (
            "domains.services.apps",
            "domains.notebooks.servers",
            "domains.services is not allowed to import domains.notebooks.servers",
        ),
    ],
)
def test_a_planted_import_against_the_layers_breaks_the_contract(
    copy_of_the_tree, module, imported, broken
):
    assert lint_imports(copy_of_the_tree).returncode == 0  # the copy keeps them, as the tree

    plant(copy_of_the_tree, module, imported)
    result = lint_imports(copy_of_the_tree)

    assert result.returncode != 0
    assert broken in result.stdout
