"""Start, watch and stop the processes of `studio up`.

Each child runs in its own session, so its process group is its own: a Ctrl-C at the terminal
reaches only `studio up`, which then stops the children in order (the platform first, the Redis
it talks to last), and a signal sent to a group also reaches anything the child started itself.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: if `studio up` itself is killed (SIGKILL, the OOM
    killer), the kernel sends the child SIGTERM instead of leaving it behind, holding the
    port and the Redis socket."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path
    # Children are stopped stage by stage, highest first: the platform (1) before Redis (0).
    stage: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def group_alive(self) -> bool:
        """True while the child or anything left in its process group is running."""
        self.process.poll()  # reap the leader, or its zombie keeps the group "alive"
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def log_tail(self, lines: int = 20) -> str:
        try:
            with self.log_path.open(errors="replace") as f:
                return "".join(deque(f, maxlen=lines))
        except FileNotFoundError:
            return ""


class Supervisor:
    """The children of one `studio up`, their logs under `log_dir`, and how to stop them."""

    def __init__(self, log_dir: Path, stop_timeout: float = 10.0) -> None:
        self.log_dir = log_dir
        self.stop_timeout = stop_timeout
        self.children: list[Child] = []
        # Set by a second Ctrl-C: stop waiting for a graceful exit and kill at once. A plain
        # flag, as a signal handler sets it: threading.Event.set() there could deadlock.
        self.hurry = False

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        cwd: Path | None = None,
        stage: int = 1,
    ) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        child = Child(name, process, log_path, stage)
        self.children.append(child)
        return child

    def exited(self) -> Child | None:
        """The first child that has exited, if any: all of them are meant to run until stop()."""
        for child in self.children:
            if child.process.poll() is not None:
                return child
        return None

    def stop(self) -> list[str]:
        """Stop every child, stage by stage; return the names of those that needed SIGKILL."""
        killed: list[str] = []
        for stage in sorted({c.stage for c in self.children}, reverse=True):
            killed += self._stop_together([c for c in self.children if c.stage == stage])
        return killed

    def _stop_together(self, children: list[Child]) -> list[str]:
        for child in children:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        alive = children
        while True:
            alive = [c for c in alive if c.group_alive()]
            if not alive or time.monotonic() >= deadline or self.hurry:
                break
            time.sleep(0.05)
        for child in alive:
            child.signal_group(signal.SIGKILL)
        for child in children:
            child.process.wait()
        return [c.name for c in alive]
