"""Built-in algorithms: which image runs them, the MetricDefinitions they come with and the
hyperparameters they take.

Both live with the code that uses them, in the sklearn image, as files that import nothing but
the standard library (`images/sklearn/studio_toolkit/metric_definitions.py` and
`hyperparameter_specs.py`); they are read from there so the platform and the image cannot drift.
"""

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

from django.conf import settings

from studio.core.errors import ValidationException

BUILTIN_IMAGE = "studio/sklearn:latest"
_TOOLKIT = Path(settings.BASE_DIR) / "images" / "sklearn" / "studio_toolkit"


@cache
def _toolkit_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"studio_builtin_{name}", _TOOLKIT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metric_definitions() -> dict[str, list[dict[str, str]]]:
    return _toolkit_module("metric_definitions").BUILTIN_METRIC_DEFINITIONS


def names() -> list[str]:
    return sorted(metric_definitions())


def check_hyperparameters(algorithm: str, hyperparameters: dict[str, str]) -> None:
    """ValidationException for the first of `hyperparameters` that built-in `algorithm` would
    refuse once running (a wrong type, out of range, not one of its choices, missing, or a
    name it does not know), read by the image's own rules, so it is refused before it runs."""
    specs = _toolkit_module("hyperparameter_specs")
    try:
        specs.read(algorithm, hyperparameters)
    except specs.Invalid as invalid:
        field = f"HyperParameters.{invalid.name}"
        if invalid.unknown:
            message = (
                f"{field} is not a hyperparameter of {algorithm}; it takes "
                f"{', '.join(specs.HYPERPARAMETERS[algorithm])}."
            )
        elif invalid.value is None:
            message = f"{field} is required for {algorithm}: {invalid.rule}."
        else:
            message = f"{field} must be {invalid.rule}, not {invalid.value!r}."
        raise ValidationException(message, field) from None


def check_channels(algorithm: str, hyperparameters: dict[str, str], channels: list[str]) -> None:
    """ValidationException when a hyperparameter of built-in `algorithm` needs a channel the
    job does not have (xgboost's early_stopping_rounds watches `validation`): refused at
    CreateTrainingJob rather than after the job has started and used up its name."""
    needed = _toolkit_module("hyperparameter_specs").CHANNEL_NEEDED.get(algorithm, {})
    for name, channel in needed.items():
        if name in hyperparameters and channel not in channels:
            field = f"HyperParameters.{name}"
            raise ValidationException(
                f"{field} needs a {channel!r} channel in InputDataConfig, which {algorithm} "
                f"watches to decide when to stop: add the channel or remove {name}.",
                field,
            )
