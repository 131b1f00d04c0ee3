"""Home volumes on the worker's disk: one directory per domain, a 0700 home per profile and per
shared space."""

import os
import shutil
from pathlib import Path

# SageMaker's Studio users are in group 100 ("users"), uid per profile.
HOME_GID = 100


def create_domain_volume(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    # Others may traverse to their own home but not list who else has one.
    path.chmod(0o711)


def create_home(path: Path, uid: int) -> None:
    path.mkdir(mode=0o700, parents=False, exist_ok=True)
    path.chmod(0o700)
    if os.geteuid() == 0:
        os.chown(path, uid, HOME_GID)


def remove_domain_volume(path: Path) -> None:
    """Remove the whole domain directory (the home volume and anything beside it)."""
    if path.parent.exists():
        shutil.rmtree(path.parent)


def remove_shared_volume(path: Path) -> None:
    """Remove a deleted shared space's volume. A failure raises, leaving the space Deleting for
    the reconciler to try again, rather than leaving files for the name's next owner.

    The tree is the tenant's: rmtree must not follow the links in it (it works by descriptors,
    `shutil.rmtree.avoids_symlink_attacks`; the path itself is checked not to be a link)."""
    if not shutil.rmtree.avoids_symlink_attacks:
        raise RuntimeError("this platform's rmtree follows links: refusing to remove a tenant tree")
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
