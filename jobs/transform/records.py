"""Records in and out of a transform: input objects read a line at a time into payloads, and
the container's answers cut back into one output line per input record, joined with the
record when asked.

Everything here reads the input as a stream: at most one payload of it is held at a time."""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from jobs.services.transform import CSV_TYPES, JSON_TYPES, media_type
from jobs.transform import jsonpath

# What an answer must be, to be cut into one line a record.
LINE_TYPES = (*CSV_TYPES, "application/jsonlines", "application/x-jsonlines", "text/plain")
SHOWN_BYTES = 1024  # of a container's error message, in a FailureReason


class TransformFailed(Exception):
    """The job cannot go on; the message is its FailureReason."""


@dataclass
class Payload:
    """One request's records (as read, and as sent: what InputFilter picks of them), and
    where the input stands once they are transformed."""

    records: list[bytes]
    sent: list[bytes]
    first: int  # the number of its first record in the object, from 1
    end: int  # the object's offset just past its last record

    @property
    def body(self) -> bytes:
        return b"\n".join(self.sent)


def _too_large(name: str, number: int, limit: int) -> TransformFailed:
    return TransformFailed(
        f"ClientError: record {number} of {name} is larger than MaxPayloadInMB "
        f"({limit // 2**20} MB); raise MaxPayloadInMB or split the record."
    )


def lines(
    stream: BinaryIO, offset: int, first: int, limit: int, name: str
) -> Iterator[tuple[bytes, int]]:
    """(record, offset past it) for each non-blank line of `stream` from `offset` (where
    record number `first` begins), without its line ending. A line longer than `limit` bytes
    raises TransformFailed once a little more than `limit` bytes of it are read: no record
    is held whole if it is too large."""
    number = first
    while True:
        raw = stream.readline(limit + 3)  # the record, "\r\n", and one byte more
        if not raw:
            return
        offset += len(raw)
        record = raw.rstrip(b"\r\n")
        if len(record) > limit:
            raise _too_large(name, number, limit)
        if record.strip():
            number += 1
            yield record, offset


@dataclass(frozen=True)
class Reading:
    """How an object is cut into payloads."""

    limit: int  # MaxPayloadInMB, in bytes
    strategy: str  # BatchStrategy
    split: str  # SplitType
    input_filter: list[jsonpath.Step]
    is_csv: bool


def _picked(record: bytes, number: int, name: str, reading: Reading) -> bytes:
    try:
        return jsonpath.select(record, reading.input_filter, reading.is_csv)
    except jsonpath.PathError as e:
        raise TransformFailed(
            f"ClientError: DataProcessing.InputFilter cannot pick from record {number} of "
            f"{name}: {e}."
        ) from None


def payloads(
    stream: BinaryIO, *, offset: int, first: int, name: str, reading: Reading
) -> Iterator[Payload]:
    """The object's payloads from `offset` (whose first record is number `first`): a record
    each for SingleRecord, as many as fit the limit for MultiRecord; the whole object for
    SplitType None."""
    limit = reading.limit
    if reading.split == "None":
        if offset:
            return
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise _too_large(name, 1, limit)
        yield Payload([data], [data], 1, len(data))
        return
    batch: list[bytes] = []
    sent: list[bytes] = []
    size = 0
    end = offset
    number = first
    for record, past in lines(stream, offset, first, limit, name):
        picked = _picked(record, number + len(batch), name, reading)
        fits = size + len(picked) + (1 if batch else 0) <= limit
        if batch and (reading.strategy == "SingleRecord" or not fits):
            yield Payload(batch, sent, number, end)
            number += len(batch)
            batch, sent, size = [], [], 0
        size += len(picked) + (1 if batch else 0)
        batch.append(record)
        sent.append(picked)
        end = past
    if batch:
        yield Payload(batch, sent, number, end)


def _json_records(body: bytes, count: int) -> list[bytes] | None:
    """A JSON answer cut into `count` values: a list of them, or an object holding one list
    of them (`{"predictions": [...]}`); the whole answer for a single record."""
    try:
        answer = jsonpath.loads(body)
    except ValueError:
        return None
    values = answer
    if isinstance(answer, dict) and len(answer) == 1:
        values = next(iter(answer.values()))
    if isinstance(values, list) and len(values) == count:
        return [_compact(value) for value in values]
    if count == 1:
        return [_compact(answer)]
    return None


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def answer_lines(body: bytes, content_type: str, count: int) -> list[bytes]:
    """The answer to a payload of `count` records, one line a record, or TransformFailed
    saying why it cannot be cut so."""
    kind = media_type(content_type)
    if kind in ("application/json", "text/json"):
        found = _json_records(body, count)
    elif kind in LINE_TYPES or not kind:
        found = body.splitlines()
        if found and not found[-1].strip():
            found.pop()
        if len(found) != count:
            found = None
    else:
        raise TransformFailed(
            f"ClientError: the model answered {content_type}, which has no lines to assemble; "
            "ask for text/csv, application/json or application/jsonlines (TransformOutput."
            "Accept), or give TransformOutput.AssembleWith None."
        )
    if found is None:
        raise TransformFailed(
            f"ClientError: the model answered a payload of {count} records with {kind or 'a'} "
            "body that is not one prediction a record; its answer must have a line (or a list "
            "element) per record."
        )
    return found


def _csv_fields(prediction: bytes) -> bytes:
    """A prediction as CSV fields: a CSV line as it is; a JSON number, string or list of
    them as its values."""
    try:
        value = jsonpath.loads(prediction)
    except ValueError:
        return prediction
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, (int, float, str, bool)) or v is None for v in values):
        values = [prediction.decode()]
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue().encode()


def join(record: bytes, prediction: bytes, content_type: str) -> bytes:
    """JoinSource Input: the input record with its prediction, as SageMaker joins them: a CSV
    record's fields then the prediction's; a JSON object with the prediction under
    "SageMakerOutput"; a JSON list with the prediction appended."""
    kind = media_type(content_type)
    if kind in CSV_TYPES:
        return record + b"," + _csv_fields(prediction)
    if kind not in JSON_TYPES:
        raise TransformFailed(f"ClientError: records of {content_type} cannot be joined.")
    try:
        source = jsonpath.loads(record)
    except ValueError as e:
        raise TransformFailed(
            f"ClientError: an input record is not JSON, so it cannot be joined: {e}."
        ) from None
    try:
        output: Any = jsonpath.loads(prediction)
    except ValueError:
        output = prediction.decode(errors="replace")
    if isinstance(source, dict):
        return _compact({**source, "SageMakerOutput": output})
    if isinstance(source, list):
        return _compact([*source, output])
    return _compact({"SageMakerInput": source, "SageMakerOutput": output})


def output_filtered(line: bytes, steps: list[jsonpath.Step], is_csv: bool, where: str) -> bytes:
    """What OutputFilter picks of one output line."""
    try:
        return jsonpath.select(line, steps, is_csv)
    except jsonpath.PathError as e:
        raise TransformFailed(
            f"ClientError: DataProcessing.OutputFilter cannot pick from the output of {where}: {e}."
        ) from None


def container_message(status: int, body: bytes) -> str:
    """What a container's error answer said, shortened for a FailureReason."""
    text = body[:SHOWN_BYTES].decode(errors="replace").strip()
    return f"{status} {text}" if text else str(status)
