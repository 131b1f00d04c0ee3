"""Django's `{# … #}` comments end on the line they start: one spread over lines is printed on
the page as it is (a space page once showed its own template comment to users). Longer
comments use {% comment %}."""

from pathlib import Path

from tests.conftest import ROOT


def spread_comments(root: Path) -> list[str]:
    return [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.count("{#") > line.count("#}")
    ]


def test_no_template_comment_spans_lines():
    assert spread_comments(ROOT / "templates") == [], "use {% comment %} over several lines"


def test_a_comment_spread_over_lines_is_found(tmp_path: Path):
    (tmp_path / "page.html").write_text("<p>{# one line #}</p>\n{# starts here\nends here #}\n")
    assert spread_comments(tmp_path) == ["page.html:2"]
