"""The one way a name someone chose becomes a path on the host (docs/security.md, "Names").

Channel names, processing input and output names, checkpoint paths, archive members and
object keys all end up joined to a host directory. `safe_join` is the only join for them: it
refuses absolute names, `..`, empty and NUL-bearing names, and anything that would resolve
outside its root. It is purely lexical on purpose: it never looks at the disk, so a link a
container planted cannot change its answer (the confined helper, `confined.py`, is what opens
such paths, and it refuses links).
"""

from pathlib import Path, PurePosixPath

from studio.core.errors import ValidationException


def relative_parts(name: str, field: str) -> tuple[str, ...]:
    """The components of a relative name, or ValidationException naming `field` and the rule."""
    if not name or "\x00" in name:
        raise ValidationException(f"{field} must be a non-empty name without NUL bytes.", field)
    path = PurePosixPath(name)
    if path.is_absolute():
        raise ValidationException(f"{field} must be a relative name, not {name!r}.", field)
    parts = tuple(p for p in path.parts if p != ".")
    if ".." in parts:
        raise ValidationException(f"{field} may not contain '..' ({name!r}).", field)
    if not parts:
        raise ValidationException(f"{field} must name something below its root ({name!r}).", field)
    return parts


def safe_join(root: Path, name: str, field: str = "name") -> Path:
    """`root / name` for a relative `name` that stays below `root`, else ValidationException."""
    joined = Path(root).joinpath(*relative_parts(name, field))
    if not joined.is_relative_to(root):  # belt and braces: the parts above cannot escape
        raise ValidationException(f"{field} {name!r} leaves its directory.", field)
    return joined


def below(container_path: str, prefix: str, field: str) -> str:
    """The part of an absolute container path under `prefix` ("/opt/ml/"), or
    ValidationException: how a path the request names inside the container maps to the host
    tree mounted at `prefix`. Only a path in plain form is taken (no `.`, `..` or empty
    segments, no NUL), so the container and the host cannot read it differently."""
    segments = container_path.split("/")
    if segments[-1] == "":  # a trailing slash names the same directory
        segments.pop()
    if (
        not container_path.startswith("/")
        or "\x00" in container_path
        or any(s in ("", ".", "..") for s in segments[1:])
    ):
        raise ValidationException(
            f"{field} must be an absolute path under {prefix} without '.', '..' or empty "
            f"segments, not {container_path!r}.",
            field,
        )
    try:
        rest = PurePosixPath(container_path).relative_to(prefix)
    except ValueError:
        raise ValidationException(
            f"{field} must be under {prefix}, not {container_path!r}.", field
        ) from None
    if not rest.parts:
        raise ValidationException(
            f"{field} must be a directory below {prefix}, not {prefix} itself.", field
        )
    return str(rest)
