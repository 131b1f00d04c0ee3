"""The router's choices: a variant by weight, then the instance with fewest requests in flight."""

import random
from collections import Counter
from pathlib import Path

from jobs.hosting.routing import Target, Variant
from studio.web.router import table


def variant(name: str, weight: float, pks: tuple[int, ...] = ()) -> Variant:
    targets = tuple(Target(pk, Path(f"/run/{pk}.sock"), 1000) for pk in pks)
    return Variant(name, weight, targets, max_concurrency=None, scales_to_zero=False)


def test_variants_are_drawn_in_proportion_to_their_weights():
    random.seed(7)
    variants = (variant("A", 3), variant("B", 1), variant("off", 0))

    drawn = Counter(table.by_weight(variants).name for _ in range(20_000))

    assert drawn["off"] == 0
    assert 0.73 < drawn["A"] / 20_000 < 0.77


def test_no_variant_is_drawn_when_every_weight_is_zero():
    assert table.by_weight((variant("A", 0), variant("B", 0))) is None


def test_the_least_busy_instance_is_chosen_and_ties_take_turns():
    targets = variant("A", 1, (1, 2, 3)).targets
    table.in_flight.update({1: 2, 2: 1})
    try:
        busy_pick = table.least_busy(targets, set())
        table.in_flight[3] = 1
        tied = {table.least_busy(targets, set()).pk for _ in range(6)}
    finally:
        for pk in (1, 2, 3):
            table.in_flight.pop(pk, None)

    assert busy_pick.pk == 3
    assert tied == {2, 3}


def test_instances_already_tried_are_skipped_until_none_is_left():
    targets = variant("A", 1, (1, 2)).targets

    assert table.least_busy(targets, {1}).pk == 2
    assert table.least_busy(targets, {1, 2}) is None
    assert table.least_busy(targets[:1], {1}) is None
    assert table.least_busy((), set()) is None


def test_counts_of_requests_in_flight_leave_no_key_behind():
    counts: dict = {}
    table.enter(counts, 5)
    table.enter(counts, 5)
    table.leave(counts, 5)
    assert counts == {5: 1}
    table.leave(counts, 5)
    assert counts == {}
