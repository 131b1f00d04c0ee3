"""What the training-job and processing-job page tests share: helpers to read pages, the
fixtures both modules use, and `JobPageCases`, the tests every kind of job's pages pass alike
(in the manner of NetBox's view test cases). A test module subclasses `JobPageCases` once per
kind, naming the kind in class attributes, and binds the fixtures below at module level
(`data = job_pages.data`) so that its own tests and the cases find them."""

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import Model
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.models import Dataset
from jobs.training.logs import log_path
from metering.catalog import InstanceType
from studio.core import storage
from studio.core.events import Event, resource_group, send_now
from studio.core.models import StatusTransition
from tests.integration.conftest import put
from tests.integration.test_live_events import _connect, _next_event
from tests.integration.training import DATA, separable_csv

JOBS = reverse("dashboard:jobs")


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response
    return response.content.decode()


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown for {field}"
    return match.group(1)


def queries_of(client, url: str) -> int:
    """How many queries a page takes."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


async def download(user, url: str) -> tuple[int, bytes, dict]:
    """GET through the async path the ASGI server uses, consuming the streamed body."""
    client = AsyncClient()
    await client.aforce_login(user)
    response = await client.get(url)
    if not response.streaming:
        return response.status_code, response.content, dict(response.headers)
    body = b"".join([chunk async for chunk in response.streaming_content])
    return response.status_code, body, dict(response.headers)


def dataset(profile, name: str, uri: str) -> Dataset:
    return Dataset.objects.create(
        domain=profile.domain,
        owner=profile,
        name=name,
        format="csv",
        s3_uri=uri,
        size_bytes=100,
        row_count=10,
    )


def write_log(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


@pytest.fixture
def carol_elsewhere(make_domain, make_profile, carol):
    """Carol, with a profile in another domain only."""
    return make_profile(make_domain("vision"), carol)


@pytest.fixture
def data() -> str:
    return put(DATA, separable_csv(40))


class JobPageCases:
    """The pages of one kind of job: the job's page, Stop, log downloads, the form and the
    websocket subscription, as every kind has them. A subclass names the kind."""

    # "training": the prefix of the kind's URL names.
    view_prefix: str
    resource_type: str  # "TrainingJob"
    label: str  # "Training job", as messages name one
    model: type[Model]
    start_field: str  # the model's field for when the job started work, and ended it
    end_field: str
    # make_job(profile, name, status="InProgress", **fields): a job row as the service would
    # have accepted it; nothing runs it.
    make_job: Callable[..., Any]
    job_dir: Callable[[str, str], Path]  # (domain id, name): where the job's hosts' logs are
    form_data: Callable[..., dict]  # form_data(name=..., **overrides): a valid form's fields
    # (overrides, field, message): bad input to the form, and what the field then says.
    bad_inputs: list[tuple[dict, str, str]]

    def pytest_generate_tests(self, metafunc) -> None:
        # Each kind brings its own bad input for the one test that takes it.
        if "bad_input" in metafunc.fixturenames:
            metafunc.parametrize("bad_input", self.bad_inputs, ids=[b[1] for b in self.bad_inputs])

    def url(self, name: str, view: str = "job", **kwargs) -> str:
        return reverse(f"dashboard:{self.view_prefix}_{view}", kwargs={"name": name, **kwargs})

    @property
    def new_url(self) -> str:
        return reverse(f"dashboard:{self.view_prefix}_job_new")

    def status(self, name: str) -> str:
        return self.model.objects.get(name=name).status

    def log_of(self, job) -> Path:
        return log_path(self.job_dir(job.domain.domain_id, job.name), "algo-1")

    # --- The job page -----------------------------------------------------------------------

    def test_an_ended_jobs_page_shows_its_cost_and_log_tails_and_no_live_stop(
        self, client, alice, alice_profile
    ):
        start = timezone.now() - timedelta(minutes=10)
        times = {self.start_field: start, self.end_field: start + timedelta(seconds=90)}
        job = self.make_job(alice_profile, "ended", "Completed", instance_count=2, **times)
        write_log(self.log_of(job), "".join(f"row {i} <kept>\n" for i in range(3000)))
        client.force_login(alice)

        html = html_of(client, self.url("ended"))
        # Cost: 90 s on 2 instances at the catalog's price
        price = InstanceType.objects.get(name="ml.m5.large").price_per_hour
        assert f"${price * 180 / Decimal(3600):.4f}" in html
        assert "1 min 30 s" in html and "3 min 00 s" in html  # its time, and billable
        # The log's tail (not all 3,000 lines), escaped, and a download link per host
        assert "row 2999 &lt;kept&gt;" in html and "row 10 " not in html
        for host in ("algo-1", "algo-2"):
            assert self.url("ended", "job_log", host=host) in html
        # Subscribed to its own events; no Stop (it has ended)
        assert f'data-subscribe="{self.resource_type}:{job.resource_id}"' in html
        assert 'id="stop-job"' not in html

    def test_a_running_jobs_page_shows_cost_so_far_and_a_live_stop(
        self, client, alice, alice_profile
    ):
        self.make_job(
            alice_profile,
            "running",
            instance_type="ml.m5.xlarge",
            **{self.start_field: timezone.now() - timedelta(hours=2)},
        )
        client.force_login(alice)
        html = html_of(client, self.url("running"))
        assert "Cost so far" in html and 'data-running="true"' in html
        assert 'data-price="0.2300"' in html and "1 \N{MULTIPLICATION SIGN} $0.23/h" in html
        assert "$0.46" in html  # two hours at $0.23
        assert not re.search(r'id="stop-job"\s+disabled', html)

    def test_job_pages_are_for_the_domain_only(
        self, client, alice, alice_profile, bob, bob_profile, carol, carol_elsewhere
    ):
        job = self.make_job(alice_profile, "private")
        write_log(self.log_of(job), "secret\n")
        log = self.url("private", "job_log", host="algo-1")
        client.force_login(alice)
        assert client.get(log).status_code == 200
        client.force_login(bob)
        assert client.get(self.url("private")).status_code == 200

        client.force_login(carol)
        assert "private" not in html_of(client, JOBS)
        assert "private" not in html_of(client, reverse("dashboard:home"))
        for url in (self.url("private"), log):
            assert client.get(url).status_code == 404, url
        assert client.post(self.url("private", "job_stop")).status_code == 404
        assert client.get(self.url("no-such-job")).status_code == 404
        assert client.get(self.url("not_a_valid_name")).status_code == 404
        assert self.status("private") == "InProgress"

    def test_a_name_two_domains_use_shows_each_user_their_own_domains_job(
        self, client, alice, alice_profile, carol, carol_elsewhere
    ):
        ours = self.make_job(alice_profile, "shared", "Completed")
        theirs = self.make_job(carol_elsewhere, "shared")
        write_log(self.log_of(ours), "alice's line\n")
        write_log(self.log_of(theirs), "carol's line\n")

        client.force_login(alice)
        html = html_of(client, self.url("shared"))
        assert ours.arn in html and theirs.arn not in html
        assert "alice&#x27;s line" in html and "carol" not in html
        # Stopping "shared" from alice's domain finds her (ended) job, never carol's.
        client.post(self.url("shared", "job_stop"))
        assert self.model.objects.get(pk=theirs.pk).status == "InProgress"

        client.force_login(carol)
        html = html_of(client, self.url("shared"))
        assert theirs.arn in html and ours.arn not in html
        assert "carol&#x27;s line" in html and "alice" not in html

    # --- Stop -------------------------------------------------------------------------------

    def test_the_owner_stops_a_running_job(self, client, alice, alice_profile):
        self.make_job(alice_profile, "to-stop")
        client.force_login(alice)
        response = client.post(self.url("to-stop", "job_stop"), follow=True)
        assert response.redirect_chain == [(self.url("to-stop"), 302)]
        assert "Stopping to-stop" in response.content.decode()
        assert StatusTransition.objects.filter(
            resource_type=self.resource_type,
            resource_id=f"{alice_profile.domain.domain_id}/to-stop",
            to_status="Stopping",
        ).exists()
        # The worker may already have finished the stop of a job that never started.
        assert self.status("to-stop") in {"Stopping", "Stopped"}
        assert client.get(self.url("to-stop", "job_stop")).status_code == 405

    def test_someone_elses_stop_is_refused_with_a_message(
        self, client, alice_profile, bob, bob_profile, carol, carol_elsewhere
    ):
        self.make_job(alice_profile, "not-bobs")
        client.force_login(bob)
        response = client.post(self.url("not-bobs", "job_stop"), follow=True)
        assert response.status_code == 200
        refusal = f"is not authorized to perform sagemaker:Stop{self.resource_type}"
        assert refusal in response.content.decode()
        assert self.status("not-bobs") == "InProgress"

        client.force_login(carol)
        assert client.post(self.url("not-bobs", "job_stop")).status_code == 404
        assert self.status("not-bobs") == "InProgress"

    def test_stop_is_offered_only_to_whom_may_stop_the_job(
        self, client, alice, alice_profile, bob, bob_profile
    ):
        self.make_job(alice_profile, "alices")
        client.force_login(bob)
        html = client.get(self.url("alices")).content.decode()
        assert "alices" in html and 'id="stop-job"' not in html

        client.force_login(alice)
        assert 'id="stop-job"' in client.get(self.url("alices")).content.decode()

    def test_stopping_an_ended_job_says_why(self, client, alice, alice_profile):
        self.make_job(alice_profile, "done", "Completed")
        client.force_login(alice)
        response = client.post(self.url("done", "job_stop"), follow=True)
        assert "only InProgress jobs can be stopped" in response.content.decode()

    # --- Log downloads ----------------------------------------------------------------------

    async def test_a_log_downloads_whole_for_the_domain_only(
        self, alice, alice_profile, carol, carol_elsewhere
    ):
        job = await sync_to_async(self.make_job)(alice_profile, "finished", "Completed")
        log = self.log_of(job)
        write_log(log, b"x" * 700_000 + b"\nthe end\n")  # several chunks
        url = self.url("finished", "job_log", host="algo-1")

        status, body, headers = await download(alice, url)
        assert status == 200 and body.endswith(b"\nthe end\n") and len(body) == 700_009
        assert headers["Content-Length"] == "700009"
        assert 'filename="finished-algo-1.log"' in headers["Content-Disposition"]
        assert (await download(carol, url))[0] == 404
        # A host the job does not have
        assert (await download(alice, self.url("finished", "job_log", host="algo-2")))[0] == 404

    # --- The form ---------------------------------------------------------------------------

    def test_bad_input_shows_the_error_at_its_field_and_creates_nothing(
        self, client, alice, alice_profile, data, bad_input
    ):
        overrides, field, message = bad_input
        client.force_login(alice)
        response = client.post(self.new_url, self.form_data(**overrides))
        assert response.status_code == 200
        assert message in field_error(response.content.decode(), field)
        assert not self.model.objects.exists()
        code_dir = storage.artifact_store().path(
            f"s3://studio-{alice_profile.domain.domain_id}/code"
        )
        assert not code_dir.exists() or not any(code_dir.iterdir())

    def test_a_taken_name_is_shown_at_the_name(self, client, alice, alice_profile, data):
        self.make_job(alice_profile, "taken", "Completed")
        client.force_login(alice)
        response = client.post(self.new_url, self.form_data(name="taken"))
        assert "already exists" in field_error(response.content.decode(), "name")

    def test_the_form_offers_the_catalog_and_the_domains_datasets_only(
        self, client, alice, alice_profile, carol_elsewhere, data
    ):
        InstanceType.objects.filter(name="ml.p3.2xlarge").update(enabled=False)
        dataset(alice_profile, "iris", DATA)
        dataset(carol_elsewhere, "carols", DATA)
        client.force_login(alice)
        html = html_of(client, self.new_url)
        assert "ml.m5.large · 2 vCPU, 8 GiB · $0.115/h" in html
        assert "ml.g4dn.xlarge · 4 vCPU, 16 GiB, 1 GPU · $0.736/h" in html
        assert "ml.p3.2xlarge" not in html
        assert '<option value="iris">iris · 10 rows</option>' in html and "carols" not in html

        both = client.post(self.new_url, self.form_data(dataset_name="iris"))
        assert "Choose a dataset or give" in field_error(both.content.decode(), "dataset")
        # Another domain's dataset is no choice at all.
        refused = client.post(
            self.new_url, self.form_data(name="sneaky", dataset_name="carols", dataset="")
        )
        assert "Select a valid choice" in field_error(refused.content.decode(), "dataset_name")
        assert not self.model.objects.exists()

    # --- The websocket ----------------------------------------------------------------------

    async def test_a_job_page_subscription_delivers_the_jobs_log_lines(self, alice, alice_profile):
        job = await sync_to_async(self.make_job)(alice_profile, "watched")
        key = f"{self.resource_type}:{job.resource_id}"
        communicator, connected = await _connect(alice, alice_profile.pk)
        assert connected
        try:
            await communicator.send_json_to({"subscribe": key})
            ack = await _next_event(communicator, lambda e: e["kind"] in {"subscribed", "error"})
            assert ack == {"kind": "subscribed", "subscribe": key}
            group = resource_group(self.resource_type, job.resource_id)
            lines = {"host": "algo-1", "lines": ["hi"]}
            await sync_to_async(send_now)(
                Event("log", self.resource_type, job.resource_id, [group], lines)
            )
            event = await _next_event(communicator, lambda e: e["kind"] == "log")
            assert (event["resource_id"], event["lines"]) == (job.resource_id, ["hi"])
        finally:
            await communicator.disconnect()

    async def test_another_domains_user_cannot_subscribe_to_a_job(
        self, alice_profile, bob, make_domain, make_profile
    ):
        vision = await sync_to_async(make_domain)("vision")
        bobs = await sync_to_async(make_profile)(vision, bob)
        job = await sync_to_async(self.make_job)(alice_profile, "private")
        communicator, connected = await _connect(bob, bobs.pk)
        assert connected
        try:
            replies = []
            for key in (
                f"{self.resource_type}:{job.resource_id}",
                f"{self.resource_type}:{vision.domain_id}/private",
                f"{self.resource_type}:{vision.domain_id}/no-such-job",
                f"{self.resource_type}:private",
                "Domain:anything",
                "junk",
            ):
                await communicator.send_json_to({"subscribe": key})
                replies.append(await communicator.receive_json_from(timeout=10))
            assert [r["kind"] for r in replies] == ["error"] * 6
            # Another domain's job is as absent as its domain; in bob's own domain the name
            # is as free as one nobody uses.
            assert replies[0]["message"] == f"Domain {job.domain.domain_id} does not exist."
            assert replies[1]["message"] == f"{self.label} private does not exist."
            assert replies[2]["message"] == f"{self.label} no-such-job does not exist."
            # Nothing sent to alice's job reaches bob.
            group = resource_group(self.resource_type, job.resource_id)
            lines = {"host": "algo-1", "lines": ["s"]}
            await sync_to_async(send_now)(
                Event("log", self.resource_type, job.resource_id, [group], lines)
            )
            assert await communicator.receive_nothing(timeout=1)
        finally:
            await communicator.disconnect()


def inside(html: str, element_id: str) -> str:
    """The markup of the element with id `element_id` (a field's `field-<name>` div, a pair's
    `pair-<key>` fieldset), its nested elements of the same tag included."""
    opening = re.search(rf'<(\w+)[^>]*\sid="{element_id}"', html)
    assert opening, f"no element #{element_id}"
    tag, depth = opening[1], 0
    for match in re.finditer(rf"<(/?){tag}[\s>]", html[opening.start() :]):
        depth += -1 if match[1] else 1
        if depth == 0:
            return html[opening.start() : opening.start() + match.end()]
    raise AssertionError(f"#{element_id} is not closed")


def errors_in(html: str, element_id: str) -> list[str]:
    """The errors shown inside the element with id `element_id`."""
    return re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', inside(html, element_id), re.S)
