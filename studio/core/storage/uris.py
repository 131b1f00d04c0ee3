"""The one parser of the URIs a request names (docs/security.md, "URIs").

The access check and every reader and writer of the store parse with `parse_uri`, so a value the
check lets through is exactly the value that is used: there is no second reading of the text
that could disagree with the first (as `strip('"')` and `urlparse` once did).

What it decides, once:
- Surrounding ASCII whitespace is removed, and a value that is a JSON string is decoded once
  (the SageMaker SDK sends hyperparameters JSON-encoded: `'"s3://bucket/code.tar.gz"'`), then
  its surrounding whitespace removed. Nothing else is rewritten: no percent-decoding (`%2e`
  is a literal key character; `%` in a bucket is refused), no case folding but the scheme's.
- Schemes are case-insensitive (`S3://` is `s3://`); only `s3` and `file` exist.
- Refused, naming the field and the rule: control characters anywhere (NUL, tab, newline),
  backslashes, `?` and `#` (a query or a fragment: S3 URIs have neither), a user, port or
  anything else in the bucket that is not an S3 bucket name (lowercase, 3-63 characters),
  `.` and `..` segments, empty segments (`a//b` would name the same file as `a/b`), segments
  over 255 bytes, keys over 1024 bytes, and a `file://` URI with a host.
"""

import json
import re
from dataclasses import dataclass

from studio.core.errors import ValidationException

SCHEMES = ("s3", "file")
SPACE = " \t\n\r\f\v"
BUCKET_RULE = (
    "3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or "
    "digit (no user, port, percent-encoding or '..')"
)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_KEY_BYTES = 1024  # S3's limit
MAX_SEGMENT_BYTES = 255  # a file name's limit on the local backend


@dataclass(frozen=True)
class ParsedUri:
    """A URI as Studio reads it. `key` is the object key or prefix for `s3` ("" for the whole
    bucket, never starting with "/"), and the absolute host path for `file`."""

    scheme: str
    bucket: str
    key: str

    def __str__(self) -> str:
        if self.scheme == "file":
            return f"file://{self.key}"
        return f"s3://{self.bucket}/{self.key}"


def normalise(value: str) -> str:
    """`value` without surrounding whitespace, and decoded once if it is a JSON string (as the
    SageMaker SDK encodes hyperparameters): `' "\\tS3://b/x" '` is `S3://b/x`. A value in
    quotes that is not valid JSON is left as it is (and so refused as a URI)."""
    text = value.strip(SPACE)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        text = decoded.strip(SPACE)
    return text


def names_storage(value: str) -> bool:
    """Whether the access check must look at `value`: whether it names s3:// or file:// once
    normalised, or once any quotes and whitespace around it are gone. Wider than what
    `parse_uri` takes, so that a caller that strips quotes itself still hands the store only
    a value the check has seen (and refused: `'"" S3://studio-d-other/x ""'` is malformed)."""
    for text in (normalise(value), value.strip(SPACE + '"')):
        match = _SCHEME.match(text)
        if match is not None and match.group(1).lower() in SCHEMES:
            return True
    return False


def _refuse(field: str, uri: str, rule: str) -> None:
    raise ValidationException(f"{field}: {uri!r} {rule}.", field)


def _check_key(key: str, field: str, uri: str) -> None:
    if len(key.encode()) > MAX_KEY_BYTES:
        _refuse(field, uri, f"has a key longer than {MAX_KEY_BYTES} bytes")
    if not key:
        return
    segments = key.split("/")
    if segments[-1] == "":  # a prefix: s3://bucket/data/
        segments.pop()
    for segment in segments:
        if segment in ("", ".", ".."):
            _refuse(field, uri, "may not contain empty, '.' or '..' path segments")
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            _refuse(field, uri, f"has a path segment longer than {MAX_SEGMENT_BYTES} bytes")


def parse_uri(uri: object, field: str) -> ParsedUri:
    """The scheme, bucket and key `uri` names, or ValidationException naming `field` and the
    rule it breaks (module docstring)."""
    if not isinstance(uri, str):
        raise ValidationException(f"{field} must be a string URI.", field)
    text = normalise(uri)
    if _CONTROL.search(text):
        _refuse(field, uri, "may not contain control characters (NUL, tab, newline)")
    if "\\" in text:
        _refuse(field, uri, "may not contain backslashes")
    if '"' in text:
        _refuse(field, uri, "may not contain double quotes (but one JSON-encoded pair around it)")
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else None
    if scheme not in SCHEMES or not text[match.end() :].startswith("//"):
        _refuse(field, uri, "must be an s3://bucket/key URI")
    if "?" in text or "#" in text:
        _refuse(field, uri, "may not have a query or fragment ('?' or '#')")
    authority, _, key = text[match.end() + 2 :].partition("/")
    if scheme == "file":
        if authority:
            _refuse(field, uri, "must be file:///absolute/path, without a host")
        _check_key(key, field, uri)
        return ParsedUri("file", "", "/" + key)
    if not _BUCKET.fullmatch(authority) or ".." in authority:
        _refuse(field, uri, f"must name a bucket of {BUCKET_RULE}")
    _check_key(key, field, uri)
    return ParsedUri("s3", authority, key)
