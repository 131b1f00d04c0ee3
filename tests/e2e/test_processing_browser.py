"""A real browser prepares data end to end, on each runtime: it uploads a dataset, starts a
processing job from the form with a user's preprocess.py, watches the job's log arrive over the
websocket, sees it Completed with a link to the dataset its output became, and opens that
dataset's preview."""

import pytest

from tests.e2e.pages import LiveJobPage, sign_in
from tests.integration import conftest as integration

pytestmark = pytest.mark.e2e
# The workload fixtures: a runtime (each test runs once per runtime) and the catalog it needs.
runtime = integration.runtime
instance_types = integration.instance_types

ROWS = 40
# Keeps the rows whose x0 is positive, one log line a row, slowly enough for the page to watch
# the log grow while the job runs.
PREPROCESS_PY = """
import csv, glob, os, time
threshold = float(os.environ["MIN_X0"])
[source] = glob.glob("/opt/ml/processing/input/data/*.csv")
with open(source, newline="") as f:
    rows = list(csv.DictReader(f))
print(f"read {len(rows)} rows from {os.path.basename(source)}", flush=True)
kept = []
for i, row in enumerate(rows):
    if float(row["x0"]) > threshold:
        kept.append(row)
    if i % 10 == 9:
        print(f"checked {i + 1} rows, kept {len(kept)}", flush=True)
        time.sleep(1.0)
with open("/opt/ml/processing/output/positive.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["label", "x0", "x1"])
    writer.writeheader()
    writer.writerows(kept)
print(f"wrote {len(kept)} rows", flush=True)
"""


def raw_csv() -> str:
    lines = ["label,x0,x1"]
    for i in range(ROWS):
        x0 = (i - ROWS / 2) / 10  # half of them positive
        lines.append(f"{int(x0 > 0)},{x0:.1f},{i % 7 / 7:.3f}")
    return "\n".join(lines) + "\n"


def test_prepare_a_dataset_with_a_processing_job_and_watch_it_live(
    runtime, domain, alice_profile, asgi_server, page, artifacts, tmp_path
):
    from playwright.sync_api import expect

    raw = tmp_path / "raw.csv"
    raw.write_text(raw_csv())
    script = tmp_path / "preprocess.py"
    script.write_text(PREPROCESS_PY)
    name = f"prep-e2e-{runtime}"
    domain_id = domain.domain_id

    sign_in(page, asgi_server, "/datasets/")

    # A dataset uploaded on the Datasets page
    page.get_by_label("Name", exact=True).fill("raw")
    page.get_by_label("File", exact=True).set_input_files(raw)
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(f"{asgi_server}/datasets/{domain_id}/raw/")

    # The processing form, from the jobs list
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="Start a processing job").click()
    page.get_by_label("Job name").fill(name)
    page.get_by_label("Processing script").set_input_files(script)
    page.get_by_label("Input dataset").select_option("raw")
    expect(page.get_by_label("Output name")).to_have_value("output")
    expect(page.get_by_label("Image")).to_have_value("studio/sklearn:latest")
    page.get_by_label("Instance type").select_option("ml.m5.large")
    page.get_by_label("Max runtime (seconds)").fill("300")
    page.get_by_label("Environment").fill("MIN_X0=0")
    page.screenshot(path=artifacts / f"processing-form-{runtime}.png", full_page=True)
    page.get_by_role("button", name="Start processing job").click()

    # Everything below, up to the dataset's page, must arrive over the websocket.
    job = LiveJobPage(page, asgi_server, "processing", "ProcessingJob", name)
    badge, log = job.badge, job.log

    # Seen while the job runs, then the rest: the log grows live.
    expect(log).to_contain_text("checked 10 rows", timeout=60_000)
    expect(badge).to_have_text("InProgress")
    expect(log).not_to_contain_text("wrote ")
    expect(page.locator(".job-flash")).to_contain_text(f"{name} was created")
    expect(page.locator("#processing-time")).not_to_have_text("—")
    expect(page.locator("#cost")).to_contain_text("$")
    page.screenshot(path=artifacts / f"processing-running-{runtime}.png", full_page=True)

    expect(badge).to_have_text("Completed", timeout=90_000)
    expect(log).to_contain_text(f"wrote {ROWS // 2 - 1} rows")
    expect(page.locator("#timeline")).to_contain_text("Completed")
    # Ended: no Stop at all, and the form's "was created" gone with it.
    expect(page.locator("#stop-job")).to_have_count(0)
    expect(page.locator(".job-flash")).to_have_count(0)
    link = page.get_by_role("link", name=f"{name}-output")
    expect(link).to_be_visible()
    job.assert_not_reloaded()
    page.screenshot(path=artifacts / f"processing-completed-{runtime}.png", full_page=True)

    # The new dataset: its preview holds the kept rows only
    link.click()
    expect(page).to_have_url(f"{asgi_server}/datasets/{domain_id}/{name}-output/")
    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(preview.locator("thead")).to_contain_text("x0")
    expect(preview.locator("tbody tr").first).to_contain_text("0.1")
    expect(page.get_by_text(f"of {ROWS // 2 - 1} rows")).to_be_visible()
    page.screenshot(path=artifacts / f"processing-dataset-{runtime}.png", full_page=True)

    job.expect_listed_as("Completed")
    page.screenshot(path=artifacts / f"jobs-list-processing-{runtime}.png", full_page=True)
