"""Container output is cut into bounded lines, and the sandbox's log file stops at its cap."""

import subprocess
import sys

from studio.core.runtime.base import LINE_CUT, MAX_LINE_BYTES, split_lines
from studio.core.runtime.sandbox_shim import copy_capped


def test_whole_lines_come_out_of_arbitrary_chunks():
    assert list(split_lines([b"a\nb", b"c\r\n", b"", b"d"])) == ["a", "bc", "d"]


def test_a_line_without_newline_is_cut_once_and_the_rest_of_it_dropped():
    chunks = [b"x" * 5000] * 1000 + [b"tail\nnext\n"]
    lines = list(split_lines(chunks))
    assert lines == ["x" * MAX_LINE_BYTES + LINE_CUT, "next"]


def test_a_long_line_inside_one_chunk_is_cut():
    lines = list(split_lines([b"y" * (3 * MAX_LINE_BYTES) + b"\nshort\n"]))
    assert lines == ["y" * MAX_LINE_BYTES + LINE_CUT, "short"]


def test_a_line_of_exactly_the_limit_is_whole():
    assert list(split_lines([b"z" * MAX_LINE_BYTES, b"\n"])) == ["z" * MAX_LINE_BYTES]


def test_the_log_stops_at_its_cap_while_the_writer_runs_to_its_end(tmp_path):
    """A real child writing 8 MiB into the pipe: the file keeps 1 MiB, the child is never
    blocked, and exits normally."""
    writer = "import sys\nfor _ in range(128): sys.stdout.buffer.write(b'w' * 65536)\n"
    log_path = tmp_path / "log"
    child = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    with open(log_path, "ab") as log:
        copy_capped(child.stdout.fileno(), log, 2**20, child)
    assert child.wait() == 0
    data = log_path.read_bytes()
    assert data.startswith(b"w" * 2**20)
    assert data[2**20 :] == b"\n[Studio: output beyond 1 MiB was dropped]\n"
