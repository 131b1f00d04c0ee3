"""The confined helper against trees a hostile container left: it runs for real (as a child
process that drops to the job's uid), on directories made here the way a container would.

Runs as root (CI does): dropping to a job's uid is the point of the helper.
"""

import io
import os
import secrets
import tarfile
from pathlib import Path

import pytest

from studio.core import storage
from studio.core.storage import confined

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the helper drops privileges: run as root"
)
UID, GID = 4242, 100


@pytest.fixture
def secret_file(tmp_path) -> tuple[Path, str]:
    """A root-only file outside the job's tree, as the data directory's keys are."""
    value = f"canary-{secrets.token_hex(8)}"
    path = tmp_path / "host" / "encryption_key"
    path.parent.mkdir(mode=0o700)
    path.write_text(value)
    path.chmod(0o600)
    return path, value


@pytest.fixture
def tree(tmp_path) -> confined.Tree:
    """A job's /opt/ml on the host: root-owned, with the directories the job writes its own."""
    root = tmp_path / "job" / "algo-1"
    for sub in ("model", "output/data", "checkpoints", "code"):
        (root / sub).mkdir(parents=True)
    for path in [root / "model", root / "output", root / "output/data", root / "checkpoints"]:
        os.chown(path, UID, GID)
    os.chown(root / "code", UID, GID)
    return confined.Tree(root, UID, GID)


