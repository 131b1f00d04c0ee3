"""Hypothesis strategies for SageMaker request bodies, read from botocore's model: bodies that
fit an operation's input shape (to reach the services behind the validator), the same bodies
mutated (wrong types, nulls, out-of-range numbers, empty, over-long and pattern-breaking
strings, unknown members, nested garbage), and bodies that are not a JSON object at all.

Names, ids and ARNs are drawn from a pool the test gives (`Targets`): the caller's own
resources, another domain's, and ones that do not exist, so requests aim at real rows.
"""

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from studio.core.shapes import sagemaker_shapes

SHAPES: dict[str, dict] = sagemaker_shapes()
# Deeper than this, a structure gets its required members only: SageMaker's request shapes
# nest (and some recurse), and the interesting mistakes are near the top.
MAX_DEPTH = 3
MAX_STRING = 80  # drawn strings; the over-long ones come from GARBAGE_STRINGS
MAX_ITEMS = 3
OPTIONAL = 3  # optional members in one object, at most
# Optional in SageMaker's shapes, but what a request names in practice (and Studio requires):
# drawn always, so that bodies get past them to the services.
EXPECTED = {"ModelName", "PrimaryContainer", "AlgorithmSpecification", "RoleArn", "Image"}

# Strings that break patterns and lengths, or aim at the host: traversal, NUL, controls,
# markup, huge, non-BMP, lone surrogates (valid JSON escapes, not valid UTF-8), shell.
GARBAGE_STRINGS = [
    "",
    " ",
    "../../../../etc/passwd",
    "..",
    "/",
    "a/../../b",
    "%2e%2e%2f",
    "name\x00.txt",
    "\x00",
    "\n\r\t",
    "\u202e\u200b",
    "\ud800",
    "\udfff\ud800",
    "😀" * 40,
    "é" * 300,
    "<script>alert(1)</script>",
    "'; DROP TABLE domains_domain; --",
    "$(id)",
    "`id`",
    "x" * 70_000,
    "s3://",
    "s3://../../etc/passwd",
    "s3://studio-d-x/../../",
    "file:///etc/passwd",
    "arn:aws:sagemaker:us-east-1:000000000000:",
    "arn:aws:sagemaker:us-east-1:123456789012:training-job/x",
    "1e999",
    "-1",
    "NaN",
    "null",
    "{}",
    "[]",
]
GARBAGE_NUMBERS = [
    -1,
    0,
    2**31,
    -(2**31) - 1,
    2**63,
    -(2**63) - 1,
    2**64,
    10**30,
    1.5,
    -0.0,
    1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
]

_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),  # NaN and the infinities too: Python's json writes and reads them
    st.text(max_size=40),
    st.sampled_from(GARBAGE_STRINGS),
    st.sampled_from(GARBAGE_NUMBERS),
)
GARBAGE = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=12), st.sampled_from(GARBAGE_STRINGS)), inner, max_size=4
        ),
    ),
    max_leaves=12,
)


