"""Built-in algorithms: which image runs them and the MetricDefinitions they come with.

The metric definitions live with the code that prints the metrics, in the sklearn image
(`images/sklearn/studio_toolkit/metric_definitions.py`, plain data); they are read from there
so the two cannot drift.
"""

import importlib.util
from functools import cache
from pathlib import Path

from django.conf import settings

BUILTIN_IMAGE = "studio/sklearn:latest"
_DEFINITIONS = (
    Path(settings.BASE_DIR) / "images" / "sklearn" / "studio_toolkit" / "metric_definitions.py"
)


@cache
def metric_definitions() -> dict[str, list[dict[str, str]]]:
    spec = importlib.util.spec_from_file_location("studio_builtin_metrics", _DEFINITIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BUILTIN_METRIC_DEFINITIONS


def names() -> list[str]:
    return sorted(metric_definitions())
