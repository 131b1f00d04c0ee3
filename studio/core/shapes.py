"""Validation of request values against SageMaker's own shapes, read from botocore's model.

botocore ships the full SageMaker service model; validating against it keeps Studio's rules the
same as SageMaker's (lengths, patterns, enums, ranges, required members) without copying them.
Errors name the path of the offending value, as in `DefaultUserSettings.JupyterLabAppSettings`.

On top of SageMaker's rules, Studio's own (`STRICTER`) for the values that become paths on the
worker's host, where SageMaker's shapes leave them open: they are all here, in one table.
"""

import base64
import binascii
import math
import re
from datetime import datetime
from functools import cache
from typing import Any

from botocore.loaders import Loader

from studio.core.errors import ValidationException
from studio.core.storage import paths

# Year 9999's end: later seconds are no date Python (or anyone) can hold.
MAX_EPOCH = 253402300799


@cache
def _sagemaker_model() -> dict:
    return Loader().load_service_model("sagemaker", "service-2")


def sagemaker_shapes() -> dict[str, dict]:
    return _sagemaker_model()["shapes"]


def input_shape(operation: str) -> str | None:
    """The name of the request shape of SageMaker's `operation`; None for an unknown one."""
    spec = _sagemaker_model()["operations"].get(operation)
    return spec["input"]["shape"] if spec and "input" in spec else None


@cache
def _regex(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:  # a Java-only construct; the other rules still apply
        return None


def shape(name: str) -> dict:
    return sagemaker_shapes()[name]


def validate(value: Any, shape_name: str, path: str) -> None:
    """Raise ValidationException if `value` does not fit SageMaker's shape `shape_name`."""
    spec = shape(shape_name)
    kind = spec["type"]
    checker = _CHECKERS.get(kind)
    if checker is not None:
        checker(value, spec, path)
    if kind == "structure":
        for member, rule in _STRICTER.get(shape_name, {}).items():
            if isinstance(value.get(member), str):
                rule(value[member], _member(path, member))


def reject_nulls(value: Any, path: str = "") -> None:
    """Refuse JSON null anywhere in a request from outside, naming where: SageMaker answers
    it as a value of the wrong type (leaving a member out is how a request says "none").
    Studio's own callers may pass None for an absent member to `validate`; the API may not."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = _member(path, key)
            if item is None:
                _fail(where, "Member must not be null")
            reject_nulls(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if item is None:
                _fail(f"{path}[{i}]", "Member must not be null")
            reject_nulls(item, f"{path}[{i}]")


def _fail(path: str, rule: str) -> None:
    raise ValidationException(f"Value at '{path}' failed to satisfy constraint: {rule}", path)


def _check_structure(value: Any, spec: dict, path: str) -> None:
    if not isinstance(value, dict):
        _fail(path, "Member must be an object")
    members = spec.get("members", {})
    for key in value:
        if key not in members:
            known = ", ".join(sorted(members))
            _fail(_member(path, key), f"Unknown member; known members are {known}")
    for key in spec.get("required", []):
        if value.get(key) is None:
            _fail(_member(path, key), "Member must not be null")
    for key, member_value in value.items():
        if member_value is not None:
            validate(member_value, members[key]["shape"], _member(path, key))


def _member(path: str, key: str) -> str:
    """`Parent.Key`, or just `Key` at the top of a request."""
    return f"{path}.{key}" if path else key


def _check_list(value: Any, spec: dict, path: str) -> None:
    if not isinstance(value, list):
        _fail(path, "Member must be a list")
    _check_size(len(value), spec, path, "length")
    for i, item in enumerate(value):
        validate(item, spec["member"]["shape"], f"{path}[{i}]")


def _check_map(value: Any, spec: dict, path: str) -> None:
    if not isinstance(value, dict):
        _fail(path, "Member must be a map")
    _check_size(len(value), spec, path, "size")
    for key, item in value.items():
        validate(key, spec["key"]["shape"], f"{path} key {key!r}")
        validate(item, spec["value"]["shape"], f"{path}.{key}")


# SageMaker's name patterns in words, for people: the message keeps SageMaker's own wording (as
# clients match on it) and says what it means.
PATTERNS_IN_WORDS = {
    "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}": "use only letters, digits and hyphens, and begin and "
    "end with a letter or digit",
    "[a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}": "use only letters, digits, and single hyphens or "
    "dots between them",
    "\\S(.*\\S)?": "do not begin or end with a space",
    # ModelName's (its length is a separate rule: at most 63).
    "[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?": "use only letters, digits and hyphens, and "
    "begin and end with a letter or digit",
    # A model package group by name or ARN (ArnOrName), and a version (VersionedArnOrName).
    "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?"
    "([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)": "give a name of letters, digits and hyphens "
    "that begins and ends with a letter or digit, at most 63 characters, or an ARN",
    "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?"
    "([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)(\\/[0-9]{1,9})?": "give a version as "
    "<group>/<version>, as in churn/3, or its ARN",
}


def _check_string(value: Any, spec: dict, path: str) -> None:
    if not isinstance(value, str):
        _fail(path, "Member must be a string")
    _check_size(len(value), spec, path, "length")
    if "enum" in spec and value not in spec["enum"]:
        _fail(path, f"Member must satisfy enum value set: [{', '.join(spec['enum'])}]")
    regex = _regex(spec["pattern"]) if "pattern" in spec else None
    if regex is not None and not regex.fullmatch(value):
        words = PATTERNS_IN_WORDS.get(spec["pattern"])
        _fail(
            path,
            f"Member must satisfy regular expression pattern: {spec['pattern']}"
            + (f" ({words})" if words else ""),
        )


def _check_number(value: Any, spec: dict, path: str) -> None:
    integral = spec["type"] in {"integer", "long"}
    if isinstance(value, bool) or not isinstance(value, int if integral else (int, float)):
        _fail(path, f"Member must be {'an integer' if integral else 'a number'}")
    _check_size(value, spec, path, "value")


def _check_boolean(value: Any, spec: dict, path: str) -> None:
    if not isinstance(value, bool):
        _fail(path, "Member must be a boolean")


def _check_timestamp(value: Any, spec: dict, path: str) -> None:
    """Seconds since the epoch (what botocore sends) or an ISO 8601 date and time."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and -MAX_EPOCH <= value <= MAX_EPOCH:
            return
    elif isinstance(value, str):
        try:
            datetime.fromisoformat(value)
            return
        except ValueError:
            pass
    _fail(path, "Member must be a timestamp: seconds since the epoch or an ISO 8601 date")


def _check_blob(value: Any, spec: dict, path: str) -> None:
    """Binary members travel base64-encoded in SageMaker's JSON protocol."""
    if isinstance(value, str):
        try:
            base64.b64decode(value, validate=True)
            return
        except (binascii.Error, ValueError):
            pass
    _fail(path, "Member must be base64-encoded binary data")


def _check_size(size: float, spec: dict, path: str, what: str) -> None:
    if "min" in spec and size < spec["min"]:
        _fail(path, f"Member must have {what} greater than or equal to {spec['min']}")
    if "max" in spec and size > spec["max"]:
        _fail(path, f"Member must have {what} less than or equal to {spec['max']}")


_CHECKERS = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_number,
    "long": _check_number,
    "float": _check_number,
    "double": _check_number,
    "boolean": _check_boolean,
    "timestamp": _check_timestamp,
    "blob": _check_blob,
}


