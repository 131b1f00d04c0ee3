"""The bwrap command line the sandbox runtime builds from a ContainerSpec."""

from pathlib import Path

import pytest

from studio.core.runtime.base import ContainerError, ContainerSpec, Mount
from studio.core.runtime.sandbox import BwrapCommand, bwrap_command

STAGE = "/stage"


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    """An image tree with the mount points a SageMaker container expects."""
    root = tmp_path / "rootfs"
    for d in ("proc", "dev", "tmp", "etc", "usr/bin", "opt/ml/model", "opt/ml/input", "opt/venv"):
        (root / d).mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nsagemaker-user:x:1000:100::/home/sagemaker-user:/bin/bash\n"
    )
    return root


def spec(**kwargs) -> ContainerSpec:
    return ContainerSpec(**{"name": "job-1", "image": "studio/x", "command": ["train"], **kwargs})


def command(s: ContainerSpec, rootfs: Path) -> BwrapCommand:
    return bwrap_command(s, rootfs, bwrap="/usr/bin/bwrap", setpriv="/usr/bin/setpriv", stage=STAGE)


def build(s: ContainerSpec, rootfs: Path) -> tuple[list[str], list[list[str]]]:
    """The arguments bwrap receives, as one list (the shim passes the options by descriptor)."""
    c = command(s, rootfs)
    return [*c.prefix, *c.options, "--", *c.command], c.stage


def pairs(argv: list[str], option: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == option]


def test_runs_bwrap_as_the_image_user_with_every_namespace_unshared(rootfs):
    argv, _ = build(spec(), rootfs)
    assert argv[:5] == [
        "/usr/bin/setpriv",
        "--reuid=1000",
        "--regid=100",
        "--clear-groups",
        "/usr/bin/bwrap",
    ]
    for option in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"):
        assert option in argv
    assert "--share-net" not in argv
    assert argv[-2:] == ["--", "train"]
    assert argv[argv.index("--hostname") + 1] == "job-1"


def test_user_is_taken_from_the_spec_and_never_root(rootfs):
    argv, _ = build(spec(user="1234:5678"), rootfs)
    assert argv[1:3] == ["--reuid=1234", "--regid=5678"]
    with pytest.raises(ContainerError, match="root"):
        build(spec(user="0:0"), rootfs)
    with pytest.raises(ContainerError, match="numeric"):
        build(spec(user="sagemaker-user"), rootfs)


def test_host_network_shares_the_network_namespace(rootfs):
    argv, _ = build(spec(network="host"), rootfs)
    assert "--share-net" in argv


def test_image_tree_and_mounts_are_staged_and_bound(rootfs, tmp_path):
    model, data = tmp_path / "model", tmp_path / "data"
    mounts = [Mount(model, "/opt/ml/model"), Mount(data, "/opt/ml/input", read_only=True)]
    argv, stage = build(spec(mounts=mounts), rootfs)

    assert stage == [
        [str(rootfs), f"{STAGE}/root"],
        [str(model), f"{STAGE}/m0"],
        [str(data), f"{STAGE}/m1"],
    ]
    assert pairs(argv, "--ro-bind") == [(f"{STAGE}/root", "/"), (f"{STAGE}/m1", "/opt/ml/input")]
    assert pairs(argv, "--bind") == [(f"{STAGE}/m0", "/opt/ml/model")]
    assert argv[argv.index("--proc") + 1] == "/proc"
    assert argv[argv.index("--dev") + 1] == "/dev"
    tmpfs = [argv[i + 1] for i, a in enumerate(argv) if a == "--tmpfs"]
    assert tmpfs == ["/dev/shm", "/tmp"]
    for i in (i for i, a in enumerate(argv) if a == "--tmpfs"):
        assert argv[i - 2] == "--size" and int(argv[i - 1]) > 0
    # Nothing of the host but the image tree and the mounts.
    sources = [v for option in ("--bind", "--ro-bind") for v, _ in pairs(argv, option)]
    assert all(s.startswith(f"{STAGE}/") for s in sources)


def test_mount_points_missing_from_the_image_are_made_room_for(rootfs, tmp_path):
    argv, _ = build(spec(mounts=[Mount(tmp_path, "/opt/ml/processing/input")]), rootfs)
    # / and /opt/ml become directories of bwrap's tmpfs root, holding the tree's entries.
    assert "--remount-ro" in argv
    assert argv.index("--remount-ro") > argv.index("/opt/ml/processing/input")
    assert (f"{STAGE}/root/etc", "/etc") in pairs(argv, "--ro-bind")
    assert (f"{STAGE}/root/opt/ml/model", "/opt/ml/model") in pairs(argv, "--ro-bind")
    assert ("usr/bin", "/bin") in pairs(argv, "--symlink")
    dirs = [argv[i + 1] for i, a in enumerate(argv) if a == "--dir"]
    assert dirs == ["/opt", "/opt/ml"]
    assert (f"{STAGE}/root", "/") not in pairs(argv, "--ro-bind")


def test_mounts_are_ordered_parents_first(rootfs, tmp_path):
    mounts = [Mount(tmp_path / "m", "/opt/ml/model/sub"), Mount(tmp_path, "/opt/ml")]
    argv, _ = build(spec(mounts=mounts), rootfs)
    assert pairs(argv, "--bind") == [
        (f"{STAGE}/m0", "/opt/ml"),
        (f"{STAGE}/m1", "/opt/ml/model/sub"),
    ]


def test_environment_is_cleared_then_set(rootfs):
    argv, _ = build(spec(env={"SM_MODEL_DIR": "/opt/ml/model", "PATH": "/custom"}), rootfs)
    env = dict(pairs(argv, "--setenv"))
    assert argv.index("--clearenv") < argv.index("--setenv")
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert env["PATH"] == "/custom"
    assert env["HOME"] == "/home/sagemaker-user"
    assert env["HOSTNAME"] == "job-1"


def test_workdir(rootfs):
    argv, _ = build(spec(workdir="/opt/ml"), rootfs)
    assert argv[argv.index("--chdir") + 1] == "/opt/ml"
    argv, _ = build(spec(), rootfs)
    assert argv[argv.index("--chdir") + 1] == "/"


def test_tmpfs_is_half_the_memory_unless_configured(rootfs, settings):
    settings.STUDIO_TMPFS_BYTES = 0
    argv, _ = build(spec(memory_bytes=2 * 2**30), rootfs)
    assert pairs(argv, "--size") == [(str(2**30), "--tmpfs"), (str(2**30), "--tmpfs")]
    settings.STUDIO_TMPFS_BYTES = 5 * 2**20
    argv, _ = build(spec(memory_bytes=2 * 2**30), rootfs)
    assert [size for size, _ in pairs(argv, "--size")] == [str(5 * 2**20)] * 2


def test_the_environment_never_reaches_the_command_line(rootfs):
    c = command(spec(env={"AWS_SECRET_ACCESS_KEY": "s3cr3t"}, command=["train", "--x"]), rootfs)
    assert c.prefix[-1] == "/usr/bin/bwrap"
    assert "s3cr3t" in c.options
    assert not any("s3cr3t" in a or a == "--setenv" for a in [*c.prefix, *c.command])
    assert c.command == ["train", "--x"]
