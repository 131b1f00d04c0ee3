"""Home sizes the runtime cannot bound are measured, without following what the tree links to."""

import os

from studio.core.disk_usage import home_size_problem, tree_size


def test_a_tree_is_measured_without_following_links(tmp_path):
    home = tmp_path / "home"
    (home / "a/b").mkdir(parents=True)
    (home / "a/b/data").write_bytes(os.urandom(256 * 1024))
    big = tmp_path / "outside"
    big.write_bytes(os.urandom(4 * 2**20))
    (home / "link").symlink_to(big)
    (home / "dirlink").symlink_to(tmp_path)
    size = tree_size(home)
    assert 256 * 1024 <= size < 2**20


def test_a_missing_tree_is_empty(tmp_path):
    assert tree_size(tmp_path / "none") == 0


def test_counting_stops_past_the_limit(tmp_path):
    for i in range(20):
        (tmp_path / f"d{i}").mkdir()
        (tmp_path / f"d{i}/f").write_bytes(os.urandom(64 * 1024))
    assert tree_size(tmp_path, stop_after=100 * 1024) < 20 * 64 * 1024


def test_a_home_past_the_limit_is_refused_with_a_reason(tmp_path, settings):
    (tmp_path / "f").write_bytes(os.urandom(2**20))
    settings.STUDIO_HOME_MAX_BYTES = 2**30
    assert home_size_problem(tmp_path) == ""
    settings.STUDIO_HOME_MAX_BYTES = 512 * 1024
    assert "STUDIO_HOME_MAX_BYTES" in home_size_problem(tmp_path)
