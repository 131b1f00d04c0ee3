"""A built-in algorithm's hyperparameters, read and checked as studio_toolkit.
hyperparameter_specs declares them (the declarations the platform checks a job against before
admitting it)."""

from __future__ import annotations

import sys
from typing import Any

from studio_toolkit import hyperparameter_specs
from studio_toolkit.errors import UserError


class Hyperparameters:
    """Every hyperparameter of `algorithm`, typed and range-checked, defaults filled in; what
    was read (or defaulted, "auto" where the algorithm chooses) is kept in `effective` for the
    model's metadata. Names the algorithm does not know are rejected, as SageMaker's built-ins
    do; SageMaker's that have no effect here pass with a note."""

    def __init__(self, algorithm: str, raw: dict[str, Any]) -> None:
        self.algorithm = algorithm
        try:
            self._values = hyperparameter_specs.read(algorithm, raw)
        except hyperparameter_specs.Invalid as invalid:
            raise UserError(self._problem(invalid)) from None
        declared = hyperparameter_specs.HYPERPARAMETERS[algorithm]
        self.effective = {
            name: "auto" if value is None and declared[name].get("auto") else value
            for name, value in self._values.items()
        }
        for name in sorted(set(raw) & hyperparameter_specs.ACCEPTED_UNUSED[algorithm]):
            print(
                f"Note: hyperparameter {name} has no effect in this implementation of {algorithm}",
                file=sys.stderr,
            )

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def _problem(self, invalid: hyperparameter_specs.Invalid) -> str:
        if invalid.unknown:
            return (
                f"Unknown hyperparameter(s) for {self.algorithm}: {', '.join(invalid.unknown)}. "
                f"Known: {', '.join(invalid.known)}"
            )
        if invalid.value is None:
            return (
                f"Hyperparameter {invalid.name} for {self.algorithm}: is required ({invalid.rule})"
            )
        return (
            f"Hyperparameter {invalid.name}={invalid.value!r} for {self.algorithm}: "
            f"must be {invalid.rule}"
        )
