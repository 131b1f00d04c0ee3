"""Typed, checked access to a built-in algorithm's hyperparameters (strings, as SageMaker sends)."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from studio_toolkit.errors import UserError

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class Hyperparameters:
    """Reads each hyperparameter once with its type and range; what was read (or defaulted) is
    kept in `effective` for the model's metadata, and names nobody read are rejected."""

    def __init__(self, algorithm: str, raw: dict[str, Any]) -> None:
        self.algorithm = algorithm
        self._raw = {name: str(value).strip() for name, value in raw.items()}
        self.effective: dict[str, Any] = {}

    def _fail(self, name: str, problem: str) -> UserError:
        value = self._raw.get(name)
        shown = f"{name}={value!r}" if value is not None else name
        return UserError(f"Hyperparameter {shown} for {self.algorithm}: {problem}")

    def _take(self, name: str, required: bool) -> str | None:
        value = self._raw.get(name)
        if value is None and required:
            raise self._fail(name, "is required")
        self.effective[name] = value
        return value

    def integer(
        self,
        name: str,
        default: int | None = None,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        auto: bool = False,
    ) -> int | None:
        """An integer; "auto" (when allowed) gives None, meaning the algorithm chooses."""
        value = self._take(name, required)
        if value is None or (auto and value == "auto"):
            chosen = default if value is None else None
            self.effective[name] = "auto" if chosen is None and auto else chosen
            return chosen
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not number.is_integer():
            raise self._fail(name, "must be an integer" + (' or "auto"' if auto else ""))
        result = int(number)
        self._check_range(name, result, minimum, maximum)
        self.effective[name] = result
        return result

    def number(
        self,
        name: str,
        default: float | None = None,
        *,
        required: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
        auto: bool = False,
    ) -> float | None:
        """A finite number; "auto" (when allowed) gives None, meaning the algorithm chooses."""
        value = self._take(name, required)
        if value is None or (auto and value == "auto"):
            chosen = (None if default is None else float(default)) if value is None else None
            self.effective[name] = "auto" if chosen is None and auto else chosen
            return chosen
        try:
            result = float(value)
        except ValueError:
            result = math.nan
        if not math.isfinite(result):
            raise self._fail(name, "must be a number" + (' or "auto"' if auto else ""))
        if positive and result <= 0:
            raise self._fail(name, "must be greater than 0")
        self._check_range(name, result, minimum, maximum)
        self.effective[name] = result
        return result

    def _check_range(
        self, name: str, value: float, minimum: float | None, maximum: float | None
    ) -> None:
        if minimum is not None and value < minimum:
            raise self._fail(name, f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise self._fail(name, f"must be at most {maximum}")

    def choice(
        self,
        name: str,
        options: Sequence[str],
        default: str | None = None,
        *,
        required: bool = False,
    ) -> str | None:
        """One of `options` (exact spelling, as SageMaker's built-ins require)."""
        value = self._take(name, required)
        if value is None:
            self.effective[name] = default
            return default
        if value not in options:
            raise self._fail(name, "must be one of " + ", ".join(options))
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self._take(name, False)
        if value is None:
            self.effective[name] = default
            return default
        if value.lower() in _TRUE | _FALSE:
            self.effective[name] = value.lower() in _TRUE
            return self.effective[name]
        raise self._fail(name, "must be true or false")

    def names(self, name: str, options: Sequence[str], default: Sequence[str]) -> list[str]:
        """A list of names from `options`: '["a", "b"]' (JSON, as SageMaker writes lists) or
        'a,b'."""
        value = self._take(name, False)
        if value is None:
            self.effective[name] = list(default)
            return list(default)
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = value.split(",")
        items = decoded if isinstance(decoded, list) else [decoded]
        chosen = [str(item).strip() for item in items if str(item).strip()]
        if not chosen or any(item not in options for item in chosen):
            raise self._fail(name, "must list names from " + ", ".join(options))
        self.effective[name] = chosen
        return chosen

    def reject_unknown(self, accepted_unused: Iterable[str] = ()) -> None:
        """Fail on names this algorithm does not know, as SageMaker's built-ins do.

        `accepted_unused` are SageMaker hyperparameters of the algorithm that have no effect
        here (tuning knobs of its own implementation); jobs written for SageMaker keep working.
        Names starting with "_" or "sagemaker_" (set by tuning jobs and the SDK) pass silently.
        """
        accepted = set(accepted_unused)
        unknown = []
        for name in sorted(self._raw):
            if name in self.effective or name.startswith(("_", "sagemaker_")):
                continue
            if name in accepted:
                print(
                    f"Note: hyperparameter {name} has no effect in this implementation "
                    f"of {self.algorithm}",
                    file=sys.stderr,
                )
                continue
            unknown.append(name)
        if unknown:
            known = ", ".join(sorted({*self.effective, *accepted}))
            raise UserError(
                f"Unknown hyperparameter(s) for {self.algorithm}: {', '.join(unknown)}. "
                f"Known: {known}"
            )
