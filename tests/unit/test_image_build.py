"""The pure parts of `studio images`: pip settings carried into builds, the Debian mirror read
from APT sources, the input hash that decides whether an image is rebuilt."""

import io
from pathlib import Path

import pytest

from studio.core.images import debian, pip_settings, rootfs
from studio.core.images.pip_settings import parse_config_list, settings_from_config
from studio.core.images.progress import Progress, StepFailed

DEB822 = """\
Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_pip_config_list_output_is_parsed_with_its_quoting():
    output = (
        ":env:.cert='/etc/ssl/certs/ca-certificates.crt'\n"
        "global.extra-index-url='file:///opt/pypi/simple https://pypi.example/simple'\n"
        "global.timeout='60'\n"
    )
    assert parse_config_list(output) == {
        ":env:.cert": "/etc/ssl/certs/ca-certificates.crt",
        "global.extra-index-url": "file:///opt/pypi/simple https://pypi.example/simple",
        "global.timeout": "60",
    }


def test_remote_indexes_become_build_args_and_host_only_ones_are_left_out():
    settings = settings_from_config(
        {
            "global.index-url": "https://pypi.example/simple",
            "global.extra-index-url": "file:///opt/pypi/simple https://more.example/simple",
            "global.find-links": "/opt/wheels",
            "global.trusted-host": "pypi.example",
        }
    )
    assert settings.env == {
        "PIP_INDEX_URL": "https://pypi.example/simple",
        "PIP_EXTRA_INDEX_URL": "https://more.example/simple",
        "PIP_TRUSTED_HOST": "pypi.example",
    }
    assert settings.skipped == [
        "extra-index-url file:///opt/pypi/simple (exists only on this host)",
        "find-links /opt/wheels (exists only on this host)",
    ]


def test_environment_overrides_install_section_overrides_global():
    settings = settings_from_config(
        {
            "global.index-url": "https://global.example/simple",
            "install.index-url": "https://install.example/simple",
            "global.timeout": "15",
            ":env:.default-timeout": "180",
            ":env:.index-url": "https://env.example/simple",
        }
    )
    assert settings.env["PIP_INDEX_URL"] == "https://env.example/simple"
    assert settings.env["PIP_DEFAULT_TIMEOUT"] == "180"


def test_certificate_and_constraints_are_copied_into_the_build_context(tmp_path: Path):
    cert = tmp_path / "ca.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("torch<=2.14.1\n")
    settings = settings_from_config(
        {
            "global.cert": str(cert),
            "global.constraint": f"{constraints} {tmp_path / 'gone.txt'}",
        }
    )
    assert settings.cert == cert
    assert settings.constraints == [constraints]
    assert settings.skipped == [f"constraint {tmp_path / 'gone.txt'} (no such file)"]

    context = tmp_path / "context"
    context.mkdir()
    settings.write_context(context)
    assert (context / pip_settings.CERT_FILE).read_text() == cert.read_text()
    assert (context / pip_settings.CONSTRAINTS_FILE).read_text() == "torch<=2.14.1\n"


def test_a_missing_certificate_is_reported_not_passed(tmp_path: Path):
    settings = settings_from_config({"global.cert": str(tmp_path / "none.pem")})
    assert settings.cert is None
    assert settings.skipped == [f"cert {tmp_path / 'none.pem'} (no such file)"]
    settings.write_context(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_mirror_is_read_from_a_deb822_sources_file():
    assert debian.mirror_from_sources([("debian.sources", DEB822)]) == (
        "http://mirror.example/debian"
    )


def test_mirror_is_read_from_a_one_line_sources_list_with_options():
    text = (
        "# deb http://old.example/debian bookworm main\n"
        "deb [ arch=amd64 signed-by=/usr/share/keyrings/k.gpg ] "
        "http://security.example/debian-security bookworm-security main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64] http://mirror.example/debian bookworm main contrib\n"
    )
    assert debian.mirror_from_sources([("sources.list", text)]) == ("http://mirror.example/debian")


def test_no_mirror_for_the_suite_gives_none():
    assert debian.mirror_from_sources([("debian.sources", DEB822)], suite="trixie") is None


def test_debootstrap_is_minbase_with_python_venv_and_certificates(tmp_path: Path):
    command = debian.debootstrap_command(tmp_path, "http://mirror.example/debian")
    assert command[:2] == ["debootstrap", "--variant=minbase"]
    assert "--include=python3,python3-venv,ca-certificates" in command
    assert command[-3:] == ["bookworm", str(tmp_path), "http://mirror.example/debian"]


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sklearn"
    (folder / "studio_toolkit" / "__pycache__").mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM base\n")
    (folder / "install.sh").write_text("echo install\n")
    (folder / "studio_toolkit" / "train.py").write_text("def main(): pass\n")
    return folder


def test_input_hash_changes_with_content_names_and_base(image_dir: Path):
    before = rootfs.input_hash(image_dir, ["base:1"])
    assert rootfs.input_hash(image_dir, ["base:1"]) == before
    assert rootfs.input_hash(image_dir, ["base:2"]) != before

    (image_dir / "install.sh").write_text("echo changed\n")
    changed = rootfs.input_hash(image_dir, ["base:1"])
    assert changed != before

    (image_dir / "install.sh").rename(image_dir / "setup.sh")
    assert rootfs.input_hash(image_dir, ["base:1"]) != changed


def test_input_hash_ignores_bytecode_but_not_the_executable_bit(image_dir: Path):
    before = rootfs.input_hash(image_dir)
    (image_dir / "studio_toolkit" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"x")
    assert rootfs.input_hash(image_dir) == before
    (image_dir / "install.sh").chmod(0o755)
    assert rootfs.input_hash(image_dir) != before


def test_dockerfile_config_is_what_a_tree_built_without_docker_runs_with(tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\n"
        "ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1\n"
        "USER sagemaker-user\nWORKDIR /opt/ml\n"
        'CMD ["jupyter", "lab"]\n'
    )
    config = rootfs.dockerfile_config(dockerfile, ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"])
    assert config["env"] == [
        "PATH=/opt/venv/bin:/usr/bin:/bin",
        "LANG=C.UTF-8",
        "PYTHONUNBUFFERED=1",
    ]
    assert config["user"] == "sagemaker-user"
    assert config["workdir"] == "/opt/ml"
    assert config["cmd"] == ["jupyter", "lab"]


def test_install_tree_replaces_the_old_tree_and_writes_metadata_last(tmp_path: Path):
    dest = tmp_path / "rootfs" / "studio_sklearn_latest"
    dest.mkdir(parents=True)
    (dest / "old").write_text("old")
    staged = rootfs.staging_dir(dest)
    (staged / "new").write_text("new")

    rootfs.install_tree(staged, dest, {"input_hash": "abc"})

    assert sorted(p.name for p in dest.iterdir()) == ["new"]
    assert rootfs.read_metadata(dest) == {"input_hash": "abc"}
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name, dest.name + ".json"]


def test_a_failing_step_says_how_long_it_ran_and_shows_the_commands_last_lines():
    out = io.StringIO()
    progress = Progress(out)
    with pytest.raises(StepFailed) as failed, progress.step("pip install"):
        progress.run(["sh", "-c", "for i in $(seq 1 60); do echo line $i; done; exit 3"])
    assert "exited with code 3" in str(failed.value)
    assert "| line 60" in str(failed.value)
    assert "| line 20" not in str(failed.value)  # only the tail
    assert out.getvalue().splitlines()[0] == "==> pip install"
    assert out.getvalue().splitlines()[-1].startswith("    failed after ")


def test_a_step_that_succeeds_prints_its_elapsed_time_not_its_output():
    out = io.StringIO()
    progress = Progress(out)
    with progress.step("debootstrap"):
        progress.run(["sh", "-c", "echo noisy"])
    lines = out.getvalue().splitlines()
    assert lines[0] == "==> debootstrap"
    assert lines[-1].startswith("    done in ")
    assert "noisy" not in out.getvalue()