@dataclass(frozen=True)
class Targets:
    """What names and ARNs in a request may point at."""

    own_domain: str
    other_domain: str
    own_account: str
    other_account: str
    own_bucket: str
    other_bucket: str
    names: tuple[str, ...]  # resources of the caller's domain, another's, and none
    profiles: tuple[str, ...]

    def domain_ids(self) -> list[str]:
        # The caller's own most often, so that requests get past the domain to the service.
        own = [self.own_domain] * 4
        return [*own, self.other_domain, "d-000000000000", "d-" + "x" * 60]

    def arns(self, member: str) -> list[str]:
        resource = _kebab(member.removesuffix("Arn").removesuffix("Equals"))
        arns = []
        for account in (self.own_account, self.other_account, "000000000000"):
            for name in self.names:
                arns.append(f"arn:aws:sagemaker:us-east-1:{account}:{resource}/{name}")
        arns.append(
            f"arn:aws:sagemaker:us-east-1:{self.other_account}:{resource}/"
            f"{self.other_domain}/{self.names[0]}"
        )
        arns.append(f"arn:aws:iam::{self.own_account}:role/studio")
        return arns

    def log_groups(self) -> list[str]:
        """SageMaker's log groups, one of another domain's endpoints, and ones Studio has not."""
        kinds = ("TrainingJobs", "ProcessingJobs", "TransformJobs", "NotebookInstances")
        return [
            *(f"/aws/sagemaker/{kind}" for kind in kinds),
            *(f"/aws/sagemaker/Endpoints/{name}" for name in self.names),
            "/aws/sagemaker/Endpoints/../TrainingJobs",
            "/aws/lambda/x",
            "arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/TrainingJobs",
        ]

    def log_streams(self) -> list[str]:
        """SageMaker's stream names (<job>/algo-1-<epoch>, <variant>/<instance>) of the
        caller's, another domain's and no resource."""
        return [
            *(f"{name}/algo-1-1700000000" for name in self.names),
            *(f"AllTraffic/{name}" for name in self.names),
            *self.names,
            "../../etc/passwd",
        ]

    def uris(self) -> list[str]:
        return [
            f"s3://{self.own_bucket}/data/train.csv",
            f"s3://{self.own_bucket}/",
            f"s3://{self.other_bucket}/private/secret.csv",
            f"s3://{self.other_bucket}/",
            f"s3://{self.own_bucket}/../{self.other_bucket}/private",
            "s3://no-such-bucket-here/x",
        ]


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class Bodies:
    """Strategies for one test's targets (the pool of names differs from test to test)."""

    def __init__(self, targets: Targets, shapes: dict[str, dict] = SHAPES):
        self.targets = targets
        self.shapes = shapes
        self._cache: dict[tuple[str, str, int], st.SearchStrategy] = {}

    def fitting(self, shape_name: str | None) -> st.SearchStrategy[dict]:
        """A request body that fits `shape_name` (mostly: patterns SageMaker writes for Java's
        regex engine are drawn as plain text)."""
        if shape_name is None:
            return st.just({})
        return self.value(shape_name, "", 0)

    def value(self, shape_name: str, member: str, depth: int) -> st.SearchStrategy:
        key = (shape_name, member, depth)
        if key not in self._cache:
            self._cache[key] = st.deferred(lambda: self._build(shape_name, member, depth))
        return self._cache[key]

    def _build(self, shape_name: str, member: str, depth: int) -> st.SearchStrategy:
        spec = self.shapes[shape_name]
        kind = spec["type"]
        if kind == "structure":
            members = spec.get("members", {})
            required = [m for m in spec.get("required", []) if m in members]
            required += [m for m in members if m in EXPECTED and m not in required]
            optional = [m for m in members if m not in required] if depth < MAX_DEPTH else []
            values = {m: self.value(members[m]["shape"], m, depth + 1) for m in members}
            return _structures(required, optional, values)
        if kind == "list":
            low = spec.get("min", 0)
            return st.lists(
                self.value(spec["member"]["shape"], member, depth + 1),
                min_size=low,
                max_size=max(low, min(spec.get("max", MAX_ITEMS), MAX_ITEMS)),
            )
        if kind == "map":
            return st.dictionaries(
                self.value(spec["key"]["shape"], "", depth + 1),
                self.value(spec["value"]["shape"], "", depth + 1),
                max_size=min(spec.get("max", MAX_ITEMS), MAX_ITEMS),
            )
        if kind == "string":
            return self._string(spec, member)
        if kind in ("integer", "long"):
            return st.integers(
                min_value=int(spec.get("min", -(2**31))),
                max_value=int(spec.get("max", 2**31 - 1)),
            )
        if kind in ("float", "double"):
            return st.floats(
                min_value=spec.get("min", -1e9),
                max_value=spec.get("max", 1e9),
                allow_nan=False,
            )
        if kind == "boolean":
            return st.booleans()
        if kind == "timestamp":
            return st.one_of(
                st.floats(min_value=0, max_value=4e9, allow_nan=False),
                st.integers(min_value=0, max_value=4_000_000_000),
                st.datetimes().map(lambda d: d.isoformat()),
            )
        if kind == "blob":
            return st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode())
        return GARBAGE

    def _string(self, spec: dict, member: str) -> st.SearchStrategy[str]:
        if "enum" in spec:
            return st.sampled_from(spec["enum"])
        low, high = spec.get("min", 0), min(spec.get("max", MAX_STRING), MAX_STRING)
        plain = st.text(min_size=low, max_size=max(low, high))
        pattern = spec.get("pattern")
        drawn = plain
        if pattern:
            try:
                re.compile(pattern)
                drawn = st.from_regex(pattern, fullmatch=True).map(lambda s: s[: max(high, low)])
            except re.error:
                pass
        pool = self._pool(member)
        if pool:
            return st.one_of(st.sampled_from(pool), drawn)
        return drawn

    def _pool(self, member: str) -> list[str]:
        """Known values for a member by its name: ids, names, ARNs and URIs of real rows."""
        t = self.targets
        if member.startswith("logGroup"):
            return t.log_groups()
        if member.startswith("logStream"):
            return t.log_streams()
        if member in ("DomainId", "DomainIdEquals"):
            return t.domain_ids()
        if "UserProfileName" in member or member == "OwnerUserProfileName":
            return list(t.profiles)
        if member.endswith("RoleArn"):
            return [f"arn:aws:iam::{t.own_account}:role/studio"] * 3 + t.arns(member)
        if member.endswith("Arn") or member.endswith("ArnEquals"):
            return t.arns(member)
        if member.endswith("Uri") or member in ("S3OutputPath", "S3Uri", "ModelDataUrl"):
            return t.uris()
        if member.endswith("Name") or member.endswith("NameEquals") or member == "NameContains":
            return list(t.names)
        return []


