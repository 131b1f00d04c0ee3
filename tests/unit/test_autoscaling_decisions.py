"""How many instances target tracking wants for a rate of invocations."""

import pytest

from jobs.hosting.autoscaling import wanted_count

POLICY = {"min": 1, "max": 4, "target": 100.0}


@pytest.mark.parametrize(
    ("rate", "wanted"),
    [(0, 1), (50, 1), (100, 1), (101, 2), (250, 3), (10_000, 4)],
)
def test_instances_follow_the_rate_within_bounds(rate, wanted):
    assert wanted_count(rate, POLICY) == wanted


def test_a_minimum_of_zero_idles_at_zero_but_any_traffic_keeps_one():
    policy = {**POLICY, "min": 0}
    assert wanted_count(0, policy) == 0
    assert wanted_count(0.5, policy) == 1
