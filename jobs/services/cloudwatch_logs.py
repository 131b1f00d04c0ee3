"""CloudWatch Logs' view of the logs Studio keeps: the log groups and streams SageMaker writes
(`/aws/sagemaker/TrainingJobs`, `ProcessingJobs`, `TransformJobs`, `Endpoints/<name>`), read
back with the access checks of the pages that show the same logs.

A job's host log is a file of lines with no time of their own (jobs/training/logs.py writes
them as they come), so an event's timestamp is derived from where its line starts:
the stream's start (its job's creation, in milliseconds) plus one millisecond per KiB of log
before it. That is the same on every read, never decreases along a stream, and stays within
20 seconds of the job's start for the largest log kept (20 MiB), so that paging by time and
by token is stable: the SageMaker SDK's `logs_for_job` resumes from the last timestamp it saw
and skips the events it already printed at that timestamp. Tokens are byte offsets.

An endpoint's stream is the last lines of one serving container's output, read from the
runtime as the endpoint's page reads them: a window that moves as the container writes.
"""

import base64
import binascii
import hashlib
import heapq
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings

from domains.models import StudioStatus
from domains.permissions import User, bound_profile
from domains.services.lookup import get_domain
from jobs.models import Endpoint, ProcessingJob, TrainingJob, TransformJob
from jobs.services.endpoints import describe_endpoint, list_endpoints
from jobs.services.logs import open_job_log
from jobs.services.processing import describe_processing_job, list_processing_jobs
from jobs.services.training import describe_training_job, list_training_jobs
from jobs.services.transform import describe_transform_job, list_transform_jobs
from jobs.training.workspace import hosts
from studio.core.errors import AccessDenied, ResourceNotFound, StudioError, ValidationException
from studio.core.runtime import ContainerError, get_runtime

TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"
PROCESSING_GROUP = "/aws/sagemaker/ProcessingJobs"
TRANSFORM_GROUP = "/aws/sagemaker/TransformJobs"
ENDPOINTS_PREFIX = "/aws/sagemaker/Endpoints/"
JOB_GROUPS = (PROCESSING_GROUP, TRAINING_GROUP, TRANSFORM_GROUP)

BYTES_PER_MS = 1024  # of log before an event, for each millisecond after its stream's start
PAGE_BYTES = 2**20  # as CloudWatch: a page of events holds at most 1 MB of them
MAX_EVENTS = 10_000  # GetLogEvents' and FilterLogEvents' largest (and default) limit
FILTER_SCAN_BYTES = 8 * 2**20  # read by one FilterLogEvents call before it answers a token
DEFAULT_STREAMS = 50  # DescribeLogStreams' and DescribeLogGroups' default (and largest) limit
FILTER_STREAMS = 100  # FilterLogEvents' logStreamNames holds at most this many
ENDPOINT_TAIL_LINES = 1000  # the lines of an endpoint container's output its stream shows
_READ = 64 * 1024
_TOKEN = re.compile(r"(?P<direction>[fb])/(?P<offset>\d{1,56})/s")
_FILTER_SYNTAX = re.compile(r"^\s*[\[{]")


class ResourceNotFoundException(StudioError):
    code = "ResourceNotFoundException"
    http_status = 400


class InvalidParameterException(StudioError):
    code = "InvalidParameterException"
    http_status = 400


def stream_missing() -> ResourceNotFoundException:
    return ResourceNotFoundException("The specified log stream does not exist.")


def group_missing() -> ResourceNotFoundException:
    return ResourceNotFoundException("The specified log group does not exist.")


def instance_id(seed: str) -> str:
    """An EC2-like instance id, the same for the same host of the same resource."""
    return "i-" + hashlib.sha256(seed.encode()).hexdigest()[:17]


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Stream:
    """One log stream: a job host's log file, or an endpoint instance's recent output."""

    group: str
    name: str
    creation_ms: int
    job: TrainingJob | ProcessingJob | TransformJob | None = None
    host: str = ""
    instance: object = None  # an EndpointInstance
    account_id: str = ""

    def open(self) -> tuple[BinaryIO, int, int] | None:
        """The stream's data, its length and when it last grew (ms); None before the first
        line (AWS has no stream until its container writes)."""
        if self.job is not None:
            try:
                f, size = open_job_log(self.job, self.host)
            except ResourceNotFound:
                return None
            return f, size, int(os.fstat(f.fileno()).st_mtime * 1000)
        lines = _endpoint_tail(self.instance)
        data = "".join(f"{line}\n" for line in lines).encode()
        return io.BytesIO(data), len(data), self.creation_ms

    @property
    def arn(self) -> str:
        return f"{group_arn(self.group, self.account_id)}:log-stream:{self.name}"