def _structures(
    required: list[str], optional: list[str], values: dict[str, st.SearchStrategy]
) -> st.SearchStrategy[dict]:
    """An object with its required members and a few optional ones (at most OPTIONAL): with
    each of SageMaker's many optional members in half the bodies, nearly every body would
    carry one Studio refuses, and the services behind it would never be reached."""

    @st.composite
    def build(draw: st.DrawFn) -> dict:
        chosen = (
            draw(st.lists(st.sampled_from(optional), max_size=OPTIONAL, unique=True))
            if optional
            else []
        )
        return {m: draw(values[m]) for m in [*required, *chosen]}

    return build()


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every position in a JSON value, as the keys and indexes that lead to it."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths(v, (*prefix, i))
    return found


def replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy


def removed(value: Any, path: tuple) -> Any:
    head, rest = path[0], path[1:]
    if rest:
        return replaced(value, (head,), removed(value[head], rest))
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != head}
    return [v for i, v in enumerate(value) if i != head]


def encoded(value: Any) -> bytes:
    """JSON as a client might send it: Python's encoder writes NaN and Infinity too."""
    return json.dumps(value).encode()


RAW_BODIES = [
    b"",
    b"{",
    b"{not json",
    b'{"a": }',
    b"\xff\xfe\x00{}",
    b'{"DomainId": "\xc3\x28"}',
    b"\xed\xa0\x80",
    b"null",
    b"true",
    b"0",
    b'"a string"',
    b"[]",
    b"[{}]",
    b'{"a": 1, "a": 2}',
    b"[" * 5000 + b"]" * 5000,
    b'{"x": ' * 2000 + b"1" + b"}" * 2000,
    b"\x00" * 64,
    b"NaN",
    b'{"MaxResults": 1e999}',
    b'{"MaxResults": -1e999}',
]


@st.composite
def mutated(draw: st.DrawFn, fitting: st.SearchStrategy[dict]) -> tuple[str, bytes]:
    """A body and what was done to it (for the failure message)."""
    how = draw(
        st.sampled_from(["fitting", "replace", "unknown member", "remove", "not an object", "raw"])
    )
    if how == "raw":
        return how, draw(st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=200)))
    if how == "not an object":
        return how, encoded(draw(GARBAGE.filter(lambda v: not isinstance(v, dict))))
    body = draw(fitting)
    if how == "replace":
        where = draw(st.sampled_from(paths(body)[1:] or [()]))
        body = replaced(body, where, draw(GARBAGE))
        how = f"replace {'.'.join(map(str, where))}"
    elif how == "unknown member":
        objects = [p for p in paths(body) if isinstance(_at(body, p), dict)]
        where = draw(st.sampled_from(objects))
        name = draw(st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(GARBAGE_STRINGS)))
        body = replaced(body, where, {**_at(body, where), name: draw(GARBAGE)})
        how = f"unknown member {name!r} at {'.'.join(map(str, where))}"
    elif how == "remove" and len(paths(body)) > 1:
        where = draw(st.sampled_from(paths(body)[1:]))
        body = removed(body, where)
        how = f"remove {'.'.join(map(str, where))}"
    return how, encoded(body)


def _at(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value
