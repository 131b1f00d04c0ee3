"""A job container's output: kept in a bounded file, parsed for metrics as it arrives,
and streamed to the job's page in batches; read back (its end for the page, the whole file for
a download) only here."""

import json
import logging
import os
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import re2

from jobs.models import MetricPoint
from studio.core.errors import ValidationException
from studio.core.events import Event, resource_group, send_now
from studio.core.lifecycle import LifecycleModel
from studio.core.runtime import Runtime

log = logging.getLogger(__name__)

LOG_LIMIT_BYTES = 20 * 2**20
BATCH_LINES = 200
TAIL_LINES = 25
TAIL_LINE_CHARS = 2048  # of each line kept for a failure reason
PUMP_BYTES = 2**20  # read on each poll of a running job, at most (about)
# A metric is printed near the start of its line: patterns see only this much of each line, so
# a long line costs no more than a short one.
METRIC_LINE_CHARS = 4096
# RE2 builds its automaton within this much memory, or refuses the pattern.
METRIC_REGEX_MEMORY = 8 * 2**20


# A job's page opens with the end of each host's log; the whole log is a download away.
PAGE_TAIL_BYTES = 64 * 1024
PAGE_TAIL_LINES = 500


def log_path(job_dir: Path, host: str) -> Path:
    return job_dir / "logs" / f"{host}.log"


def read_tail(path: Path) -> str:
    """The last lines of a log, read from its end so a 20 MiB log costs no more than a small
    one; "" when there is none yet."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - PAGE_TAIL_BYTES))
            data = f.read()
    except FileNotFoundError:
        return ""
    lines = data.decode(errors="replace").splitlines()
    if size > PAGE_TAIL_BYTES:
        lines = lines[1:]  # the first one is cut
    return "\n".join(lines[-PAGE_TAIL_LINES:])


def open_log(path: Path) -> tuple[BinaryIO, int] | None:
    """The log and its length now (a log still being written grows past it); None when there
    is none yet."""
    try:
        f = path.open("rb")
    except (FileNotFoundError, IsADirectoryError):
        return None
    return f, os.fstat(f.fileno()).st_size


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.max_mem = METRIC_REGEX_MEMORY
    options.log_errors = False
    return options


def compile_metric_regex(pattern: str, field: str) -> re2._Regexp:
    """A MetricDefinitions regex compiled with RE2, whose matching time is linear in the line:
    a member's pattern runs in the worker, where Python's backtracking `re` could be made to
    run for hours on one line. Raises ValidationException naming `field` when RE2 refuses the
    pattern (backreferences, lookaround) or it captures no value."""
    try:
        compiled = re2.compile(pattern, _re2_options())
    except re2.error as e:
        detail = e.args[0] if e.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        raise ValidationException(
            f"{field} must be a regular expression RE2 accepts (no backreferences or "
            f"lookaround): {detail}.",
            field,
        ) from None
    if compiled.groups < 1:
        raise ValidationException(f"{field} needs a capture group around the value.", field)
    return compiled


class MetricParser:
    """Applies MetricDefinitions regexes to log lines, as SageMaker does to CloudWatch logs."""

    def __init__(self, definitions: Iterable[dict[str, str]]):
        self.patterns = []
        for d in definitions:
            try:
                self.patterns.append((d["Name"], compile_metric_regex(d["Regex"], d["Name"])))
            except ValidationException as e:
                # Accepted before patterns were checked with RE2: the metric is not collected.
                log.warning("metric %s is not collected: %s", d["Name"], e)

    def parse(self, line: str) -> list[tuple[str, float]]:
        found = []
        line = line[:METRIC_LINE_CHARS]
        for name, pattern in self.patterns:
            match = pattern.search(line)
            if match:
                try:
                    found.append((name, float(match.group(1))))
                except (ValueError, IndexError):
                    continue
        return found


class LogSink:
    """One host's log, read a little on each short poll of its job (`pump`). What has been read
    (the runtime's cursor, the file's size, the last lines) is kept next to the log, so that
    whichever worker polls next goes on where the last one stopped."""

    def __init__(
        self,
        job: LifecycleModel,
        host: str,
        path: Path,
        parser: MetricParser | None,
        container_id: str,
    ):
        """`parser` only for a training job: metric points belong to one."""
        self.job = job
        self.host = host
        self.path = path
        self.parser = parser
        self.state_path = path.with_name(f"{host}.state.json")
        try:
            state = json.loads(self.state_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            state = {}
        if state.get("container") != container_id:
            # A new container (a first start, or a retry's): its log starts afresh.
            state = {"container": container_id, "cursor": {}, "written": 0, "truncated": False}
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
            if parser is not None:
                MetricPoint.objects.filter(job_id=job.pk).delete()
        self.container_id = container_id
        self.cursor: dict = state["cursor"]
        self.written: int = state["written"]
        self.truncated: bool = state["truncated"]
        self.tail: deque[str] = deque(state.get("tail", []), maxlen=TAIL_LINES)
        self._lines: list[str] = []
        self._points: list[MetricPoint] = []

    def pump(self, runtime: Runtime, limit: int = PUMP_BYTES) -> bool:
        """Record what the container wrote since the last pump (about `limit` bytes at most);
        False when there was nothing new."""
        lines, cursor = runtime.read_logs(self.container_id, self.cursor, limit)
        if cursor == self.cursor:
            return False
        with self.path.open("a", encoding="utf-8") as out:
            for line in lines:
                self._add(line, out)
        self._publish()
        self.cursor = cursor
        state = {
            "container": self.container_id,
            "cursor": cursor,
            "written": self.written,
            "truncated": self.truncated,
            "tail": list(self.tail),
        }
        tmp = self.state_path.with_name(f".{self.state_path.name}.tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.state_path)
        return True

    def drain(self, runtime: Runtime) -> None:
        """Everything left, once the container ended (its output is capped at the source)."""
        while self.pump(runtime):
            pass

    def _add(self, line: str, out) -> None:
        self.tail.append(line[:TAIL_LINE_CHARS])
        if not self.truncated:
            data = line + "\n"
            if self.written + len(data) > LOG_LIMIT_BYTES:
                self.truncated = True
                out.write(f"[Studio: log truncated at {LOG_LIMIT_BYTES // 2**20} MiB]\n")
            else:
                out.write(data)
                self.written += len(data)
        self._lines.append(line)
        if self.parser is not None:
            self._points.extend(
                MetricPoint(job_id=self.job.pk, name=name, value=value)
                for name, value in self.parser.parse(line)
            )
        if len(self._lines) >= BATCH_LINES:
            self._publish()

    def _publish(self) -> None:
        # The job's own group, keyed by "<domain id>/<name>": only its page's subscribers.
        groups = [resource_group(self.job.RESOURCE_TYPE, self.job.resource_id)]
        if self._lines:
            send_now(
                Event(
                    "log",
                    self.job.RESOURCE_TYPE,
                    self.job.resource_id,
                    groups,
                    {"host": self.host, "lines": self._lines},
                )
            )
            self._lines = []
        if self._points:
            MetricPoint.objects.bulk_create(self._points)
            send_now(
                Event(
                    "metric",
                    self.job.RESOURCE_TYPE,
                    self.job.resource_id,
                    groups,
                    {
                        "points": [
                            {"name": p.name, "value": p.value, "at": p.timestamp.isoformat()}
                            for p in self._points
                        ]
                    },
                )
            )
            self._points = []
