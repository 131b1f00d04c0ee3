"""A request's body as it streams in, checked against what its signature and headers promise:
the hex SHA-256 of `x-amz-content-sha256`, each aws-chunked chunk's signature, a trailing
header's signature, `Content-MD5`, and an `x-amz-checksum-*` header or trailer (docs/s3.md,
"Authentication"). Nothing is buffered whole: the body is read piece by piece from the request
(Django spools a large one to a temporary file), and a failed check raises at the end, before
the caller renames what it wrote into place."""

import base64
import binascii
import hashlib
import hmac
import re
import struct
import zlib
from collections.abc import Iterator

from django.http import HttpRequest

from studio.core.storage import CHUNK
from studio.web.api.sigv4 import chunk_signature, trailer_signature
from studio.web.s3.auth import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    UNSIGNED,
    Signed,
)
from studio.web.s3.xml import S3Error

CHECKSUMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
# Checksums computed here; crc32c and crc64nvme are taken as the client states them.
_COMPUTED = {"crc32", "sha1", "sha256"}
_CHUNK_HEADER = re.compile(rb"([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?\r\n")
MAX_LINE = 4096
MAX_TRAILERS = 16


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return struct.pack(">I", self.value)


def incomplete() -> S3Error:
    return S3Error(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    )


def _chunk_error(why: str) -> S3Error:
    return S3Error(
        "InvalidChunkSizeError" if "size" in why else "InvalidRequest", f"aws-chunked body: {why}"
    )


