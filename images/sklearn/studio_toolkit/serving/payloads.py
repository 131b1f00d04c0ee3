"""Request bodies → a 2-D float64 array of feature rows, with errors that name the line or row.

`text/csv` (no header, one row per line), `application/json` (SageMaker's `instances`, MLflow's
`dataframe_split`, `dataframe_records` and `inputs`, or a bare list of rows),
`application/jsonlines` (one row per line) and `application/x-npy` (`numpy.save` bytes). A body
without a content type is recognized by its first byte. Empty CSV fields and JSON nulls are
missing values (NaN), which models that handle them (xgboost) take.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np

from studio_toolkit.serving.errors import BadRequest

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
NPY = "application/x-npy"
CONTENT_TYPES = (CSV, JSON, JSONLINES, NPY)
# Other names clients send for the same formats.
ALIASES = {
    "csv": CSV,
    "text/x-csv": CSV,
    "application/csv": CSV,
    "text/json": JSON,
    "application/x-jsonlines": JSONLINES,
    "application/jsonl": JSONLINES,
    "application/x-ndjson": JSONLINES,
    "application/npy": NPY,
}
# What a client sends when it did not say: the body's first byte tells.
UNSPECIFIED = {"", "application/octet-stream", "binary/octet-stream", "*/*"}
NPY_MAGIC = b"\x93NUMPY"
SHOWN_CHARS = 40


def media_type(header: str) -> str:
    """`text/csv; charset=utf-8` → `text/csv` (lower case, aliases resolved)."""
    name = header.partition(";")[0].strip().lower()
    return ALIASES.get(name, name)


def decode(body: bytes, content_type: str) -> tuple[np.ndarray, list[str] | None]:
    """The rows of `body` and, when the body named them (MLflow's formats), the column names."""
    kind = media_type(content_type)
    if kind in UNSPECIFIED:
        kind = sniff(body)
    if kind == CSV:
        return decode_csv(body), None
    if kind == JSON:
        return decode_json(body)
    if kind == JSONLINES:
        return decode_jsonlines(body), None
    if kind == NPY:
        return decode_npy(body), None
    raise BadRequest(
        f"Content-Type {content_type!r} is not supported; send one of {', '.join(CONTENT_TYPES)}"
    )


def sniff(body: bytes) -> str:
    if body.startswith(NPY_MAGIC):
        return NPY
    return JSON if body.lstrip()[:1] in (b"[", b"{") else CSV


def _shown(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return repr(text[:SHOWN_CHARS])


def decode_csv(body: bytes) -> np.ndarray:
    """Rows of numbers separated by commas; blank lines are skipped."""
    if b"\n" not in body:
        # The common case, one row: float() per field is the cheapest parse there is.
        try:
            return np.array([float(field) for field in body.split(b",")]).reshape(1, -1)
        except ValueError:
            pass  # an empty field or not a number: the careful parse below says which
    lines = [(number, line) for number, line in enumerate(body.splitlines(), 1) if line.strip()]
    if not lines:
        raise BadRequest("The CSV body has no rows; send one row of features per line")
    first_number, first_line = lines[0]
    width = first_line.count(b",") + 1
    for number, line in lines:
        count = line.count(b",") + 1
        if count != width:
            raise BadRequest(
                f"CSV line {number} has {count} values but line {first_number} has {width}; "
                "every row needs the same number of features"
            )
    try:
        joined = b",".join(line for _, line in lines).split(b",")
        return np.array(joined, dtype=np.float64).reshape(len(lines), width)
    except ValueError:
        return np.array([_csv_row(number, line) for number, line in lines], dtype=np.float64)


def _csv_row(number: int, line: bytes) -> list[float]:
    values = []
    for column, field in enumerate(line.split(b","), 1):
        text = field.strip()
        if not text:
            values.append(math.nan)  # a missing value
            continue
        try:
            values.append(float(text))
        except ValueError:
            hint = " (send CSV without a header row)" if number == 1 else ""
            raise BadRequest(
                f"CSV line {number}, column {column}: {_shown(text)} is not a number{hint}"
            ) from None
    return values


def decode_json(body: bytes) -> tuple[np.ndarray, list[str] | None]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from None
    rows, columns = _json_rows(document)
    return _to_array(rows, "JSON"), columns


def _json_rows(document: Any) -> tuple[list[Any], list[str] | None]:
    if isinstance(document, list):
        return _rows_of(document, "The JSON list"), None
    if not isinstance(document, dict):
        raise BadRequest(
            f"The JSON body is a {type(document).__name__}; send a list of rows or an object "
            'such as {"instances": [[...], ...]}'
        )
    for key in ("instances", "inputs"):
        if key in document:
            return _rows_of(document[key], f'"{key}"'), None
    if "dataframe_split" in document:
        return _dataframe_split(document["dataframe_split"])
    if "dataframe_records" in document:
        return _dataframe_records(document["dataframe_records"])
    if "features" in document or "data" in document:
        return [_row_values(document, 1)], None
    keys = ", ".join(sorted(map(str, document))[:10]) or "none"
    raise BadRequest(
        "The JSON object needs one of the keys instances, inputs, dataframe_split or "
        f"dataframe_records (it has: {keys})"
    )


def _rows_of(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise BadRequest(f"{where} must be a non-empty list of rows")
    if not isinstance(value[0], (list, dict)):
        return [value]  # a flat list of numbers is one row
    return [_row_values(row, number) for number, row in enumerate(value, 1)]


def _row_values(row: Any, number: int) -> Any:
    if isinstance(row, list):
        return row
    if isinstance(row, dict):
        # SageMaker's {"features": [...]} and {"data": {"features": {"values": [...]}}}.
        if isinstance(row.get("features"), list):
            return row["features"]
        data = row.get("data")
        if isinstance(data, dict) and isinstance(data.get("features"), dict):
            values = data["features"].get("values")
            if isinstance(values, list):
                return values
    raise BadRequest(
        f'Row {number} of the JSON body is not a list of numbers or {{"features": [...]}}'
    )


def _dataframe_split(split: Any) -> tuple[list[Any], list[str] | None]:
    if not isinstance(split, dict) or not isinstance(split.get("data"), list):
        raise BadRequest('"dataframe_split" must be an object with "data": [[...], ...]')
    columns = split.get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
    ):
        raise BadRequest('"dataframe_split" "columns" must be a list of column names')
    rows = _rows_of(split["data"], '"dataframe_split" "data"')
    if columns is not None:
        for number, row in enumerate(rows, 1):
            if len(row) != len(columns):
                raise BadRequest(
                    f'"dataframe_split" row {number} has {len(row)} values for '
                    f"{len(columns)} columns"
                )
    return rows, columns


def _dataframe_records(records: Any) -> tuple[list[Any], list[str]]:
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        raise BadRequest('"dataframe_records" must be a non-empty list of {"column": value}')
    columns = [str(name) for name in records[0]]
    rows = []
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict) or set(record) != set(columns):
            raise BadRequest(
                f'"dataframe_records" record {number} must have the columns of record 1: '
                f"{', '.join(columns)}"
            )
        rows.append([record[name] for name in columns])
    return rows, columns


def _to_array(rows: list[Any], what: str) -> np.ndarray:
    try:
        array = np.array(rows, dtype=np.float64)
    except (ValueError, TypeError):
        raise _row_error(rows, what) from None
    if array.ndim != 2 or array.shape[1] == 0:
        raise BadRequest(f"The {what} body must hold rows of numbers (a list of lists)")
    return array


def _row_error(rows: list[Any], what: str) -> BadRequest:
    """What makes `rows` not a table of numbers, in words."""
    width = len(rows[0]) if isinstance(rows[0], list) else None
    for number, row in enumerate(rows, 1):
        if not isinstance(row, list):
            return BadRequest(f"Row {number} of the {what} body is not a list of numbers")
        if len(row) != width:
            return BadRequest(
                f"Row {number} of the {what} body has {len(row)} values but row 1 has {width}; "
                "every row needs the same number of features"
            )
        for column, value in enumerate(row, 1):
            if value is None:
                continue
            try:
                float(value)
            except (ValueError, TypeError):
                return BadRequest(
                    f"Row {number}, column {column} of the {what} body: {_shown(str(value))} "
                    "is not a number"
                )
    return BadRequest(f"The {what} body must hold rows of numbers")


def decode_jsonlines(body: bytes) -> np.ndarray:
    rows = []
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"JSON Lines line {number} is not valid JSON: {exc}") from None
        rows.append(_row_values(value, number))
    if not rows:
        raise BadRequest("The JSON Lines body has no rows; send one row per line")
    return _to_array(rows, "JSON Lines")


def decode_npy(body: bytes) -> np.ndarray:
    if not body.startswith(NPY_MAGIC):
        raise BadRequest(
            "The body is not a .npy array (numpy.save bytes start with \\x93NUMPY); "
            ".npz archives are not taken"
        )
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BadRequest(f"The .npy body cannot be read: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise BadRequest(f"The .npy array holds {array.dtype}; send numbers")
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or 0 in array.shape:
        raise BadRequest(
            f"The .npy array has shape {array.shape}; send one row (1-D) or rows (2-D)"
        )
    return array.astype(np.float64, copy=False)
