"""The JSONPath of DataProcessing's InputFilter and OutputFilter, in the subset SageMaker's
examples use: `$` (the whole record), then `.name` or `['name']` steps, and a last step that
may pick several: `[0]`, `[0,-1]`, `[1:]`, `['id','SageMakerOutput']`.

A CSV record is the list of its fields; a JSON record is its value. What is picked is written
back in the record's own format: a CSV line of the fields, or JSON (a list, or an object of
the names picked)."""

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED = r"'[^'\\]*'|\"[^\"\\]*\""
_INT = r"-?\d+"
_STEP = re.compile(
    rf"\.(?P<name>{_NAME})"
    rf"|\[\s*(?P<slice>(?:{_INT})?\s*:\s*(?:{_INT})?)\s*\]"
    rf"|\[\s*(?P<indexes>{_INT}(?:\s*,\s*{_INT})*)\s*\]"
    rf"|\[\s*(?P<names>(?:{_QUOTED})(?:\s*,\s*(?:{_QUOTED}))*)\s*\]"
)


def loads(data: bytes) -> Any:
    """json.loads for a container's or a user's bytes: ValueError for anything that is not
    JSON, nesting too deep to parse included."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None


class PathError(ValueError):
    """A path outside the subset, or one that picks nothing in a record."""


@dataclass(frozen=True)
class Step:
    kind: str  # "name", "names", "indexes" or "slice"
    value: Any

    @property
    def picks_many(self) -> bool:
        return self.kind == "slice" or len(self.value) > 1


def parse(path: str) -> list[Step]:
    """The steps of `path`, or PathError saying what is not taken."""
    if not path.startswith("$"):
        raise PathError("a path begins with '$'")
    steps: list[Step] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise PathError(
                f"{path[position:]!r} is not a step Studio takes: .name, ['name', ...], "
                "[index, ...] or [start:end]"
            )
        if steps and steps[-1].picks_many:
            raise PathError("only the last step may pick several values")
        steps.append(_step(match))
        position = match.end()
    return steps


def _step(match: re.Match) -> Step:
    if match["name"]:
        return Step("names", (match["name"],))
    if match["names"]:
        return Step("names", tuple(q[1:-1] for q in re.findall(_QUOTED, match["names"])))
    if match["indexes"]:
        return Step("indexes", tuple(int(i) for i in match["indexes"].split(",")))
    start, _, end = match["slice"].partition(":")
    return Step("slice", (int(start) if start.strip() else None, int(end) if end.strip() else None))


def names_fields(steps: list[Step]) -> bool:
    """Whether the path names object members (which a CSV record has none of)."""
    return any(step.kind == "names" for step in steps)


def _apply(value: Any, steps: list[Step]) -> Any:
    for step in steps:
        if step.kind == "names":
            if not isinstance(value, dict):
                raise PathError(f"{_kind(value)} has no member {step.value[0]!r}")
            missing = [name for name in step.value if name not in value]
            if missing:
                raise PathError(f"the record has no member {missing[0]!r}")
            if len(step.value) == 1:
                value = value[step.value[0]]
            else:
                value = {name: value[name] for name in step.value}
            continue
        if not isinstance(value, list):
            raise PathError(f"{_kind(value)} cannot be indexed")
        if step.kind == "slice":
            value = value[slice(*step.value)]
            continue
        try:
            picked = [value[i] for i in step.value]
        except IndexError:
            raise PathError(
                f"the record has {len(value)} values, fewer than the path needs"
            ) from None
        value = picked[0] if len(picked) == 1 else picked
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list"}.get(type(value), "a single value")


def select(record: bytes, steps: list[Step], is_csv: bool) -> bytes:
    """What `steps` pick of `record` (a CSV line, or a JSON value), in the record's format."""
    if not steps:
        return record
    if is_csv:
        try:
            fields = next(csv.reader([record.decode(errors="replace")]), [])
        except csv.Error as e:
            raise PathError(f"the record is not a CSV line ({e})") from None
        picked = _apply(fields, steps)
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(
            picked if isinstance(picked, list) else [picked]
        )
        return out.getvalue().encode()
    try:
        value = loads(record)
    except ValueError as e:
        raise PathError(f"the record is not JSON ({e})") from None
    return json.dumps(_apply(value, steps), separators=(",", ":")).encode()
