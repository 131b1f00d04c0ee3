"""The end of a log, read back from somewhere inside it."""

from studio.core.runtime.base import last_lines


def test_a_read_that_began_inside_a_line_drops_that_part():
    assert last_lines(b"ne 1\nline 2\nline 3\n", 5, cut_at_start=True) == ["line 2", "line 3"]


def test_only_the_lines_asked_for_come_back():
    assert last_lines(b"a\nb\nc\nd", 2, cut_at_start=False) == ["c", "d"]
    assert last_lines(b"a\nb\n", 0, cut_at_start=False) == []
