"""Every SageMaker operation Studio answers, sent bodies hypothesis draws from botocore's input
shape and then breaks (tests/property/bodies.py), signed with a real key: no answer is a 5xx,
every error is SageMaker's JSON error (`__type` and a message), an error changes nothing (no
row, no file, no task sent), and nothing of another domain changes, whatever the answer.

The operations are read from the registry, so one added later is covered without an edit here.
Runs are derandomized (the same examples each run) and bounded for CI (`EXAMPLES`).
"""

import json
import os

import pytest
from django.test import TestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.core.shapes import input_shape
from studio.web.api import views  # noqa: F401  (imports every module that registers operations)
from studio.web.api.registry import OPERATIONS
from tests.property.bodies import Bodies, mutated
from tests.property.state import fingerprint

# Enough to find what is there on CI's two CPUs in a few minutes for all operations; set
# STUDIO_PROPERTY_EXAMPLES higher for a deeper search.
EXAMPLES = int(os.environ.get("STUDIO_PROPERTY_EXAMPLES", "40"))

PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # Each example is a request and a few queries, not a pure function: slow by design.
    suppress_health_check=[HealthCheck.too_slow],
)


def check_answer(response, what: str, failures) -> dict | None:
    """The answer's JSON error, or None for a success; fails on a 5xx or a malformed error."""
    assert response.status_code < 500, (
        f"{what} answered {response.status_code}: {response.content[:500]!r}\n"
        f"web log:\n{failures.last()}"
    )
    if response.status_code < 300:
        return None
    assert response.status_code >= 400, f"{what} answered {response.status_code}"
    try:
        error = json.loads(response.content)
    except ValueError:
        pytest.fail(f"{what} answered a non-JSON error: {response.content[:300]!r}")
    assert isinstance(error, dict) and isinstance(error.get("__type"), str) and error["__type"], (
        f"{what}: error without __type: {error}"
    )
    message = error.get("message", error.get("Message"))
    assert isinstance(message, str) and message, f"{what}: error without a message: {error}"
    return error


def unchanged_on_error(tenant, send, what: str) -> None:
    """Send, and check the answer and what it changed."""
    before = fingerprint(tenant.other.pk)
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        response = send()
    error = check_answer(response, what, tenant.failures)
    after = fingerprint(tenant.other.pk)
    assert after.domain == before.domain, (
        f"{what} changed another domain's rows (answer {response.status_code}: "
        f"{response.content[:300]!r})"
    )
    if error is None:
        return
    changes = before.changes(after)
    assert not changes, f"{what} answered {error} but changed {', '.join(changes)}"
    assert not callbacks, f"{what} answered {error} but left work to run on commit: {callbacks}"


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_malformed_bodies_never_fail_nor_change_state(operation, tenant):
    bodies = mutated(Bodies(tenant.targets).fitting(input_shape(operation)))

    @PROPERTY
    @given(st.data())
    def run(data):
        how, body = data.draw(bodies, label="body")
        what = f"{operation} ({how}) with {body[:400]!r}"
        unchanged_on_error(tenant, lambda: tenant.sagemaker(operation, body), what)

    run()