def group_arn(group: str, account_id: str) -> str:
    return f"arn:aws:logs:{settings.STUDIO_REGION}:{account_id}:log-group:{group}"


def _endpoint_tail(instance) -> list[str]:
    if not instance.container_id:
        return []
    try:
        return get_runtime(instance.runtime).tail(instance.container_id, ENDPOINT_TAIL_LINES)
    except (ContainerError, OSError):  # docker's API errors are OSErrors (requests')
        return []


# --- Log groups and streams, as the caller may see them ----------------------------------

JOB_KINDS = {
    TRAINING_GROUP: (describe_training_job, list_training_jobs),
    PROCESSING_GROUP: (describe_processing_job, list_processing_jobs),
    TRANSFORM_GROUP: (describe_transform_job, list_transform_jobs),
}


def _job_streams(group: str, job) -> list[Stream]:
    created = _ms(job.created_at)
    streams = []
    for host in hosts(job.instance_count):
        if group == TRANSFORM_GROUP:
            suffix = instance_id(f"{job.resource_id}/{host}")
        else:
            suffix = f"{host}-{created // 1000}"
        streams.append(
            Stream(group, f"{job.name}/{suffix}", created, job, host, None, job.domain.account_id)
        )
    return streams


def _endpoint_streams(group: str, endpoint: Endpoint) -> list[Stream]:
    return [
        Stream(
            group,
            f"{instance.variant_name}/{instance_id(instance.resource_id)}",
            _ms(instance.created_at),
            instance=instance,
            account_id=endpoint.domain.account_id,
        )
        for instance in endpoint.instances.select_related("endpoint__domain").order_by("pk")
    ]


def _visible_job(actor: User, domain_id: str, group: str, name: str):
    """The job `name` of the group's kind if the caller's page would show it, else None:
    another domain's, a colleague's the policy hides, and a name that is no job's alike."""
    describe = JOB_KINDS[group][0]
    try:
        return describe(actor, domain_id, name)
    except (ResourceNotFound, ValidationException, AccessDenied):
        return None


def _visible_endpoint(actor: User, domain_id: str, name: str) -> Endpoint | None:
    try:
        return describe_endpoint(actor, domain_id, name)
    except (ResourceNotFound, ValidationException, AccessDenied):
        return None


def require_active(actor: User, action: str) -> None:
    """Refuse a suspended (or not yet InService) profile outright, as every SageMaker action
    does: what it may not read is not "not found" but denied."""
    profile = bound_profile(actor)
    if profile is None:
        return
    why = None
    if profile.is_suspended:
        why = "the profile is suspended; ask a domain admin to resume it"
    elif profile.status != StudioStatus.IN_SERVICE:
        why = f"the profile is {profile.status}, not InService"
    if why:
        raise AccessDenied(
            f"User profile '{profile.name}' in domain '{profile.domain.name}' is not "
            f"authorized to perform {action}: {why}."
        )


def check_group(actor: User, domain_id: str, group: str) -> None:
    """Raise ResourceNotFoundException unless `group` is a log group the caller can see."""
    if group in JOB_KINDS:
        get_domain(actor, domain_id)
        return
    name = group.removeprefix(ENDPOINTS_PREFIX)
    if name == group or _visible_endpoint(actor, domain_id, name) is None:
        raise group_missing()


