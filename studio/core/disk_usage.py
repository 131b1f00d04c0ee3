"""How much disk a directory tree uses, for the sizes no runtime enforces (homes, job
directories on the host's disk): measured, and refused past a limit."""

import os
from pathlib import Path

from django.conf import settings


def tree_size(root: Path, stop_after: int | None = None) -> int:
    """Bytes allocated to the files under `root`, counted with lstat: links are never
    followed and other file systems never entered (the tree may be a container's to write,
    so the walk goes by directory descriptors, `os.fwalk`, and a directory swapped for a link
    while it is counted is not entered). Stops counting once past `stop_after`, so that
    refusing a huge tree stays cheap."""
    total = 0
    try:
        device = os.lstat(root).st_dev
    except FileNotFoundError:
        return 0
    for _, dirs, files, fd in os.fwalk(root, follow_symlinks=False):
        for name in [*dirs, *files]:
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            total += info.st_blocks * 512
            if name in dirs and info.st_dev != device:
                dirs.remove(name)
        if stop_after is not None and total > stop_after:
            break
    return total


def home_size_problem(home: Path) -> str:
    """Why an app must not start on `home`, or "": a home past STUDIO_HOME_MAX_BYTES."""
    limit = settings.STUDIO_HOME_MAX_BYTES
    if tree_size(home, stop_after=limit) <= limit:
        return ""
    return (
        f"The home directory uses more than {limit / 2**30:g} GiB (STUDIO_HOME_MAX_BYTES). "
        "Ask an administrator to make room in it (or to raise the limit), then start again."
    )
