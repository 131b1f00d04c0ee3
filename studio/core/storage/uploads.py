"""Uploads into the artifact store: streamed to disk under a size limit, then inspected.

Inspection reads a file in bounded chunks whatever its size: it checks that a CSV really is text
CSV (and says which line is not), counts its rows, infers column types and keeps the first rows
as a preview; for Parquet it reads the footer and the first rows only.
"""

import codecs
import csv
import math
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from studio.core import storage
from studio.core.errors import ValidationException

PREVIEW_ROWS = 20
# Types come from the first rows: parsing every cell of a large file in Python would take far
# longer than the upload itself, and a column's type shows in its first thousands of values.
INFER_ROWS = 10_000
MAX_PREVIEW_CELL = 200  # characters; a preview is for looking at, not for the data itself
CHUNK = 1024 * 1024

FORMATS = {".csv": "csv", ".parquet": "parquet"}
# What a file named .csv may really be; checked first, so the message can say what it is.
MAGIC = [
    (b"PAR1", "a Parquet file (it starts with PAR1); upload it with a .parquet name"),
    (b"PK\x03\x04", "a zip archive (an Excel workbook is one); export it as CSV"),
    (b"\x1f\x8b", "a gzip archive; decompress it first"),
    (b"%PDF", "a PDF document"),
]
NOT_COMMA_OR_NEWLINE = bytes(b for b in range(256) if b not in b",\n")
SPACE = b" \t\r\x0c"
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
INT = re.compile(r"[+-]?\d+", re.ASCII)
FLOAT = re.compile(
    r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", re.I | re.ASCII
)
BOOL = frozenset({"true", "false"})
SAFE_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def human_size(n: int) -> str:
    """512 MiB, 1.5 GiB, 10 bytes: sizes as people read them."""
    if n < 1024:
        return f"{n} bytes"
    size = n / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.4g} {unit}"
        size /= 1024
    return f"{size:.4g} TiB"


