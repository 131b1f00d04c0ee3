"""What a dataset file holds: row count, column types, whether the first row is a header, and
the first rows as a preview.

pyarrow does the reading. For CSV it parses the records (quoted fields, line ends, a UTF-8 byte
order mark), infers the column types from the first block and counts the rows block by block;
for Parquet the row count and schema come from the footer. What pyarrow does not do is here:
refusing a file that is not text CSV with a message that names the line (binary content, an
encoding other than UTF-8, which is what pandas and so the training containers read; rows of
another width; broken quoting), and guessing whether the first row names the columns.

Every file is read in bounded memory, through a seekable binary stream (an upload, or an object
of the artifact store).
"""

import codecs
import contextlib
import csv
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pyarrow.types as pa_types

from jobs.datasets.uploads import FORMATS
from studio.core.errors import ValidationException

PREVIEW_ROWS = 20
# pyarrow reads CSV in blocks of this size, and takes the column types from the first: a
# column's type shows in its first thousands of values, and a record may not be longer.
BLOCK_BYTES = 8 * 2**20
MAX_PREVIEW_CELL = 200  # characters; a preview is for looking at, not for the data itself
CHUNK = 2**20

# What a file named .csv may really be; checked first, so the message can say what it is.
MAGIC = [
    (b"PAR1", "a Parquet file (it starts with PAR1); upload it with a .parquet name"),
    (b"PK\x03\x04", "a zip archive (an Excel workbook is one); export it as CSV"),
    (b"\x1f\x8b", "a gzip archive; decompress it first"),
    (b"%PDF", "a PDF document"),
]
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# How the header guess reads one cell of the first row.
INT = re.compile(r"[+-]?\d+", re.ASCII)
FLOAT = re.compile(
    r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", re.I | re.ASCII
)
BOOL = frozenset({"true", "false"})
# What pyarrow reads as booleans: not 1 and 0, which make a column of numbers.
TRUE_VALUES = ["true", "True", "TRUE"]
FALSE_VALUES = ["false", "False", "FALSE"]


@dataclass
class TableInfo:
    """What a dataset file holds, as shown on its page and stored with it."""

    row_count: int
    columns: list[dict[str, str]]
    preview: list[list[Any]]
    has_header: bool = False
    size_bytes: int = 0
    files: list[str] = field(default_factory=list)


def cell_type(value: str) -> str | None:
    """int, float, bool or string for one CSV cell; None for an empty (missing) one."""
    value = value.strip()
    if not value:
        return None
    if INT.fullmatch(value):
        return "int"
    if FLOAT.fullmatch(value):
        return "float"
    if value.lower() in BOOL:
        return "bool"
    return "string"


