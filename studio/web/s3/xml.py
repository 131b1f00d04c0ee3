"""S3's answers and errors as XML (the namespace and element names of botocore's s3 model)."""

import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from xml.etree import ElementTree as ET

from django.http import HttpResponse

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
# Characters XML 1.0 cannot hold: a name or header echoed in an answer has them escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


class S3Error(Exception):
    """An error S3 answers with: its code, HTTP status and message, and the extra elements it
    names (BucketName, Key, UploadId...)."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: str):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def access_denied(message: str = "Access Denied") -> S3Error:
    return S3Error("AccessDenied", message, 403)


def timestamp(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as S3 writes LastModified in XML."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def http_date(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _build(parent: ET.Element, name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, list):
        for item in value:
            _build(parent, name, item)
        return
    child = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _build(child, key, item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    else:
        child.text = xml_text(value)


def document(root: str, members: dict[str, object], text: str | None = None) -> bytes:
    """`<root xmlns=S3>` with `members` as elements: a list repeats its element, a dict
    nests, None is left out. Or `text` as its content."""
    element = ET.Element(root, xmlns=NAMESPACE)
    element.text = None if text is None else xml_text(text)
    for name, value in members.items():
        _build(element, name, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element)


def request_ids() -> dict[str, str]:
    return {
        "x-amz-request-id": secrets.token_hex(8).upper(),
        "x-amz-id-2": secrets.token_urlsafe(48),
    }


def answer(
    root: str | None = None,
    members: dict[str, object] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    text: str | None = None,
) -> HttpResponse:
    """An S3 answer: an XML document (or no body), with the request ids S3 always sends."""
    body = document(root, members or {}, text) if root else b""
    response = HttpResponse(body, status=status, content_type="application/xml" if root else None)
    if not root:
        del response["Content-Type"]
    for name, value in {**request_ids(), **(headers or {})}.items():
        response[name] = value
    return response


def error(err: S3Error, resource: str, head: bool = False) -> HttpResponse:
    """S3's `<Error>` document; for HEAD, the status alone (S3 sends no body to HEAD)."""
    ids = request_ids()
    members: dict[str, object] = {"Code": err.code, "Message": err.message, **err.extra}
    members.update({"Resource": resource, "RequestId": ids["x-amz-request-id"]})
    body = b"" if head else _error_document(members)
    response = HttpResponse(body, status=err.status, content_type="application/xml")
    for name, value in ids.items():
        response[name] = value
    return response


def _error_document(members: dict[str, object]) -> bytes:
    element = ET.Element("Error")
    for name, value in members.items():
        _build(element, name, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element)


def parse(body: bytes, root: str) -> ET.Element:
    """A request's XML document whose root is `root` (with or without S3's namespace), or
    MalformedXML. Entities and DTDs are refused: ElementTree expands no external ones, and a
    document with a DOCTYPE is not S3's."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise malformed()
    try:
        element = ET.fromstring(body)
    except ET.ParseError:
        raise malformed() from None
    if local(element.tag) != root:
        raise malformed()
    return element


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def children(element: ET.Element, name: str) -> Iterable[ET.Element]:
    return (child for child in element if local(child.tag) == name)


def text_of(element: ET.Element, name: str) -> str | None:
    for child in children(element, name):
        return (child.text or "").strip()
    return None


def malformed() -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
