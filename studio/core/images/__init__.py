"""Building Studio's built-in images (`images/<name>/`) for both runtimes.

`studio images build-base` makes an air-gapped base image from Debian packages; `studio images
build NAME` builds `images/NAME/Dockerfile` on it with Docker and exports the result as a root
file system tree for the sandbox runtime, or, without Docker, makes that tree directly by
running the image's `install.sh` inside bubblewrap. See docs/images.md.
"""

from pathlib import Path

from django.conf import settings

# The air-gapped base: Debian bookworm (Python 3.11) from debootstrap, imported into Docker.
BASE_IMAGE = "studio/base:bookworm"
# Image label (and metadata key next to a sandbox tree) holding the hash of an image's inputs.
INPUT_HASH_LABEL = "studio.input-hash"


def images_source_dir() -> Path:
    """The `images/` folder of this checkout: one folder per built-in image."""
    return Path(settings.BASE_DIR) / "images"


def image_ref(name: str) -> str:
    return f"studio/{name}:latest"


def buildable_images() -> list[str]:
    """Every built-in image with a Dockerfile, by name."""
    return sorted(p.parent.name for p in images_source_dir().glob("*/Dockerfile"))