def merge_types(a: str | None, b: str | None) -> str | None:
    """The narrowest type holding both: int and float make float; anything else mixed, string."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    if {a, b} == {"int", "float"}:
        return "float"
    return "string"


def looks_like_header(first: list[str], body_types: list[str]) -> bool:
    """Whether the first row names the columns rather than holding data, as a reader would
    guess: every cell is a non-empty label, not a number; and either some column below it is
    numeric, or (with no evidence either way) the labels are distinct, as names are."""
    kinds = [cell_type(c) for c in first]
    if any(k is None or k != "string" for k in kinds):
        return False
    if any(t != "string" for t in body_types):
        return True
    return len(set(first)) == len(first)


def _type_name(arrow_type: pa.DataType) -> str:
    """int, float, bool or string for a column pyarrow read; a column with no values at all
    (null) can only be read back as text, and so can dates and times."""
    if pa_types.is_boolean(arrow_type):
        return "bool"
    if pa_types.is_integer(arrow_type):
        return "int"
    if pa_types.is_floating(arrow_type) or pa_types.is_decimal(arrow_type):
        return "float"
    return "string"


def _clip(value: str) -> str:
    return value if len(value) <= MAX_PREVIEW_CELL else value[: MAX_PREVIEW_CELL - 1] + "…"


# CSV -----------------------------------------------------------------------------------------


def _not_csv(file_name: str, why: str) -> ValidationException:
    return ValidationException(f"{file_name} is not a CSV file: {why}.", "File")


def _check_text(file: BinaryIO, file_name: str) -> int:
    """Refuse binary content, naming the line: a magic number, NUL or control bytes, or bytes
    that are not UTF-8. Returns how many quote characters the file holds."""
    file.seek(0)
    head = file.read(8)
    for magic, what in MAGIC:
        if head.startswith(magic):
            raise _not_csv(file_name, f"it is {what}")
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = quotes = 0
    while chunk := file.read(CHUNK):
        quotes += chunk.count(b'"')
        bad = CONTROL_BYTES.search(chunk)
        if bad:
            line = lines_before + chunk.count(b"\n", 0, bad.start()) + 1
            what = "a NUL byte" if chunk[bad.start()] == 0 else "binary (control) bytes"
            raise _not_csv(file_name, f"line {line} contains {what}")
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as e:
            line = lines_before + chunk.count(b"\n", 0, max(0, e.start - pending)) + 1
            raise _not_csv(file_name, f"line {line} is not UTF-8 text") from None
        lines_before += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_csv(file_name, f"line {lines_before + 1} ends mid-character") from None
    return quotes


def _find_fault(file: BinaryIO, file_name: str) -> None:
    """Read the file record by record with the csv module, strictly, and raise the refusal
    that names the first bad line: broken quoting, a record of another width than the first,
    or no records at all. Slow (some 20 MB/s), so only run once pyarrow refused the file or
    its quotes do not pair up, to say where the fault is (or that there is none)."""
    file.seek(0)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text, strict=True)
        width = first_line = 0
        try:
            for row in reader:
                if len(row) <= 1 and not (row and row[0].strip()):
                    continue  # a blank line is not a record
                if not width:
                    width, first_line = len(row), reader.line_num
                elif len(row) != width:
                    raise _not_csv(
                        file_name,
                        f"line {reader.line_num} has {len(row)} fields, "
                        f"but line {first_line} has {width}",
                    )
        except csv.Error as e:
            raise _not_csv(file_name, f"line {reader.line_num}: {e}") from None
        if not width:
            raise _not_csv(file_name, "it has no rows, only blank lines")
    finally:
        text.detach()  # the caller's stream stays open


def _skip_blank(row: pa_csv.InvalidRow) -> str:
    """pyarrow skips empty lines itself; a line of spaces is blank too, not a short record."""
    return "skip" if not row.text.strip() else "error"


def _reader(
    file: BinaryIO, quoted: bool, width: int = 0, skip: int = 0
) -> pa_csv.CSVStreamingReader:
    """pyarrow's reader of `file`, every row data (columns f0, f1, ...): with `width`, every
    column text as written; else with types inferred from the first block. `skip` rows are
    left out at the start."""
    file.seek(0)
    convert = pa_csv.ConvertOptions(
        null_values=[""],
        true_values=TRUE_VALUES,
        false_values=FALSE_VALUES,
        column_types={f"f{i}": pa.string() for i in range(width)},
    )
    return pa_csv.open_csv(
        file,
        read_options=pa_csv.ReadOptions(
            autogenerate_column_names=True, block_size=BLOCK_BYTES, skip_rows_after_names=skip
        ),
        # A quoted field may hold newlines; reading as if none did is faster.
        parse_options=pa_csv.ParseOptions(
            newlines_in_values=quoted, invalid_row_handler=_skip_blank
        ),
        convert_options=convert,
    )


def _batches(reader: pa_csv.CSVStreamingReader) -> Iterator[pa.RecordBatch]:
    """The reader's batches; for a single column, without its blank rows (pyarrow reads a line
    of spaces as a value, and the csv module as a blank line)."""
    for batch in reader:
        if batch.num_columns == 1:
            column = batch.column(0)
            blank = pc.equal(pc.utf8_trim_whitespace(column), "")
            batch = batch.filter(pc.invert(pc.fill_null(blank, False)))
        yield batch


def _read_csv(file: BinaryIO, file_name: str, quoted: bool) -> TableInfo:
    """Column types, header, row count and preview, as pyarrow reads them."""
    all_types = [_type_name(t) for t in _reader(file, quoted).schema.types]
    width = len(all_types)
    count = 0
    head: list[list[str]] = []
    for batch in _batches(_reader(file, quoted, width)):
        count += batch.num_rows
        if len(head) <= PREVIEW_ROWS:
            columns = [c.to_pylist() for c in batch.slice(0, PREVIEW_ROWS + 1 - len(head)).columns]
            head.extend(list(row) for row in zip(*columns, strict=True))
    if not count:
        raise _not_csv(file_name, "it has no rows, only blank lines")
    first = head[0]
    body_types = (
        [_type_name(t) for t in _reader(file, quoted, skip=1).schema.types]
        if count > 1
        else ["string"] * width
    )
    has_header = looks_like_header(first, body_types)
    if has_header and count == 1:
        raise ValidationException(f"{file_name} has a header row but no data rows.", "File")
    types = body_types if has_header else all_types
    body = head[1:] if has_header else head
    names = first if has_header else [f"column_{i + 1}" for i in range(width)]
    return TableInfo(
        row_count=count - 1 if has_header else count,
        columns=[{"name": n, "type": t} for n, t in zip(names, types, strict=True)],
        preview=[[_clip(c) for c in row] for row in body[:PREVIEW_ROWS]],
        has_header=has_header,
    )


def inspect_csv(file: BinaryIO, file_name: str) -> TableInfo:
    """Check that `file` is text CSV with one column count throughout; count and preview it."""
    size = file.seek(0, io.SEEK_END)
    if size == 0:
        raise _not_csv(file_name, "it is empty")
    quotes = _check_text(file, file_name)
    if quotes % 2:
        _find_fault(file, file_name)  # a quote left open; or only quotes inside unquoted text
    try:
        info = _read_csv(file, file_name, quoted=quotes > 0)
    except pa.ArrowInvalid as refused:
        _find_fault(file, file_name)
        why = str(refused).removeprefix("CSV parse error: ")
        raise _not_csv(file_name, why.rstrip(".")) from None
    info.size_bytes = size
    return info


# Parquet -------------------------------------------------------------------------------------


def _json_cell(value: Any) -> Any:
    """A preview cell that JSON (and PostgreSQL's jsonb, which has no NaN) can hold."""
    if value is None or isinstance(value, bool | int | str):
        return _clip(value) if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _clip(str(value))


def inspect_parquet(file: BinaryIO, file_name: str) -> TableInfo:
    """Row count and schema from the footer; the preview from the first rows only."""
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    head = file.read(4)
    file.seek(max(0, size - 4))
    tail = file.read(4)
    if size < 12 or head != b"PAR1" or tail != b"PAR1":
        raise ValidationException(
            f"{file_name} is not a Parquet file: it does not start and end with PAR1.", "File"
        )
    try:
        parquet = pq.ParquetFile(file)
        schema = parquet.schema_arrow
        batch = next(parquet.iter_batches(batch_size=PREVIEW_ROWS), None)
    except (pa.ArrowException, OSError) as e:
        raise ValidationException(
            f"{file_name} is not a readable Parquet file: {e}", "File"
        ) from None
    # By position, not name: Parquet allows two columns of one name.
    cells = [] if batch is None else [column.to_pylist() for column in batch.columns]
    return TableInfo(
        row_count=parquet.metadata.num_rows,
        columns=[{"name": f.name, "type": _type_name(f.type)} for f in schema],
        preview=[[_json_cell(v) for v in row] for row in zip(*cells, strict=True)],
        has_header=True,
        size_bytes=size,
    )


# Files ---------------------------------------------------------------------------------------


def inspect(file: BinaryIO, fmt: str, file_name: str) -> TableInfo:
    info = inspect_csv(file, file_name) if fmt == "csv" else inspect_parquet(file, file_name)
    info.files = [file_name]
    return info


def inspect_files(
    names: list[str],
    open_file: Callable[[str], BinaryIO],
    where: str,
    suffixes: dict[str, str] | None = None,
) -> tuple[str, TableInfo]:
    """The format and combined contents of a dataset made of several files (a processing job's
    output folder): every .csv or .parquet file in it (and those with `suffixes`, a suffix to
    format map: a transform job's `.out` files), all of one format and one set of columns,
    each opened by `open_file(name)`. Other files (markers such as _SUCCESS, manifests) are not
    data and are left out."""
    known = {**FORMATS, **(suffixes or {})}
    data = [name for name in names if Path(name).suffix.lower() in known]
    if not data:
        raise ValidationException(f"No .csv or .parquet files at {where}.", "S3Uri")
    formats = {known[Path(name).suffix.lower()] for name in data}
    if len(formats) > 1:
        raise ValidationException(
            f"{where} mixes CSV and Parquet files; a dataset is one format.", "S3Uri"
        )
    fmt = formats.pop()
    total: TableInfo | None = None
    for name in data:
        with contextlib.closing(open_file(name)) as file:
            info = inspect(file, fmt, name)
        if total is None:
            total = info
            continue
        if [c["name"] for c in info.columns] != [c["name"] for c in total.columns]:
            raise ValidationException(
                f"{name} has different columns from {total.files[0]} at {where}.", "S3Uri"
            )
        total.row_count += info.row_count
        total.size_bytes += info.size_bytes
        total.files.append(name)
        total.columns = [
            {"name": a["name"], "type": merge_types(a["type"], b["type"]) or "string"}
            for a, b in zip(total.columns, info.columns, strict=True)
        ]
    return fmt, total
