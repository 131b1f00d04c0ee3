"""The host's pip settings, carried into image builds (DESIGN.md §5).

pip inside `docker build` (or inside the bubblewrap build) must reach the same index through
the same certificate bundle as the host's pip. What is read: `pip config list` (every config
file, with PIP_* environment variables as its `:env:` section). What is passed: index URLs,
trusted hosts, proxy and timeout as PIP_* build arguments (pip reads them from the
environment); the certificate bundle and constraint files as copies in the build context.
Local `file://` indexes and find-links directories exist only on the host and are left out.
"""

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Sections in increasing precedence: pip applies `install` over `global`, and the environment
# over both.
_SECTIONS = ("global", "install", ":env:")
# pip option -> the PIP_* variable that carries it into the build.
_PASSED_AS_ENV = {
    "index-url": "PIP_INDEX_URL",
    "extra-index-url": "PIP_EXTRA_INDEX_URL",
    "find-links": "PIP_FIND_LINKS",
    "trusted-host": "PIP_TRUSTED_HOST",
    "proxy": "PIP_PROXY",
    "timeout": "PIP_DEFAULT_TIMEOUT",
    "retries": "PIP_RETRIES",
    "no-index": "PIP_NO_INDEX",
}
# Two names of one option: PIP_DEFAULT_TIMEOUT shows as `:env:.default-timeout`.
_ALIASES = {"default-timeout": "timeout"}
_URL_LISTS = {"index-url", "extra-index-url", "find-links"}
# The copied files, at the top of the build context: the Dockerfiles COPY `.pip-*` with the
# files install.sh needs first, so a plain `docker build` (without them) works too.
CERT_FILE = ".pip-ca.pem"
CONSTRAINTS_FILE = ".pip-constraints.txt"


@dataclass
class PipSettings:
    env: dict[str, str] = field(default_factory=dict)  # PIP_* build arguments
    cert: Path | None = None
    constraints: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # host-only settings left out, said why

    def write_context(self, context: Path) -> None:
        """Copy the certificate bundle and constraints into the build context `context`, where
        the images' install.sh looks for them."""
        if self.cert:
            (context / CERT_FILE).write_bytes(self.cert.read_bytes())
        if self.constraints:
            text = "\n".join(p.read_text() for p in self.constraints)
            (context / CONSTRAINTS_FILE).write_text(text)


def parse_config_list(output: str) -> dict[str, str]:
    """`pip config list` lines (`global.index-url='https://...'`) as a dict of `section.key`."""
    items = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        try:
            items[key.strip()] = str(ast.literal_eval(value.strip()))
        except (ValueError, SyntaxError):
            items[key.strip()] = value.strip()
    return items


def _effective(items: Mapping[str, str]) -> dict[str, str]:
    """Option -> value after section precedence (`:env:.cert` over `global.cert`)."""
    merged: dict[str, str] = {}
    for section in _SECTIONS:
        prefix = section + "."
        for key, value in items.items():
            if key.startswith(prefix):
                option = key[len(prefix) :]
                merged[_ALIASES.get(option, option)] = value
    return merged


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _host_files(value: str) -> Iterable[Path]:
    for word in value.split():
        yield Path(word.removeprefix("file://"))


def settings_from_config(items: Mapping[str, str]) -> PipSettings:
    """What of the pip configuration `items` (as `parse_config_list` returns) makes sense
    inside a build."""
    settings = PipSettings()
    for option, value in _effective(items).items():
        if option in _URL_LISTS:
            urls = value.split()
            remote = [u for u in urls if _is_remote(u)]
            settings.skipped += [
                f"{option} {u} (exists only on this host)" for u in urls if not _is_remote(u)
            ]
            if remote:
                settings.env[_PASSED_AS_ENV[option]] = " ".join(remote)
        elif option in _PASSED_AS_ENV:
            settings.env[_PASSED_AS_ENV[option]] = value
        elif option == "cert":
            path = Path(value)
            if path.is_file():
                settings.cert = path
            else:
                settings.skipped.append(f"cert {value} (no such file)")
        elif option == "constraint":
            for path in _host_files(value):
                if path.is_file():
                    settings.constraints.append(path)
                else:
                    settings.skipped.append(f"constraint {path} (no such file)")
    return settings


def host_pip_settings() -> PipSettings:
    """The settings of the pip that runs this Studio (its config files and PIP_* variables)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    return settings_from_config(parse_config_list(result.stdout))
