"""The Debian side of air-gapped builds: which mirror the host uses, and the debootstrap call.

The mirror is read from the host's APT sources at build time, so the repository names no
package host and a machine behind its own mirror builds from that mirror.
"""

from collections.abc import Iterable
from pathlib import Path

SUITE = "bookworm"  # Debian 12: its python3 is 3.11, as the official python:3.11-slim
# What the base needs beyond minbase: Python with venv (ensurepip) for the images' /opt/venv,
# and CA certificates so pip can reach an HTTPS index.
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
SOURCES_FILES = (Path("/etc/apt/sources.list"),)
SOURCES_DIR = Path("/etc/apt/sources.list.d")
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")


class MirrorNotFound(Exception):
    pass


def _deb822_stanzas(text: str) -> Iterable[dict[str, str]]:
    """Stanzas of a deb822 `.sources` file, as field -> value (continuation lines joined)."""
    stanza: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza, last = {}, None
        elif line[0] in " \t" and last:
            stanza[last] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            last = key.strip().lower()
            stanza[last] = value.strip()
    if stanza:
        yield stanza


def _one_line_entries(text: str) -> Iterable[tuple[str, str]]:
    """(uri, suite) of each `deb [options] uri suite components...` line of a sources.list."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            # Options may contain spaces: `[ arch=amd64 signed-by=... ]`.
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2:
            yield words[0], words[1]


def mirror_from_sources(texts: Iterable[tuple[str, str]], suite: str = SUITE) -> str | None:
    """The first mirror URI that serves `suite` itself (not -security or -updates).

    `texts` are (file name, content) pairs; `.sources` files are deb822, others one-line.
    """
    for name, text in texts:
        if name.endswith(".sources"):
            for stanza in _deb822_stanzas(text):
                if "deb" not in stanza.get("types", "deb").split():
                    continue
                if suite in stanza.get("suites", "").split():
                    uris = stanza.get("uris", "").split()
                    if uris:
                        return uris[0]
        else:
            for uri, entry_suite in _one_line_entries(text):
                if entry_suite == suite:
                    return uri
    return None


def host_mirror(suite: str = SUITE) -> str:
    """The host's Debian mirror for `suite`, from its APT sources."""
    files = [f for f in SOURCES_FILES if f.is_file()]
    if SOURCES_DIR.is_dir():
        files += sorted(
            f for f in SOURCES_DIR.iterdir() if f.suffix in (".list", ".sources") and f.is_file()
        )
    found = mirror_from_sources(((f.name, f.read_text()) for f in files), suite)
    if found is None:
        raise MirrorNotFound(
            f"no APT source for Debian {suite} in {', '.join(map(str, files)) or 'none found'}; "
            "pass --mirror URL"
        )
    return found


def debootstrap_command(target: Path, mirror: str, suite: str = SUITE) -> list[str]:
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(BASE_PACKAGES)}",
    ]
    if KEYRING.is_file():
        command.append(f"--keyring={KEYRING}")
    return [*command, suite, str(target), mirror]


def slim_tree(root: Path) -> None:
    """Drop what an image does not need at run time: downloaded packages and package lists."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*"):
        for path in root.glob(pattern):
            path.unlink()