def _group_streams(actor: User, domain_id: str, group: str, prefix: str) -> Iterator[Stream]:
    """The group's streams whose names start with `prefix`, in name order, each of a resource
    the caller may see (their logs are not opened here)."""
    check_group(actor, domain_id, group)
    if group not in JOB_KINDS:
        endpoint = _visible_endpoint(actor, domain_id, group.removeprefix(ENDPOINTS_PREFIX))
        streams = _endpoint_streams(group, endpoint) if endpoint else []
        yield from sorted((s for s in streams if s.name.startswith(prefix)), key=_name)
        return
    job_part, slash, _ = prefix.partition("/")
    if slash:  # the SDK's `<job name>/`: one job, found without listing the domain's
        job = _visible_job(actor, domain_id, group, job_part)
        names = [job_part] if job is not None else []
    else:
        try:
            listed = JOB_KINDS[group][1](actor, domain_id)
        except AccessDenied:
            return
        names = sorted(n for n in listed.values_list("name", flat=True) if n.startswith(prefix))
        job = None
    for name in names:
        found = job or _visible_job(actor, domain_id, group, name)
        if found is not None:
            streams = _job_streams(group, found)
            yield from sorted((s for s in streams if s.name.startswith(prefix)), key=_name)


def _name(stream: Stream) -> str:
    return stream.name


def find_stream(actor: User, domain_id: str, group: str, name: str) -> Stream:
    """The stream `name` of `group`, or ResourceNotFoundException as for one that does not
    exist (another domain's or a hidden colleague's alike)."""
    check_group(actor, domain_id, group)
    owner, slash, _ = name.partition("/")
    if not slash:
        raise stream_missing()
    for stream in _group_streams(actor, domain_id, group, f"{owner}/"):
        if stream.name == name:
            return stream
    raise stream_missing()


@dataclass(frozen=True)
class LogGroupInfo:
    name: str
    creation_ms: int
    arn: str


def describe_log_groups(
    actor: User,
    domain_id: str,
    *,
    prefix: str = "",
    pattern: str = "",
    limit: int = DEFAULT_STREAMS,
    token: str | None = None,
) -> tuple[list[LogGroupInfo], str | None]:
    """One page of the log groups the caller can see, by name: the three job groups, and one
    per endpoint; `pattern` matches anywhere in the name, ignoring case."""
    require_active(actor, "logs:DescribeLogGroups")
    if prefix and pattern:
        raise InvalidParameterException(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
        )
    domain = get_domain(actor, domain_id)
    created = _ms(domain.created_at)
    groups = [LogGroupInfo(g, created, group_arn(g, domain.account_id)) for g in JOB_GROUPS]
    try:
        endpoints = list(list_endpoints(actor, domain_id))
    except AccessDenied:
        endpoints = []
    for endpoint in endpoints:
        name = f"{ENDPOINTS_PREFIX}{endpoint.name}"
        groups.append(
            LogGroupInfo(name, _ms(endpoint.created_at), group_arn(name, domain.account_id))
        )
    after = _decode_after(token)
    chosen = sorted(
        (
            g
            for g in groups
            if g.name.startswith(prefix)
            and pattern.lower() in g.name.lower()
            and (after is None or g.name > after)
        ),
        key=lambda g: g.name,
    )
    page = chosen[:limit]
    return page, _encode({"a": page[-1].name}) if len(chosen) > limit else None


@dataclass(frozen=True)
class StreamInfo:
    stream: Stream
    first_event_ms: int | None
    last_event_ms: int | None
    last_ingestion_ms: int | None
    stored_bytes: int


def _info(stream: Stream) -> StreamInfo | None:
    opened = stream.open()
    if opened is None:
        return None
    f, size, mtime = opened
    with f:
        end = _complete_end(f, size)
        if end == 0:
            return StreamInfo(stream, None, None, None, 0)
        last = _line_start_before(f, end - 1)
    base = stream.creation_ms
    return StreamInfo(stream, base, _stamp(base, last), max(mtime, _stamp(base, last)), end)


