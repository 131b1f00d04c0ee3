"""The artifact store (DESIGN.md §3.6): where datasets, job inputs and job outputs live, behind
one small interface that every reader and writer uses.

A backend maps `s3://bucket/key` URIs to objects. `LocalArtifactStore` (the default) keeps
them as files below `$STUDIO_DATA_DIR/artifacts/<bucket>/<key>`; an S3 backend (any endpoint
URL) and Studio's own S3-compatible endpoint plug in here, so that nothing above this module
knows where objects are kept. The local backend's `path` is the only place a URI becomes a
path on the host.

Every method parses its URI with `uris.parse_uri`, the parser the access check uses, and
refuses `file://` URIs unless an admin allows them (docs/security.md, "URIs"): a reader that
was handed a URI no check saw still cannot open the host. Keys are joined to the bucket's
directory with `paths.safe_join` (docs/security.md, "Names").
"""

import os
import secrets
import shutil
import stat
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from studio.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from studio.core.storage import files, paths
from studio.core.storage.uris import ParsedUri, parse_uri

CHUNK = 1024 * 1024


def refuse_host_files(parsed: ParsedUri, field: str) -> None:
    """ValidationException for a `file://` URI unless an admin set STUDIO_ALLOW_FILE_URIS."""
    if parsed.scheme == "file" and not settings.STUDIO_ALLOW_FILE_URIS:
        raise ValidationException(
            f"{field}: file:// URIs name files on the worker's host, which Studio does not open "
            "to jobs. Upload the data as a dataset and use its s3:// URI (on a single-user "
            "install an admin may set STUDIO_ALLOW_FILE_URIS=1).",
            field,
        )


def child_uri(uri: str, name: str) -> str:
    """`uri` (a prefix, in the parser's form) with the relative `name` below it."""
    return uri + ("" if uri.endswith("/") else "/") + name


@dataclass(frozen=True)
class StoredObject:
    """One object: its name relative to the URI it was listed under (its own file name when
    that URI named it), its URI, and its size in bytes."""

    name: str
    uri: str
    size: int


class ArtifactStore(ABC):
    """What a backend does. `field` names the request member a URI came from, for errors."""

    @abstractmethod
    def open(self, uri: str, field: str = "S3Uri") -> BinaryIO:
        """The object `uri` names, as a binary stream to read (and close); ResourceNotFound
        when there is none."""

    @abstractmethod
    def put(self, uri: str, source: BinaryIO, field: str = "S3Uri", *, replace: bool = True) -> str:
        """Store what `source` yields at `uri`, atomically: readers see the old object or the
        whole new one, never part of it. With `replace=False`, ResourceInUse when an object
        is there already (of two writers racing for one key, one wins). Returns the URI in
        the parser's form."""

    @abstractmethod
    def list(self, uri: str, field: str = "S3Uri") -> list[StoredObject]:
        """What an S3Prefix or object URI names, as SageMaker takes a prefix: the object
        itself, or every object below it; sorted by name."""

    @abstractmethod
    def delete(self, uri: str, field: str = "S3Uri") -> None:
        """Delete every object `list(uri)` returns; nothing there is not an error."""

    @abstractmethod
    def head(self, uri: str, field: str = "S3Uri") -> StoredObject | None:
        """The object `uri` names itself (not a prefix's contents), or None."""

    def exists(self, uri: str, field: str = "S3Uri") -> bool:
        return bool(self.list(uri, field))