def file_format(file_name: str) -> str:
    """csv or parquet, from the name's extension."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in FORMATS:
        raise ValidationException(f"{file_name!r} must be a .csv or .parquet file.", "File")
    return FORMATS[suffix]


def safe_file_name(file_name: str, fmt: str) -> str:
    """The uploaded name, reduced to characters that are safe in a URI and a path."""
    stem = SAFE_FILE_NAME.sub("-", Path(file_name).stem).strip(".-")
    return f"{stem or 'data'}.{fmt}"


# Receiving ---------------------------------------------------------------------------------


class SizeLimitHandler(FileUploadHandler):
    """First in a request's upload handlers: stops storing a file once it passes the limit.

    Django spools large uploads to a temporary file before a view runs; without this a 50 GiB
    upload would fill the disk before the service could refuse it. The rest of the request is
    still read (and dropped) so the browser gets the error page instead of a reset connection.
    """

    def __init__(self, limit: int, request: Any = None):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded: str | None = None  # the file name, once it went over

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        self.received = 0
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = self.file_name
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def too_large(file_name: str, limit: int) -> ValidationException:
    return ValidationException(
        f"{file_name} is larger than the upload limit of {human_size(limit)}.", "File"
    )


def receive(uploaded: UploadedFile, limit: int) -> Path:
    """Copy an upload chunk by chunk into a staging file in the store; return its path.

    Staging sits on the store's file system, so publishing it is an atomic rename; its folder
    name is not a valid bucket name, so no URI can reach a half-written upload.
    """
    name = uploaded.name or "upload"
    if uploaded.size is not None and uploaded.size > limit:
        raise too_large(name, limit)
    staging = storage.root() / ".uploads"
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"{secrets.token_hex(8)}.part"
    written = 0
    try:
        with path.open("wb") as out:
            for chunk in uploaded.chunks(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise too_large(name, limit)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


# Inspecting --------------------------------------------------------------------------------


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


def infer_types(rows: Iterable[list[str]], width: int) -> list[str]:
    types: list[str | None] = [None] * width
    for row in rows:
        for i, value in enumerate(row):
            types[i] = merge_types(types[i], cell_type(value))
    # A column with no values at all can only be read back as text.
    return [t or "string" for t in types]


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


def _not_csv(file_name: str, why: str) -> ValidationException:
    return ValidationException(f"{file_name} is not a CSV file: {why}.", "File")


def _check_text(path: Path, file_name: str) -> bool:
    """Refuse binary content, naming the line: a magic number, NUL or control bytes, or bytes
    that are not UTF-8 (what pandas, and so the training containers, read CSV as). Returns
    whether every record is one line ending in a newline: no quote characters (a quoted field
    may hold newlines) and no old Mac line ends (a bare carriage return)."""
    with path.open("rb") as f:
        head = f.read(8)
        for magic, what in MAGIC:
            if head.startswith(magic):
                raise _not_csv(file_name, f"it is {what}")
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines_before = 0
        simple = True
        while chunk := f.read(CHUNK):
            # A CRLF split across two chunks counts as a bare CR: only ever the slower path.
            simple = simple and b'"' not in chunk and chunk.count(b"\r") == chunk.count(b"\r\n")
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
    return simple


def _rows(path: Path, file_name: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each record, streamed; blank lines are not records."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, strict=True)
        try:
            for row in reader:
                if len(row) > 1 or (row and row[0].strip()):
                    yield reader.line_num, row
        except csv.Error as e:
            raise _not_csv(file_name, f"line {reader.line_num}: {e}") from None


def _records(path: Path, file_name: str) -> Iterator[tuple[int, list[str]]]:
    """Records, each checked to have as many fields as the first."""
    width = first_line = 0
    for line, row in _rows(path, file_name):
        if not width:
            width, first_line = len(row), line
        elif len(row) != width:
            raise _not_csv(
                file_name, f"line {line} has {len(row)} fields, but line {first_line} has {width}"
            )
        yield line, row


def _count_lines(path: Path, width: int, first_line: int, file_name: str) -> int:
    """Records in a file whose records are lines, checking that each has `width` fields, at
    bytes speed: with all but commas and newlines deleted, each record line reads ",,,"."""
    record = b"," * (width - 1)
    count = lines_before = 0

    def whole_lines(block: bytes) -> int:
        nonlocal lines_before
        commas = block.translate(None, NOT_COMMA_OR_NEWLINE).split(b"\n")
        commas.pop()  # what follows the block's last newline: nothing
        good = commas.count(record)
        if good != len(commas):
            # Blank lines are not records; a line of text without commas is a short one.
            texts = block.translate(None, SPACE).split(b"\n")
            if good + texts.count(b"") - 1 != len(commas):
                i = next(i for i, c in enumerate(commas) if c != record and texts[i])
                raise _not_csv(
                    file_name,
                    f"line {lines_before + i + 1} has {commas[i].count(b',') + 1} fields, "
                    f"but line {first_line} has {width}",
                )
        lines_before += len(commas)
        return good

    rest = b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            count += whole_lines(data[:cut])
            rest = data[cut:]
    return count + (whole_lines(rest + b"\n") if rest else 0)


def _clip(value: str) -> str:
    return value if len(value) <= MAX_PREVIEW_CELL else value[: MAX_PREVIEW_CELL - 1] + "…"


def inspect_csv(path: Path, file_name: str) -> TableInfo:
    """Check that `path` is text CSV with one column count throughout; count and preview it.

    Reads the file in bounded memory: once as bytes (binary content, encoding), then as
    records (through the csv module, as a quoted field may span lines).
    """
    size = path.stat().st_size
    if size == 0:
        raise _not_csv(file_name, "it is empty")
    lines_are_records = _check_text(path, file_name)
    records = _records(path, file_name)
    # The first rows decide the header and the types; the rest are only counted and checked.
    head = list(islice(records, INFER_ROWS + 1))
    if not head:
        raise _not_csv(file_name, "it has no rows, only blank lines")
    first_line, first = head[0]
    width = len(first)
    count = len(head)
    if count > INFER_ROWS:
        # The csv module parses some 20 MB/s; a file whose records are lines (with more than
        # one column, so that a blank line differs from an empty field) is counted from its
        # bytes instead, several times faster.
        if lines_are_records and width > 1:
            records.close()
            count = _count_lines(path, width, first_line, file_name)
        else:
            count += sum(1 for _ in records)
    rows = [row for _, row in head[1:]]
    has_header = looks_like_header(first, infer_types(rows, width))
    body = rows if has_header else [first, *rows]
    if not body:
        raise ValidationException(f"{file_name} has a header row but no data rows.", "File")
    types = infer_types(body, width)
    names = first if has_header else [f"column_{i + 1}" for i in range(width)]
    return TableInfo(
        row_count=count - 1 if has_header else count,
        columns=[{"name": n, "type": t} for n, t in zip(names, types, strict=True)],
        preview=[[_clip(c) for c in row] for row in body[:PREVIEW_ROWS]],
        has_header=has_header,
        size_bytes=size,
    )


def _arrow_type(arrow_type: Any) -> str:
    import pyarrow.types as pat

    if pat.is_boolean(arrow_type):
        return "bool"
    if pat.is_integer(arrow_type):
        return "int"
    if pat.is_floating(arrow_type) or pat.is_decimal(arrow_type):
        return "float"
    return "string"


def _json_cell(value: Any) -> Any:
    """A preview cell that JSON (and PostgreSQL's jsonb, which has no NaN) can hold."""
    if value is None or isinstance(value, bool | int | str):
        return _clip(value) if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _clip(str(value))


def inspect_parquet(path: Path, file_name: str) -> TableInfo:
    """Row count and schema from the footer; the preview from the first rows only."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(max(0, size - 4))
        tail = f.read(4)
    if size < 12 or head != b"PAR1" or tail != b"PAR1":
        raise ValidationException(
            f"{file_name} is not a Parquet file: it does not start and end with PAR1.", "File"
        )
    try:
        parquet = pq.ParquetFile(path)
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
        columns=[{"name": f.name, "type": _arrow_type(f.type)} for f in schema],
        preview=[[_json_cell(v) for v in row] for row in zip(*cells, strict=True)],
        has_header=True,
        size_bytes=size,
    )


def inspect(path: Path, fmt: str, file_name: str) -> TableInfo:
    info = inspect_csv(path, file_name) if fmt == "csv" else inspect_parquet(path, file_name)
    info.files = [file_name]
    return info


def inspect_files(files: list[tuple[str, Path]], where: str) -> tuple[str, TableInfo]:
    """The format and combined contents of a dataset made of several files (a processing job's
    output folder): every .csv or .parquet file in it, all of one format and one set of columns.
    Other files (markers such as _SUCCESS, manifests) are not data and are left out."""
    data = [(name, path) for name, path in files if Path(name).suffix.lower() in FORMATS]
    if not data:
        raise ValidationException(f"No .csv or .parquet files at {where}.", "S3Uri")
    formats = {FORMATS[Path(name).suffix.lower()] for name, _ in data}
    if len(formats) > 1:
        raise ValidationException(
            f"{where} mixes CSV and Parquet files; a dataset is one format.", "S3Uri"
        )
    fmt = formats.pop()
    total = inspect(data[0][1], fmt, data[0][0])
    for name, path in data[1:]:
        info = inspect(path, fmt, name)
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
