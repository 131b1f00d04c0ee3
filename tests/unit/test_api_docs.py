"""docs/api.md lists every operation Studio answers: a registered operation it does not name
fails here, so the list cannot fall behind the code."""

from pathlib import Path

import pytest

from studio.web.api import iam, logs, sts, views  # noqa: F401  (registers the operations)
from studio.web.api.registry import OPERATIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()


@pytest.mark.parametrize(
    "name",
    sorted(
        {
            *OPERATIONS,
            *sts.STS.operations,
            *iam.IAM.operations,
            *logs.OPERATIONS,
        }
    ),
)
def test_docs_api_names_every_operation(name):
    assert f"`{name}`" in DOC
