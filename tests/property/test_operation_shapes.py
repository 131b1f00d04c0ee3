"""Every SageMaker operation Studio answers, sent bodies hypothesis draws from botocore's input
shape and then breaks (tests/property/bodies.py), signed with a real key: no answer is a 5xx,
every error is SageMaker's JSON error (`__type` and a message), an error changes nothing (no
row, no file, no task sent), and nothing of another domain changes, whatever the answer.

The operations are read from the registry, so one added later is covered without an edit here.
Runs are derandomized (the same examples each run) and bounded for CI (`EXAMPLES`).
"""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.core.shapes import input_shape
from studio.web.api import views  # noqa: F401  (imports every module that registers operations)
from studio.web.api.registry import OPERATIONS
from tests.property.bodies import Bodies, mutated
from tests.property.checks import bounded, json_error, unchanged_on_error

# A budget for all operations together, so that the file stays within about three minutes on
# CI's two CPUs however many operations are added (each gets at least MIN_EXAMPLES); set
# STUDIO_PROPERTY_EXAMPLES (examples per operation) for a deeper search.
BUDGET = 1800
MIN_EXAMPLES = 15
EXAMPLES = int(
    os.environ.get("STUDIO_PROPERTY_EXAMPLES") or max(MIN_EXAMPLES, BUDGET // len(OPERATIONS))
)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_malformed_bodies_never_fail_nor_change_state(operation, tenant):
    bodies = mutated(Bodies(tenant.targets).fitting(input_shape(operation)))

    @bounded(EXAMPLES)
    @given(st.data())
    def run(data):
        how, body = data.draw(bodies, label="body")
        what = f"{operation} ({how}) with {body[:400]!r}"
        unchanged_on_error(tenant, lambda: tenant.sagemaker(operation, body), what, json_error)

    run()
