"""The build's progress display: one line per step with its elapsed time; a long command's
output condensed to a live line (spinner, line count, last line) on a terminal, or to a
periodic status line in a log (CI), and shown in full (its tail) when it fails."""

import collections
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

SPINNER = "|/-\\"
TAIL_LINES = 40  # shown when a command fails
LOG_EVERY = 15.0  # seconds between status lines when output is not a terminal


class StepFailed(Exception):
    pass


def _elapsed(start: float) -> str:
    seconds = time.monotonic() - start
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


class Progress:
    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self.start = time.monotonic()

    def say(self, message: str) -> None:
        self.out.write(message + "\n")
        self.out.flush()

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        started = time.monotonic()
        self.say(f"==> {title}")
        try:
            yield
        except BaseException:
            self.say(f"    failed after {_elapsed(started)}: {title}")
            raise
        self.say(f"    done in {_elapsed(started)}")

    def run(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdin: IO[bytes] | int | None = subprocess.DEVNULL,
    ) -> None:
        """Run `command`, showing its output condensed; raise StepFailed with its tail."""
        started = time.monotonic()
        tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        count = 0
        process = subprocess.Popen(
            command,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            text=True,
            errors="replace",
            bufsize=1,
        )
        assert process.stdout is not None
        done = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(done, started, tail, lambda: count))
        ticker.daemon = True
        ticker.start()
        try:
            for line in process.stdout:
                line = line.rstrip()
                if line:
                    tail.append(line)
                    count += 1
            returncode = process.wait()
        finally:
            done.set()
            ticker.join()
            if process.poll() is None:
                process.kill()
                process.wait()
        if self.tty:
            self.out.write("\r\033[K")
        if returncode != 0:
            shown = "\n".join(f"    | {line}" for line in tail)
            raise StepFailed(
                f"{command[0]} exited with code {returncode}; its last lines:\n{shown}"
            )

    def _tick(
        self,
        done: threading.Event,
        started: float,
        tail: collections.deque[str],
        count: Callable[[], int],
    ) -> None:
        """Keep the live line moving even while the command prints nothing."""
        frame = 0
        last_log = started
        while not done.wait(0.2 if self.tty else 1.0):
            last = tail[-1] if tail else ""
            status = f"{_elapsed(started)}, {count()} lines"
            if self.tty:
                frame += 1
                width = 100
                line = f"    {SPINNER[frame % 4]} {status}: {last}"
                self.out.write("\r\033[K" + line[:width])
                self.out.flush()
            elif time.monotonic() - last_log >= LOG_EVERY:
                last_log = time.monotonic()
                self.say(f"    ... {status}: {last[:120]}")
