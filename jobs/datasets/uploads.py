"""Receiving an upload: its format from its name, a name safe in a URI, and a size limit that
stops Django spooling a file past it."""

import re
from pathlib import Path
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from studio.core.errors import ValidationException

FORMATS = {".csv": "csv", ".parquet": "parquet"}
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
