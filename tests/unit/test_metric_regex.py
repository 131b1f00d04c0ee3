"""MetricDefinitions regexes run with RE2: linear in the line, refused when RE2 cannot run them."""

import pytest

from jobs.training.logs import METRIC_LINE_CHARS, MetricParser, compile_metric_regex
from studio.core.errors import ValidationException

FIELD = "AlgorithmSpecification.MetricDefinitions[0].Regex"


def test_a_catastrophic_pattern_is_evaluated_in_linear_time():
    """`(a+)+$` on a's then b takes Python's `re` exponential time; RE2 answers at once (a
    hung parser would hang this test, there is no timer in it)."""
    parser = MetricParser([{"Name": "evil", "Regex": r"(a+)+$"}])
    assert parser.parse("a" * 100_000 + "b") == []


def test_values_are_parsed_as_sagemaker_does():
    parser = MetricParser([{"Name": "loss", "Regex": r"loss=([0-9.]+)"}])
    assert parser.parse("epoch 3 loss=0.125 acc=0.9") == [("loss", 0.125)]
    assert parser.parse("no metric here") == []


def test_only_the_start_of_a_long_line_is_searched():
    parser = MetricParser([{"Name": "loss", "Regex": r"loss=([0-9.]+)"}])
    assert parser.parse("x" * METRIC_LINE_CHARS + "loss=1") == []
    assert parser.parse("loss=1 " + "x" * 10 * METRIC_LINE_CHARS) == [("loss", 1.0)]


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=loss)loss=([0-9]+)", r"(?<!x)y([0-9])"])
def test_backreferences_and_lookaround_are_refused_naming_the_field(pattern):
    with pytest.raises(ValidationException) as refused:
        compile_metric_regex(pattern, FIELD)
    assert refused.value.field == FIELD
    assert FIELD in str(refused.value) and "RE2" in str(refused.value)


def test_a_pattern_without_a_capture_group_is_refused():
    with pytest.raises(ValidationException, match="capture group"):
        compile_metric_regex(r"loss=[0-9.]+", FIELD)


def test_a_stored_pattern_re2_refuses_is_skipped_not_fatal():
    parser = MetricParser(
        [{"Name": "bad", "Regex": r"(a)\1"}, {"Name": "loss", "Regex": r"loss=([0-9.]+)"}]
    )
    assert parser.parse("aa loss=2") == [("loss", 2.0)]