def describe_log_streams(
    actor: User,
    domain_id: str,
    group: str,
    *,
    prefix: str = "",
    order_by: str = "LogStreamName",
    descending: bool = False,
    limit: int = DEFAULT_STREAMS,
    token: str | None = None,
) -> tuple[list[StreamInfo], str | None]:
    """One page of the group's streams that have a log, and the token of the next page. By
    name, a token is the last name returned, so pages do not shift as jobs are added."""
    require_active(actor, "logs:DescribeLogStreams")
    if order_by not in ("LogStreamName", "LastEventTime"):
        raise InvalidParameterException(
            "orderBy must be LogStreamName or LastEventTime.", "orderBy"
        )
    if order_by == "LastEventTime" and prefix:
        raise InvalidParameterException("Cannot order by LastEventTime with a logStreamNamePrefix.")
    streams = _group_streams(actor, domain_id, group, prefix)
    if order_by == "LastEventTime":
        infos = [i for i in map(_info, streams) if i is not None]
        infos.sort(key=lambda i: (i.last_event_ms or 0, i.stream.name), reverse=descending)
        start = _decode_index(token)
        chunk = infos[start : start + limit]
        more = start + limit < len(infos)
        return chunk, _encode({"i": start + limit}) if more else None
    after = _decode_after(token)
    ordered = list(streams)
    if descending:
        ordered.reverse()
    page: list[StreamInfo] = []
    for stream in ordered:
        if after is not None and (stream.name >= after if descending else stream.name <= after):
            continue
        info = _info(stream)
        if info is None:
            continue
        if len(page) == limit:
            return page, _encode({"a": page[-1].stream.name})
        page.append(info)
    return page, None


