"""How the dashboard prints a moment: the one place that decides it (issue 10, item 8).

The rule:
- A moment is written absolute, day first with the month in words and a 24-hour clock:
  "28 Nov 2026, 14:05" (`{{ value|when }}`), in the server's time zone (settings.TIME_ZONE).
- Only the time of day, "14:05:03", where the day is plain from what is around it and seconds
  matter: the steps of one job's timeline (`{{ value|when:"time" }}`).
- Relative, "3 min ago", only for how recently something happened, where the page keeps it
  current: a key's last use (`{{ value|when:"relative" }}`). live.js rewrites these every
  minute with the same words (its `relative`), so a page left open does not go stale.
Whatever the form, the text is a <time> whose `datetime` and `title` give the full ISO 8601
moment, so the exact time is one hover away and scripts read it without parsing words.
"""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

STYLES = ("", "time", "relative")
# Month abbreviations in English, whatever the locale: the dashboard is written in English.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def absolute(moment: datetime) -> str:
    """Like "28 Nov 2026, 14:05", in the current time zone."""
    local = timezone.localtime(moment)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def relative(moment: datetime, now: datetime | None = None) -> str:
    """How long ago `moment` was: "just now", "3 min ago", "5 h ago", "2 days ago"; a month or
    more back, the absolute form. live.js's `relative` says the same."""
    seconds = int(((now or timezone.now()) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    if days < 30:
        return "1 day ago" if days == 1 else f"{days} days ago"
    return absolute(moment)


@register.filter(is_safe=True)
def when(moment: datetime | None, style: str = "") -> SafeString | str:
    """`moment` as a <time> element in one of the forms the module's rule names; empty for
    None (the template says what a missing moment means)."""
    if moment is None or moment == "":
        return ""
    if style not in STYLES:
        raise template.TemplateSyntaxError(
            f'when: style must be one of "", "time" or "relative", not "{style}".'
        )
    iso = timezone.localtime(moment).isoformat(timespec="seconds")
    if style == "time":
        text = f"{timezone.localtime(moment):%H:%M:%S}"
    elif style == "relative":
        return format_html(
            '<time datetime="{}" title="{}" data-relative>{}</time>', iso, iso, relative(moment)
        )
    else:
        text = absolute(moment)
    return format_html('<time datetime="{}" title="{}">{}</time>', iso, iso, text)