class LocalArtifactStore(ArtifactStore):
    """Objects as files below `root`: `s3://bucket/key` is `root/bucket/key`. A file is
    written beside its target (as `.<name>.<random>.part`) and renamed into place. Links are
    never followed nor listed: the store holds files and directories only."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, uri: str, field: str = "S3Uri") -> Path:
        """The host path an `s3://` or `file://` URI names; never outside its bucket's
        directory."""
        parsed = parse_uri(uri, field)
        refuse_host_files(parsed, field)
        if parsed.scheme == "file":
            return Path(parsed.key)
        bucket = self.root / parsed.bucket
        return paths.safe_join(bucket, parsed.key, field) if parsed.key else bucket

    def open(self, uri: str, field: str = "S3Uri") -> BinaryIO:
        parsed = parse_uri(uri, field)
        if parsed.scheme == "s3":
            # No link is followed anywhere on the way (files.py): a link is not an object,
            # nor is a linked directory a prefix, wherever it points.
            fd = (
                files.open_regular(
                    self.root / parsed.bucket, paths.relative_parts(parsed.key, field)
                )
                if parsed.key
                else None
            )
            if fd is not None:
                return os.fdopen(fd, "rb")
            raise ResourceNotFound(f"No object at {uri} ({field}).")
        try:
            # O_NOFOLLOW: a link is not an object, wherever it points.
            fd = os.open(self.path(uri, field), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            fd = None
        if fd is not None and stat.S_ISREG(os.fstat(fd).st_mode):
            return os.fdopen(fd, "rb")
        if fd is not None:
            os.close(fd)
        raise ResourceNotFound(f"No object at {uri} ({field}).")

    def put(self, uri: str, source: BinaryIO, field: str = "S3Uri", *, replace: bool = True) -> str:
        target = self.path(uri, field)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            with self._create(tmp) as out:
                shutil.copyfileobj(source, out, CHUNK)
            if replace:
                tmp.replace(target)
            else:
                try:
                    os.link(tmp, target)  # fails if the target exists: exclusive, and atomic
                except FileExistsError:
                    raise ResourceInUse(f"Something is stored at {uri} already.") from None
        finally:
            tmp.unlink(missing_ok=True)
        return str(parse_uri(uri, field))

    def head(self, uri: str, field: str = "S3Uri") -> StoredObject | None:
        path = self.path(uri, field)
        if path.is_symlink() or not path.is_file():
            return None
        return StoredObject(path.name, str(parse_uri(uri, field)), path.stat().st_size)

    def list(self, uri: str, field: str = "S3Uri") -> list[StoredObject]:
        single = self.head(uri, field)
        if single is not None:
            return [single]
        base = str(parse_uri(uri, field))
        path = self.path(uri, field)
        if path.is_symlink() or not path.is_dir():
            return []
        found = []
        for directory, _, names in os.walk(path):  # followlinks=False: linked directories stay shut
            for name in names:
                file = Path(directory) / name
                if not file.is_symlink() and file.is_file():
                    relative = str(file.relative_to(path))
                    found.append(
                        StoredObject(relative, child_uri(base, relative), file.stat().st_size)
                    )
        return sorted(found, key=lambda o: o.name)

    def delete(self, uri: str, field: str = "S3Uri") -> None:
        parsed = parse_uri(uri, field)
        if parsed.scheme == "s3" and parsed.key:
            # By descriptor, below the bucket: a linked directory on the way is not entered.
            files.unlink(
                self.root / parsed.bucket, paths.relative_parts(parsed.key, field), trees=True
            )
            return
        path = self.path(uri, field)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        # S3 has no directories: a prefix with nothing below it is gone, here too.
        bucket = self.root / parse_uri(uri, field).bucket
        for parent in path.parents:
            if not parent.is_relative_to(bucket) or parent == bucket:
                break
            try:
                parent.rmdir()
            except OSError:
                break  # not empty (or not there)

    @staticmethod
    def _create(path: Path) -> BinaryIO:
        """`path`, created for writing, with the directories above it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return open(path, "xb")
        except FileNotFoundError:  # a `delete` took the emptied directory away meanwhile
            path.parent.mkdir(parents=True, exist_ok=True)
            return open(path, "xb")


BACKENDS = {"local": lambda: LocalArtifactStore(Path(settings.DATA_DIR) / "artifacts")}


def artifact_store() -> ArtifactStore:
    """The store this installation uses, as STUDIO_ARTIFACT_STORE names it (default: the
    local directory). Made on each call: it is cheap, and follows settings changed in tests."""
    name = settings.STUDIO_ARTIFACT_STORE
    if name not in BACKENDS:
        raise ValueError(
            f"STUDIO_ARTIFACT_STORE must be one of {', '.join(BACKENDS)}, not {name!r}."
        )
    return BACKENDS[name]()