# Studio's rules for names and container paths that become directories on the worker's host
# (docs/security.md, "Names"). SageMaker's shapes give InputName and OutputName no pattern at
# all, and ChannelName's admits "." and ".."; these refuse anything but a plain file name. A
# name that passes is then joined with `paths.safe_join`, a container path mapped with
# `paths.below`, by the code that prepares the job.
PATH_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
PROCESSING_ROOT = "/opt/ml/processing/"
ML_ROOT = "/opt/ml/"
# Where SageMaker puts what it gives the container: checkpoints restored there would replace it.
CHECKPOINT_FORBIDDEN = ("/opt/ml/input", "/opt/ml/code")


def _path_name(value: str, path: str) -> None:
    if not re.fullmatch(PATH_NAME, value):
        _fail(
            path,
            f"Member must satisfy regular expression pattern: {PATH_NAME} (Studio makes a "
            "directory of this name: letters, digits, '.', '_' and '-', starting with a letter "
            "or digit, at most 64)",
        )


def _processing_path(value: str, path: str) -> None:
    paths.below(value, PROCESSING_ROOT, path)


def _checkpoint_path(value: str, path: str) -> None:
    rest = paths.below(value, ML_ROOT, path)
    for forbidden in CHECKPOINT_FORBIDDEN:
        if f"/{ML_ROOT.strip('/')}/{rest}/".startswith(f"{forbidden}/"):
            _fail(path, f"Member must not be {forbidden} nor inside it (SageMaker fills it)")


_STRICTER = {
    "Channel": {"ChannelName": _path_name},
    "ProcessingInput": {"InputName": _path_name},
    "ProcessingOutput": {"OutputName": _path_name},
    "ProcessingS3Input": {"LocalPath": _processing_path},
    "ProcessingS3Output": {"LocalPath": _processing_path},
    "CheckpointConfig": {"LocalPath": _checkpoint_path},
}


def validate_name(value: Any, shape_name: str, path: str) -> str:
    """A resource name: required, and within SageMaker's length and pattern."""
    if value is None or value == "":
        _fail(path, "Member must not be empty")
    validate(value, shape_name, path)
    return value
