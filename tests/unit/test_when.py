"""The dashboard's one way of printing a moment (studio/web/templatetags/when.py): absolute
day-first with a 24-hour clock, the time of day alone for a job's timeline, "… ago" for
recency; always a <time> carrying the full ISO moment."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template, TemplateSyntaxError

from studio.web.templatetags.when import relative

MOMENT = datetime(2026, 3, 4, 9, 7, 5, tzinfo=UTC)
ISO = "2026-03-04T09:07:05+00:00"


def render(source: str, **context) -> str:
    return Template("{% load when %}" + source).render(Context(context))


def test_a_moment_is_written_day_first_with_the_iso_moment_in_its_time_element():
    assert render("{{ m|when }}", m=MOMENT) == (
        f'<time datetime="{ISO}" title="{ISO}">4 Mar 2026, 09:07</time>'
    )


def test_a_timeline_step_is_its_time_of_day_with_seconds():
    assert render('{{ m|when:"time" }}', m=MOMENT) == (
        f'<time datetime="{ISO}" title="{ISO}">09:07:05</time>'
    )


def test_a_relative_moment_is_marked_for_the_page_to_keep_current():
    html = render('{{ m|when:"relative" }}', m=datetime.now(UTC) - timedelta(minutes=3))
    assert html.endswith(" data-relative>3 min ago</time>"), html


@pytest.mark.parametrize(
    ("ago", "words"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=59), "59 min ago"),
        (timedelta(hours=5), "5 h ago"),
        (timedelta(days=1, hours=3), "1 day ago"),
        (timedelta(days=29), "29 days ago"),
        (timedelta(days=45), "18 Jan 2026, 09:07"),
    ],
)
def test_relative_words_and_the_absolute_form_a_month_back(ago, words):
    assert relative(MOMENT - ago, now=MOMENT) == words


def test_no_moment_prints_nothing_and_an_unknown_style_is_refused():
    assert render("{{ m|when }}", m=None) == ""
    with pytest.raises(TemplateSyntaxError, match='style must be one of "", "time" or "relative"'):
        render('{{ m|when:"long" }}', m=MOMENT)
