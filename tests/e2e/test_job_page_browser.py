"""A training job's page in a real browser (issue 10, item 8): a metric with one value is
written out, on an axis that stays within the values' bounds; a constant series draws without
errors; and Stop goes away, live, once the job has ended.

The jobs are rows made directly (as the page tests make them) and moved on server-side through
the lifecycle: what the page shows does not need a container to run."""

import re

import pytest

from jobs.models import MetricPoint
from studio.core.lifecycle import transition
from tests.e2e.pages import sign_in
from tests.integration import conftest as integration
from tests.integration.test_job_pages import make_job

pytestmark = pytest.mark.e2e
instance_types = integration.instance_types


def watch_errors(page) -> list[str]:
    """Every script error of the page from now on, console errors and uncaught exceptions:
    Chromium reports an SVG attribute given "NaN" as a console error. A resource that failed to
    load is left out: it is not the page's script (a static file rewritten while the server runs
    can be sent with a stale length)."""
    errors: list[str] = []

    def console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def chart(page, metric: str):
    return page.locator(f'figure.chart[data-metric="{metric}"]')


def y_ticks(figure) -> list[float]:
    return [float(t) for t in figure.locator("text.chart-y").all_text_contents()]


@pytest.fixture
def one_accuracy(instance_types, alice_profile):
    job = make_job(alice_profile, "one-value", status="Completed")
    MetricPoint.objects.create(job=job, name="validation:accuracy", value=0.97)
    return job


def test_a_single_metric_value_is_written_out_with_no_tick_above_one(
    one_accuracy, asgi_server, page, artifacts
):
    from playwright.sync_api import expect

    errors = watch_errors(page)
    sign_in(page, asgi_server, "/jobs/training/one-value/")
    figure = chart(page, "validation:accuracy")
    expect(figure).to_have_attribute("data-points", "1")
    expect(figure.locator(".chart-point-label")).to_have_text("0.97")
    expect(figure.locator(".chart-note")).to_have_text("one value logged")
    ticks = y_ticks(figure)
    assert ticks and max(ticks) <= 1, f"the y axis reads {ticks}"
    assert min(ticks) <= 0.97 <= max(ticks), f"the y axis reads {ticks}"
    figure.screenshot(path=artifacts / "job-one-metric-value.png")
    assert errors == []


@pytest.fixture
def constant_series(instance_types, alice_profile):
    job = make_job(alice_profile, "constant", status="Completed")
    for _ in range(6):
        MetricPoint.objects.create(job=job, name="train:loss", value=0.5)
        MetricPoint.objects.create(job=job, name="train:zero", value=0.0)
    MetricPoint.objects.bulk_create(
        MetricPoint(job=job, name="train:long", value=40 / (step + 1)) for step in range(500)
    )
    return job


def test_constant_and_long_series_draw_without_errors(
    constant_series, asgi_server, page, artifacts
):
    from playwright.sync_api import expect

    errors = watch_errors(page)
    sign_in(page, asgi_server, "/jobs/training/constant/")
    for metric, value in (("train:loss", 0.5), ("train:zero", 0.0)):
        figure = chart(page, metric)
        expect(figure).to_have_attribute("data-points", "6")
        line = figure.locator("path.chart-line")
        d = line.get_attribute("d")
        assert "NaN" not in d and "Infinity" not in d, d
        # Flat: every point of the line at one height, and that height inside the plot.
        heights = {y for y in re.findall(r"[ML][\d.]+ ([\d.]+)", d)}
        assert len(heights) == 1, d
        ticks = y_ticks(figure)
        assert min(ticks) <= value <= max(ticks) <= 1, f"{metric}: the y axis reads {ticks}"
        assert min(ticks) >= 0, f"{metric} is never negative, yet the y axis reads {ticks}"
    # A long series: a handful of step labels, the last step among them; y from the data.
    figure = chart(page, "train:long")
    expect(figure).to_have_attribute("data-points", "500")
    steps = figure.locator("text.chart-x").all_text_contents()
    assert 3 <= len(steps) <= 7 and steps[0] == "1" and steps[-1] == "500", steps
    assert "NaN" not in figure.locator("path.chart-line").get_attribute("d")
    ticks = y_ticks(figure)
    assert 0 <= min(ticks) <= 40 / 500 and 40 <= max(ticks) <= 50, f"the y axis reads {ticks}"
    page.locator("#charts").screenshot(path=artifacts / "job-constant-metric.png")
    assert errors == []


@pytest.fixture
def running_job(instance_types, alice_profile):
    return make_job(alice_profile, "to-end")


def test_stop_says_stopping_then_goes_away_live_when_the_job_ends(
    running_job, asgi_server, page, server_side, artifacts
):
    from playwright.sync_api import expect

    sign_in(page, asgi_server, "/jobs/training/to-end/")
    expect(page.locator("#job")).to_have_attribute("data-subscribed", "true", timeout=10_000)
    page.evaluate("window.__notReloaded = true")
    stop = page.locator("#stop-job")
    expect(stop).to_have_text("Stop")
    expect(stop).to_be_enabled()

    server_side(lambda: transition(running_job, "Stopping"))
    expect(stop).to_have_text("Stopping…")
    expect(stop).to_be_disabled()

    server_side(lambda: transition(running_job, "Completed"))
    expect(page.locator('.page-header [data-status-of$="/to-end"]')).to_have_text("Completed")
    expect(stop).to_have_count(0)
    expect(page.locator('[data-region="stop"] form')).to_have_count(0)
    page.screenshot(path=artifacts / "job-ended-no-stop.png")
    assert page.evaluate("window.__notReloaded") is True