@pytest.fixture
def store(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return storage.artifact_store().root


def tarball(entries: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for info, content in entries:
            if content is not None:
                info.size = len(content)
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


# -- reading -----------------------------------------------------------------------------------


def test_a_failure_file_is_read_as_the_job_wrote_it(tree):
    (tree.root / "output" / "failure").write_text("the learning rate must be positive\n")
    assert confined.read_text(tree, "output/failure") == "the learning rate must be positive"


def test_a_failure_file_linked_to_a_host_secret_is_not_followed(tree, secret_file):
    path, _ = secret_file
    (tree.root / "output" / "failure").symlink_to(path)
    assert confined.read_text(tree, "output/failure") == ""
    # Relative links that climb out are refused the same way.
    (tree.root / "output" / "failure").unlink()
    (tree.root / "output" / "failure").symlink_to(os.path.relpath(path, tree.root / "output"))
    assert confined.read_text(tree, "output/failure") == ""


def test_a_failure_file_under_a_linked_directory_is_not_followed(tree, secret_file):
    path, _ = secret_file
    (tree.root / "output" / "data").rmdir()
    os.rename(tree.root / "output", tree.root / "output-real")
    (tree.root / "output").symlink_to(path.parent)
    assert confined.read_text(tree, "output/encryption_key") == ""


def test_a_hard_link_to_a_root_only_file_cannot_be_read(tree, secret_file, tmp_path):
    """Even where a link is not seen as one, the helper reads with the job's rights only."""
    path, value = secret_file
    same_fs = tree.root / "output" / "failure"
    os.link(path, same_fs)  # only root could make it; the job still may not read it
    assert value not in confined.read_text(tree, "output/failure")


def test_a_fifo_in_place_of_the_failure_file_does_not_hang(tree):
    os.mkfifo(tree.root / "output" / "failure")
    assert confined.read_text(tree, "output/failure") == ""


def test_proc_self_environ_behind_a_link_is_not_read(tree, monkeypatch):
    monkeypatch.setenv("STUDIO_CANARY_ENV", "canary-in-the-workers-environment")
    (tree.root / "output" / "failure").symlink_to("/proc/self/environ")
    assert confined.read_text(tree, "output/failure") == ""


# -- packing and uploading ---------------------------------------------------------------------


def test_packing_stores_links_as_links_and_never_their_targets(tree, store, secret_file):
    path, value = secret_file
    (tree.root / "model" / "model.joblib").write_bytes(b"weights")
    (tree.root / "model" / "key").symlink_to(path)
    (tree.root / "model" / "etc").symlink_to("/etc")
    uri = confined.pack(tree, "model", "s3://out/job/model.tar.gz")
    with tarfile.open(storage.artifact_store().path(uri)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert tar.extractfile("model.joblib").read() == b"weights"
        everything = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert members["key"].issym() and members["key"].linkname == str(path)
    assert members["etc"].issym()
    assert value.encode() not in everything


def test_output_data_replaced_by_a_link_to_the_host_is_refused(tree, store, secret_file):
    path, _ = secret_file
    (tree.root / "output" / "data").rmdir()
    (tree.root / "output" / "data").symlink_to(path.parent)
    with pytest.raises(confined.Refused, match="link"):
        confined.pack(tree, "output/data", "s3://out/job/output.tar.gz")
    assert not storage.artifact_store().path("s3://out/job/output.tar.gz").exists()


def test_an_empty_or_missing_directory_packs_to_nothing(tree, store):
    assert confined.pack(tree, "model", "s3://out/job/model.tar.gz") is None
    assert confined.pack(tree, "no-such", "s3://out/job/model.tar.gz") is None
    assert not storage.artifact_store().path("s3://out/job/model.tar.gz").exists()


def test_uploading_checkpoints_skips_links_to_the_host(tree, store, secret_file):
    path, value = secret_file
    (tree.root / "checkpoints" / "step-1.pt").write_bytes(b"state")
    (tree.root / "checkpoints" / "sub").mkdir()
    (tree.root / "checkpoints" / "sub" / "step-2.pt").write_bytes(b"more")
    (tree.root / "checkpoints" / "environ").symlink_to("/proc/self/environ")
    (tree.root / "checkpoints" / "key").symlink_to(path)
    written = confined.upload(tree, "checkpoints", "s3://ckpt/job", "CheckpointConfig")
    base = storage.artifact_store().path("s3://ckpt/job")
    names = sorted(w.removeprefix("s3://ckpt/job/") for w in written)
    assert names == ["step-1.pt", "sub/step-2.pt"]
    stored = b"".join(p.read_bytes() for p in base.rglob("*") if p.is_file())
    assert value.encode() not in stored and b"DATABASE_URL" not in stored


def test_a_directory_the_job_made_unreadable_fails_the_upload_not_the_worker(tree, store):
    secret = tree.root / "checkpoints" / "locked"
    secret.mkdir()
    os.chown(secret, 0, 0)
    secret.chmod(0o700)
    with pytest.raises(confined.Refused):
        confined.upload(tree, "checkpoints", "s3://ckpt/job", "CheckpointConfig")


# -- extracting --------------------------------------------------------------------------------


def extract(tree: confined.Tree, archive: bytes) -> None:
    confined.extract(tree, "code", io.BytesIO(archive), "sourcedir.tar.gz")


def test_a_source_archive_unpacks_as_the_jobs_own_files(tree):
    archive = tarball(
        [(member("pkg", tarfile.DIRTYPE), None), (member("pkg/train.py"), b"print(1)\n")]
    )
    extract(tree, archive)
    script = tree.root / "code" / "pkg" / "train.py"
    assert script.read_text() == "print(1)\n"
    assert (script.stat().st_uid, script.stat().st_gid) == (UID, GID)


@pytest.mark.parametrize(
    "name", ["../escape.py", "/var/tmp/escape.py", "pkg/../../escape.py", "./../escape.py"]
)
def test_archive_entries_that_leave_the_directory_are_refused(tree, name):
    with pytest.raises(confined.Refused, match="leaves the directory"):
        extract(tree, tarball([(member(name), b"x")]))
    assert not (tree.root / "escape.py").exists()
    assert not Path("/var/tmp/escape.py").exists()


def test_an_archive_link_out_of_the_directory_is_refused(tree):
    for target in ("/etc", "../../..", "a/../../.."):
        with pytest.raises(confined.Refused, match="points outside"):
            extract(tree, tarball([(member("out", tarfile.SYMTYPE, target), None)]))


def test_an_archive_cannot_write_through_a_link_it_made(tree):
    """A link inside (allowed) followed by an entry below it: the entry is refused."""
    archive = tarball(
        [
            (member("real", tarfile.DIRTYPE), None),
            (member("alias", tarfile.SYMTYPE, "real"), None),
            (member("alias/x.py"), b"x"),
        ]
    )
    with pytest.raises(confined.Refused, match="link"):
        extract(tree, archive)


def test_hard_links_and_devices_in_an_archive_are_refused(tree):
    for kind in (tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE):
        with pytest.raises(confined.Refused, match="hard link or special file"):
            extract(tree, tarball([(member("x", kind, "/etc/passwd"), None)]))


def test_a_compression_bomb_is_stopped_by_the_ratio_limit(tree, settings):
    settings.STUDIO_ARCHIVE_MAX_RATIO = 50
    with pytest.raises(confined.Refused, match="expands more than 50 times"):
        extract(tree, tarball([(member("zeros.bin"), bytes(64 * 2**20))]))


def test_an_archive_past_the_size_limit_is_refused(tree, settings):
    settings.STUDIO_ARCHIVE_MAX_BYTES = 2**20
    content = os.urandom(2**20 + 1)
    with pytest.raises(confined.Refused, match="expands to more than"):
        extract(tree, tarball([(member("big.bin"), content)]))


def test_an_archive_with_too_many_entries_is_refused(tree, settings):
    settings.STUDIO_ARCHIVE_MAX_ENTRIES = 10
    entries = [(member(f"f{i}.py"), b"") for i in range(11)]
    with pytest.raises(confined.Refused, match="more than 10 entries"):
        extract(tree, tarball(entries))


def test_something_that_is_not_an_archive_is_refused(tree):
    with pytest.raises(confined.Refused, match="not a readable tar archive"):
        extract(tree, b"definitely not gzip")


def test_extracting_into_a_code_directory_replaced_by_a_link_is_refused(tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tree.root / "code").rmdir()
    (tree.root / "code").symlink_to(outside)
    with pytest.raises(confined.Refused, match="link"):
        extract(tree, tarball([(member("x.py"), b"x")]))
    assert list(outside.iterdir()) == []


def test_the_helper_never_runs_as_root(tmp_path, store):
    with pytest.raises(confined.Refused, match="never runs as root"):
        confined.pack(confined.Tree(tmp_path, 0, 0), ".", "s3://bucket/x.tar.gz")