class Body:
    """The payload of `request`, decoded, as `chunks()` yields it; once they are all read and
    checked, `md5` (hex) and `checksums` ({algorithm: base64 value}) describe it."""

    def __init__(self, request: HttpRequest, signed: Signed, limit: int):
        self.request = request
        self.signed = signed
        self.limit = limit
        self.size = 0
        self.md5 = ""
        self.checksums: dict[str, str] = {}
        headers = request.headers
        self._declared = {
            algorithm: headers[f"x-amz-checksum-{algorithm}"]
            for algorithm in CHECKSUMS
            if f"x-amz-checksum-{algorithm}" in headers
        }
        trailer = headers.get("x-amz-trailer", "").strip().lower()
        self._trailer = trailer.removeprefix("x-amz-checksum-") if trailer else ""
        if trailer and self._trailer not in CHECKSUMS:
            raise S3Error("InvalidRequest", f"x-amz-trailer {trailer} is not a checksum S3 knows.")
        self._content_md5 = headers.get("content-md5", "")
        length = headers.get("x-amz-decoded-content-length") or headers.get("content-length") or "0"
        if not length.isdigit():
            raise S3Error("InvalidArgument", "Content-Length must be a number of bytes.")
        self.declared_length = int(length)
        if self.declared_length > limit:
            raise entity_too_large(limit)

    def chunks(self) -> Iterator[bytes]:
        md5 = hashlib.md5(usedforsecurity=False)
        algorithms = set(self._declared) | ({self._trailer} if self._trailer else set())
        hashers = {a: _hasher(a) for a in algorithms & _COMPUTED}
        payload = self.signed.payload
        sha256 = (
            hashlib.sha256()
            if payload
            not in (
                UNSIGNED,
                STREAMING_SIGNED,
                STREAMING_SIGNED_TRAILER,
                STREAMING_UNSIGNED_TRAILER,
            )
            else None
        )
        if payload in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER):
            source = self._chunked(payload)
        else:
            source = self._plain()
        for data in source:
            self.size += len(data)
            if self.size > self.limit:
                raise entity_too_large(self.limit)
            md5.update(data)
            if sha256 is not None:
                sha256.update(data)
            for hasher in hashers.values():
                hasher.update(data)
            yield data
        if sha256 is not None and sha256.hexdigest() != payload:
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ClientComputedContentSHA256=payload,
                S3ComputedContentSHA256=sha256.hexdigest(),
            )
        if self._content_md5 and self._content_md5 != base64.b64encode(md5.digest()).decode():
            raise S3Error(
                "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
        for algorithm, stated in self._declared.items():
            self._check(algorithm, stated, hashers)
        self.md5 = md5.hexdigest()

    def _check(self, algorithm: str, stated: str, hashers: dict) -> None:
        if algorithm in hashers:
            computed = base64.b64encode(hashers[algorithm].digest()).decode()
            if computed != stated:
                raise S3Error(
                    "BadDigest",
                    f"The {algorithm.upper()} you specified did not match the calculated checksum.",
                )
        else:
            try:
                base64.b64decode(stated, validate=True)
            except binascii.Error:
                raise S3Error(
                    "InvalidRequest", f"Value for x-amz-checksum-{algorithm} header is invalid."
                ) from None
        self.checksums[algorithm] = stated

    def _plain(self) -> Iterator[bytes]:
        remaining = self.declared_length
        while remaining > 0:
            data = self.request.read(min(CHUNK, remaining))
            if not data:
                raise incomplete()
            remaining -= len(data)
            yield data

    def _chunked(self, payload: str) -> Iterator[bytes]:
        signed_chunks = payload != STREAMING_UNSIGNED_TRAILER
        previous = self.signed.seed_signature
        while True:
            line = self.request.readline(MAX_LINE)
            match = _CHUNK_HEADER.fullmatch(line)
            if match is None or (signed_chunks and match[2] is None):
                header = "<hex size>;chunk-signature=<signature>" if signed_chunks else "<hex size>"
                raise _chunk_error(f"a chunk must start with {header}\\r\\n")
            size = int(match[1], 16)
            digest = hashlib.sha256()
            while size:
                data = self.request.read(min(size, CHUNK))
                if not data:
                    raise incomplete()
                size -= len(data)
                digest.update(data)
                yield data
            if signed_chunks:
                expected = chunk_signature(
                    self.signed.key,
                    self.signed.stamp,
                    self.signed.credential,
                    previous,
                    digest.hexdigest(),
                )
                if not hmac.compare_digest(expected, match[2].decode()):
                    raise S3Error(
                        "SignatureDoesNotMatch",
                        "The chunk signature we calculated does not match the one you provided.",
                        403,
                    )
                previous = expected
            if int(match[1], 16) == 0:
                break
            if self.request.read(2) != b"\r\n":
                raise _chunk_error("a chunk's data must end with \\r\\n")
        if payload == STREAMING_SIGNED:
            rest = self.request.read(2)
            if rest not in (b"", b"\r\n"):
                raise _chunk_error("nothing may follow the final chunk")
            return
        self._trailers(previous, signed=payload == STREAMING_SIGNED_TRAILER)

    def _trailers(self, previous: str, *, signed: bool) -> None:
        trailers: list[tuple[str, str]] = []
        signature = None
        for _ in range(MAX_TRAILERS):
            line = self.request.readline(MAX_LINE)
            if line == b"":
                break
            if line in (b"\r\n", b"\n"):
                if trailers or signature:
                    break
                continue  # some clients end the last chunk with a blank line first
            name, colon, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            if not colon:
                raise _chunk_error("a trailing header must be <name>:<value>")
            name = name.strip().lower()
            if name == "x-amz-trailer-signature":
                signature = value.strip()
            else:
                trailers.append((name, value.strip()))
        if signed:
            canonical = "".join(f"{name}:{value}\n" for name, value in trailers)
            expected = trailer_signature(
                self.signed.key, self.signed.stamp, self.signed.credential, previous, canonical
            )
            if signature is None or not hmac.compare_digest(expected.encode(), signature.encode()):
                raise S3Error(
                    "SignatureDoesNotMatch",
                    "The trailer signature we calculated does not match the one you provided.",
                    403,
                )
        for name, value in trailers:
            if name == f"x-amz-checksum-{self._trailer}":
                self._declared[self._trailer] = value
        if self._trailer and self._trailer not in self._declared:
            raise S3Error(
                "InvalidRequest", f"The x-amz-checksum-{self._trailer} trailer is missing."
            )


def _hasher(algorithm: str):
    return _Crc32() if algorithm == "crc32" else hashlib.new(algorithm)


def entity_too_large(limit: int) -> S3Error:
    return S3Error(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        MaxSizeAllowed=str(limit),
    )