def _encode(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _decode(token: str | None) -> dict:
    if token is None:
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise InvalidParameterException("The specified nextToken is invalid.")
    return data


def _decode_after(token: str | None) -> str | None:
    after = _decode(token).get("a")
    if token is not None and not isinstance(after, str):
        raise InvalidParameterException("The specified nextToken is invalid.")
    return after


def _decode_index(token: str | None) -> int:
    index = _decode(token).get("i", 0)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidParameterException("The specified nextToken is invalid.")
    return index


# --- Reading events ----------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    offset: int  # where its line starts
    end: int  # where the next line starts
    timestamp: int
    message: str


def _stamp(base_ms: int, offset: int) -> int:
    return base_ms + offset // BYTES_PER_MS


def _offset_at(base_ms: int, ms: int | None) -> int | None:
    """The first offset whose lines are stamped `ms` or later."""
    if ms is None:
        return None
    return max(0, (ms - base_ms) * BYTES_PER_MS)


def _complete_end(f: BinaryIO, size: int) -> int:
    """Where the log's last whole line ends: a line still being written is not an event yet."""
    return _line_start_before(f, size)


def _line_start_before(f: BinaryIO, offset: int) -> int:
    """The start of the line holding byte `offset`."""
    pos = offset
    while pos > 0:
        start = max(0, pos - _READ)
        f.seek(start)
        chunk = f.read(pos - start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        pos = start
    return 0


def _line_start_from(f: BinaryIO, offset: int, end: int) -> int:
    """The first line start at or after `offset` (a token or a time may fall inside a line)."""
    if offset <= 0:
        return 0
    if offset >= end:
        return end
    pos = offset - 1
    f.seek(pos)
    while pos < end:
        chunk = f.read(min(_READ, end - pos))
        newline = chunk.find(b"\n")
        if newline >= 0:
            return pos + newline + 1
        pos += len(chunk)
    return end


def _events(data: bytes, start: int, base_ms: int) -> Iterator[Event]:
    """The events of whole lines in `data` (which begins at offset `start` of the log, at a
    line start); an empty line is no event (CloudWatch's messages are never empty)."""
    pos = 0
    while (newline := data.find(b"\n", pos)) >= 0:
        if newline > pos:
            message = data[pos:newline].decode(errors="replace").rstrip("\r")
            if message:
                offset = start + pos
                yield Event(offset, start + newline + 1, _stamp(base_ms, offset), message)
        pos = newline + 1


def read_forward(
    f: BinaryIO, base_ms: int, lo: int, hi: int, end: int, limit: int, budget: int = PAGE_BYTES
) -> tuple[list[Event], int]:
    """Events of lines starting in [lo, hi) of a log whose whole lines end at `end`, from
    `lo` (a line start), at most `limit` and about `budget` bytes; and where reading resumes."""
    events: list[Event] = []
    pos = lo
    stop = min(hi, end)
    while pos < stop and pos - lo < budget:
        f.seek(pos)
        data = f.read(min(end - pos, max(_READ, budget - (pos - lo))))
        last = data.rfind(b"\n")
        if last < 0:  # a line longer than what was read: read on to its end (`end` ends one)
            data += f.read(end - pos - len(data))
            last = data.rfind(b"\n")
        for event in _events(data[: last + 1], pos, base_ms):
            if event.offset >= stop:
                return events, stop
            events.append(event)
            if len(events) == limit:
                return events, event.end
        pos += last + 1
    return events, min(pos, stop)


def read_backward(
    f: BinaryIO, base_ms: int, lo: int, hi: int, limit: int, budget: int = PAGE_BYTES
) -> tuple[list[Event], int]:
    """The last events of lines starting in [lo, hi) (`hi` a line start or the end of whole
    lines), at most `limit` and about `budget` bytes; and the start of the first returned."""
    if hi <= lo:
        return [], hi
    start = max(lo, hi - budget)
    f.seek(start)
    data = f.read(hi - start)
    if start > lo:
        f.seek(start - 1)
        if f.read(1) != b"\n":  # the window begins inside a line: it belongs to the page before
            cut = data.find(b"\n")
            start, data = (start + cut + 1, data[cut + 1 :]) if cut >= 0 else (hi, b"")
    events = list(_events(data, start, base_ms))[-limit:]
    return events, events[0].offset if events else start


@dataclass
class EventPage:
    events: list[Event]
    forward_token: str
    backward_token: str


def _token(direction: str, offset: int) -> str:
    return f"{direction}/{offset:056d}/s"


def _parse_token(token: str) -> tuple[str, int]:
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise InvalidParameterException("The specified nextToken is invalid.")
    return match["direction"], int(match["offset"])


def _check_range(start_time: int | None, end_time: int | None) -> None:
    if start_time is not None and end_time is not None and end_time < start_time:
        raise InvalidParameterException("endTime must not be earlier than startTime.")


def get_log_events(
    actor: User,
    domain_id: str,
    group: str,
    stream_name: str,
    *,
    start_time: int | None = None,
    end_time: int | None = None,
    start_from_head: bool = False,
    limit: int = MAX_EVENTS,
    token: str | None = None,
) -> EventPage:
    """GetLogEvents: events at or after `start_time`, before `end_time`; without a token the
    earliest (`start_from_head`) or the latest; a forward token read at the end of the stream
    comes back unchanged, which is how callers know they have everything for now."""
    require_active(actor, "logs:GetLogEvents")
    _check_range(start_time, end_time)
    direction, at = (
        _parse_token(token) if token is not None else ("f" if start_from_head else "", 0)
    )
    stream = find_stream(actor, domain_id, group, stream_name)
    opened = stream.open()
    if opened is None:
        raise stream_missing()
    f, size, _ = opened
    base = stream.creation_ms
    with f:
        end = _complete_end(f, size)
        lo = _line_start_from(f, _offset_at(base, start_time) or 0, end)
        hi_time = _offset_at(base, end_time)
        hi = end if hi_time is None else _line_start_from(f, hi_time, end)
        if direction == "f":
            begin = lo if token is None else max(lo, _line_start_from(f, at, end))
            events, after = read_forward(f, base, begin, hi, end, limit)
            first = events[0].offset if events else begin
            return EventPage(events, _token("f", max(after, begin)), _token("b", first))
        stop = hi if token is None else min(hi, _line_start_from(f, at, end))
        events, first = read_backward(f, base, lo, stop, limit)
        after = events[-1].end if events else stop
        return EventPage(events, _token("f", after), _token("b", first))


@dataclass
class FilterPage:
    events: list[tuple[Stream, Event]]
    searched: list[tuple[str, bool]]
    token: str | None


@dataclass(order=True)
class _Head:
    timestamp: int
    index: int
    offset: int
    event: Event = field(compare=False)


def _matcher(pattern: str):
    """CloudWatch's plain filter terms: every term must appear (case-sensitive), a "quoted
    phrase" as a whole, and `?term`s make any one of them enough; JSON and space-delimited
    patterns are refused by name."""
    if _FILTER_SYNTAX.match(pattern):
        raise InvalidParameterException(
            'filterPattern: Studio matches plain terms and "quoted phrases" only, not JSON '
            "({ $.field = ... }) or space-delimited ([...]) patterns."
        )
    terms = [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', pattern)]
    required = [t for t in terms if not t.startswith("?")]
    optional = [t[1:] for t in terms if t.startswith("?") and len(t) > 1]

    def matches(message: str) -> bool:
        if not all(t in message for t in required):
            return False
        return not optional or any(t in message for t in optional)

    return matches


def filter_log_events(
    actor: User,
    domain_id: str,
    group: str,
    *,
    stream_names: list[str] | None = None,
    prefix: str | None = None,
    pattern: str = "",
    start_time: int | None = None,
    end_time: int | None = None,
    limit: int = MAX_EVENTS,
    token: str | None = None,
) -> FilterPage:
    """FilterLogEvents: the matching events of the group's streams (those named, or those with
    the prefix, or all), interleaved by time. A call reads at most FILTER_SCAN_BYTES; the
    token then says where each stream resumes."""
    require_active(actor, "logs:FilterLogEvents")
    if stream_names and prefix:
        raise InvalidParameterException(
            "Cannot specify both logStreamNames and logStreamNamePrefix."
        )
    _check_range(start_time, end_time)
    matches = _matcher(pattern)
    resume = _decode(token).get("p", {}) if token is not None else {}
    if not isinstance(resume, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in resume.values()
    ):
        raise InvalidParameterException("The specified nextToken is invalid.")
    streams = list(_group_streams(actor, domain_id, group, prefix or ""))
    if stream_names:
        wanted = set(stream_names)
        streams = [s for s in streams if s.name in wanted]
    streams = streams[:FILTER_STREAMS]
    readers = []
    try:
        for stream in streams:
            opened = stream.open()
            if opened is None:
                continue
            f, size, _ = opened
            readers.append(_Reader(stream, f, size, start_time, end_time, resume.get(stream.name)))
        return _merge(readers, matches, limit)
    finally:
        for reader in readers:
            reader.f.close()


class _Reader:
    """One stream's events in [start_time, end_time), a small page at a time."""

    PAGE_EVENTS = 200
    PAGE_BYTES = 64 * 1024

    def __init__(self, stream: Stream, f: BinaryIO, size: int, start_time, end_time, at):
        self.stream, self.f = stream, f
        base = stream.creation_ms
        self.end = _complete_end(f, size)
        lo = _line_start_from(f, _offset_at(base, start_time) or 0, self.end)
        self.pos = lo if at is None else max(lo, _line_start_from(f, at, self.end))
        hi_time = _offset_at(base, end_time)
        self.hi = self.end if hi_time is None else _line_start_from(f, hi_time, self.end)
        self.buffer: list[Event] = []

    def next_page(self) -> int:
        """Read the next page into the buffer; the bytes it read."""
        events, after = read_forward(
            self.f,
            self.stream.creation_ms,
            self.pos,
            self.hi,
            self.end,
            self.PAGE_EVENTS,
            self.PAGE_BYTES,
        )
        read, self.pos, self.buffer = after - self.pos, after, events
        return read

    @property
    def resume_at(self) -> int:
        return self.buffer[0].offset if self.buffer else self.pos

    @property
    def done(self) -> bool:
        return not self.buffer and self.pos >= self.hi


def _merge(readers: list[_Reader], matches, limit: int) -> FilterPage:
    """Events of all `readers` by time. Once the call has read FILTER_SCAN_BYTES, it stops
    where a stream would need reading again to know its next event (the order could not be
    kept past it), and the token resumes there; each reader's first page is always read, so
    every call moves on."""
    heap: list[_Head] = []
    scanned = 0

    def refill(i: int, first: bool = False) -> bool:
        nonlocal scanned
        reader = readers[i]
        while not reader.buffer and reader.pos < reader.hi:
            if scanned >= FILTER_SCAN_BYTES and not first:
                return False
            scanned += reader.next_page()
            first = False
        if reader.buffer:
            event = reader.buffer[0]
            heapq.heappush(heap, _Head(event.timestamp, i, event.offset, event))
        return True

    for i in range(len(readers)):
        refill(i, first=True)
    found: list[tuple[Stream, Event]] = []
    while heap and len(found) < limit:
        head = heapq.heappop(heap)
        reader = readers[head.index]
        reader.buffer.pop(0)
        if matches(head.event.message):
            found.append((reader.stream, head.event))
        if not refill(head.index):
            break
    searched = [(r.stream.name, r.done) for r in readers]
    if all(r.done for r in readers):
        return FilterPage(found, searched, None)
    positions = {r.stream.name: r.resume_at for r in readers}
    return FilterPage(found, searched, _encode({"p": positions}))
