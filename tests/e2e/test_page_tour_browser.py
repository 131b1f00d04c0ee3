"""A page tour: a member and an admin sign in and visit every entry of the sidebar and of the
user menu, the pages one level down that the domain's data gives (a job's page, a dataset's, a
space's, the new-job forms), and for the admin every changelist, change page and add form the
admin console's index links to. Any console error, uncaught page error, failed request or
answer of 400 or more that the tour did not ask for fails it, and so does a page without
Studio's stylesheet. It then asks for missing, forbidden and notebook-proxy pages on purpose
and checks that each is a Studio page that says what happened, with the navigation.

Links are discovered from the pages, never listed here, so a new entry is toured as soon as it
is in the navigation. A full-page screenshot of every page is kept in
test-artifacts/tour/<role>/.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.integration import conftest as integration
from tests.integration.test_model_pages import trained
from tests.integration.test_processing_pages import make_processing_job

pytestmark = pytest.mark.e2e
instance_types = integration.instance_types

# What a page must show at least: the navigation's entries by name (more may come).
MEMBER_NAV = ["Home", "Domain", "Spaces", "Datasets", "Jobs", "Access keys", "Models", "Endpoints"]
ADMIN_NAV = [*MEMBER_NAV, "Admin console"]
ADMIN_MODELS = ["domain", "userprofile", "policy", "instancetype", "image"]
# Links one level down that do something or fetch a file, rather than show a page.
NOT_A_PAGE = re.compile(
    r"/(delete|stop|start|restart|status|logs|files|artifacts|logout|switch)/|\.log$|^/jupyter/"
)
IRIS = b"sepal_length,sepal_width,species\n5.1,3.5,setosa\n4.9,3.0,setosa\n6.3,3.3,virginica\n"
# True once Studio's stylesheet (the dashboard's, or the admin console's) has loaded and
# applied: it is linked, and the root carries a colour only it sets.
STYLED = """() => {
    const root = getComputedStyle(document.documentElement);
    const loaded = [...document.styleSheets].some(
        s => s.href && /\\/static\\/studio\\/(studio|admin)\\.css$/.test(s.href));
    const applied = ['--accent-soft', '--studio-accent'].some(
        name => root.getPropertyValue(name).trim() !== '');
    return loaded && applied;
}"""


@dataclass
class Tour:
    """One signed-in browser visiting pages, keeping every problem it sees on the way."""

    page: Any
    server: str
    shots: Path
    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    # Paths asked for on purpose that answer an error status: their 4xx is the point.
    expected_errors: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        for old in self.shots.glob("*.png"):
            old.unlink()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self._problem(f"uncaught error: {e}"))
        self.page.on(
            "requestfailed",
            lambda r: self._problem(f"request failed: {r.method} {r.url}: {r.failure}"),
        )
        self.page.on("response", self._response)

    @property
    def where(self) -> str:
        return self.visited[-1] if self.visited else "(before the first page)"

    def _problem(self, text: str) -> None:
        self.problems.append(f"{self.where}: {text}")

    def _expected(self, url: str) -> bool:
        return urlsplit(url).path in self.expected_errors

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        # Chromium logs the error status of a document it was asked for on purpose.
        source = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and self._expected(source):
            return
        self._problem(f"console error: {message.text} ({source})")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and not self._expected(response.url):
            self._problem(f"{response.status} for {response.request.method} {response.url}")

    def visit(self, path: str, status: int = 200) -> None:
        """Open `path` (or a whole URL), expect `status`, check the page is Studio's, and keep
        a screenshot."""
        if status >= 400:
            self.expected_errors.add(urlsplit(path).path)
        self.visited.append(path)
        url = path if path.startswith("http") else self.server + path
        response = self.page.goto(url, wait_until="networkidle")
        assert response is not None, path
        assert response.status == status, f"{path} answered {response.status}, not {status}"
        if not self.page.evaluate(STYLED):
            self._problem("the page is not styled by Studio's stylesheet")
        slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
        self.page.screenshot(
            path=self.shots / f"{len(self.visited):02d}-{slug[:80]}.png", full_page=True
        )

    def links(self, selector: str) -> list[tuple[str, str]]:
        """(text, path) of the links `selector` finds on the current page, in page order."""
        found = self.page.eval_on_selector_all(
            selector, "els => els.map(a => [a.textContent.trim(), a.href])"
        )
        return [(text, urlsplit(href).path) for text, href in found if _ours(self.server, href)]

    def check(self) -> None:
        assert not self.problems, "the tour found problems:\n" + "\n".join(self.problems)


def _ours(server: str, href: str) -> bool:
    return href.startswith(server + "/")


def sign_in(page: Any, server: str, username: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/")


def tour_dashboard(tour: Tour, must_have: list[str]) -> list[str]:
    """Every sidebar and user-menu entry, then the pages they link to one level down (not
    lists' filters or pages, which are the same page). Returns the entries' names."""
    tour.visit("/")
    entries = tour.links("nav.sidebar a") + tour.links(".usermenu-panel a")
    names = [text for text, _ in entries]
    missing = [name for name in must_have if name not in names]
    assert not missing, f"the navigation lacks {missing}: it has {names}"
    entry_paths = list(dict.fromkeys(path for _, path in entries))
    below: list[str] = []
    for path in entry_paths:
        if path.startswith("/admin/"):
            continue  # the admin console has a tour of its own (tour_admin)
        if path not in tour.visited:
            tour.visit(path)
        else:
            tour.page.goto(tour.server + path, wait_until="networkidle")
        below += [p for _, p in tour.links("main#content a") if not NOT_A_PAGE.search(p)]
    for path in dict.fromkeys(below):
        if path not in tour.visited and not path.startswith("/admin/"):
            tour.visit(path)
    return names


def tour_admin(tour: Tour) -> None:
    """The admin console's index, then each model's changelist, its first object's change
    page and its add form, as the index links them."""
    tour.visit("/admin/")
    model = re.compile(r"^/admin/[a-z_]+/[a-z_]+/(add/)?$")
    paths = list(dict.fromkeys(p for _, p in tour.links("#content-main a") if model.match(p)))
    changelists = [p for p in paths if not p.endswith("/add/")]
    for name in ADMIN_MODELS:
        assert any(p.endswith(f"/{name}/") for p in changelists), (
            f"the admin index links no {name} changelist: {changelists}"
        )
    for path in paths:
        tour.visit(path)
        if path in changelists:
            rows = tour.links("#result_list tbody tr th a")
            if rows:
                tour.visit(rows[0][1])


def test_the_tour_notices_console_errors_failed_requests_and_error_answers(
    alice_profile, asgi_server, page, artifacts
):
    """The tour's own check: what it must fail on, it sees."""
    sign_in(page, asgi_server, "alice", "alice-pass-1")
    tour = Tour(page, asgi_server, artifacts / "tour" / "self-check")
    tour.visit("/")
    page.evaluate("console.error('broken on purpose')")
    page.evaluate("fetch('/no-such-script.js').catch(() => {})")
    page.evaluate("fetch('http://127.0.0.1:9/refused').catch(() => {})")
    page.evaluate("setTimeout(() => { throw new Error('thrown on purpose') })")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    seen = "\n".join(tour.problems)
    assert "console error: broken on purpose" in seen
    assert "404 for GET " + asgi_server + "/no-such-script.js" in seen
    assert "request failed: GET http://127.0.0.1:9/refused" in seen
    assert "uncaught error: thrown on purpose" in seen
    with pytest.raises(AssertionError, match="the tour found problems"):
        tour.check()


def check_error_pages(tour: Tour, domain_id: str) -> None:
    """Missing pages, on Studio's host and under the notebook proxy: Studio pages with the
    navigation that say what happened."""
    from playwright.sync_api import expect

    page = tour.page
    for path, says in [
        ("/no-such-page/", "Page not found"),
        ("/jobs/training/no-such-job/", "Page not found"),
        (f"/jupyter/{domain_id}/no-such-space/lab", "No running space here"),
    ]:
        tour.visit(path, status=404)
        expect(page.locator("nav.sidebar")).to_be_visible()
        expect(page.locator("main h1")).to_have_text(says)
        expect(page.get_by_role("link", name="Go to Home")).to_be_visible()
    # On a space's own host (Chromium resolves *.localhost itself), a path of no space of its
    # is a standalone Studio page, styled and linked from Studio's origin.
    port = urlsplit(tour.server).port
    tour.visit(f"http://sp-{'0' * 20}.localhost:{port}/jupyter/{domain_id}/nowhere/lab", 404)
    expect(page.locator(".auth-card h1")).to_have_text("No running space here")
    spaces = page.get_by_role("link", name="Open Spaces")
    expect(spaces).to_have_attribute("href", f"http://localhost:{port}/spaces/")


@pytest.fixture
def world(instance_types, domain, alice, alice_profile, root, make_profile) -> str:
    """The domain's data the tour finds pages for: a completed training job with a model, a
    finished processing job, a dataset and a space. Made before the browser starts (the test
    thread may not use the ORM once Playwright runs). Returns the domain's id."""
    from domains.models import Space
    from jobs.services import upload_dataset

    make_profile(domain, root)
    trained(alice_profile, "churn-model")
    make_processing_job(alice_profile, "prep-data", status="Completed")
    upload_dataset(
        alice,
        domain.domain_id,
        name="iris",
        uploaded_file=SimpleUploadedFile("iris.csv", IRIS, content_type="text/csv"),
    )
    Space.objects.create(domain=domain, name="lab", owner=alice_profile, status="InService")
    return domain.domain_id


def assert_toured(tour: Tour, domain_id: str) -> None:
    """The pages one level down that the data gives were among those visited."""
    for path in (
        "/jobs/training/churn-model/",
        "/jobs/processing/prep-data/",
        "/jobs/new/training/",
        "/jobs/new/processing/",
        f"/datasets/{domain_id}/iris/",
        "/spaces/lab/",
        "/account/password/",
    ):
        assert path in tour.visited, f"the tour never reached {path}: {tour.visited}"


def test_member_tour_visits_every_page_without_an_error(world, asgi_server, page, artifacts):
    from playwright.sync_api import expect

    tour = Tour(page, asgi_server, artifacts / "tour" / "member")
    # Signed out: the sign-in page, and a missing page in the sign-in card (no navigation).
    tour.visit("/login/")
    tour.visit("/no-such-page/", status=404)
    expect(page.locator(".auth-card h1")).to_have_text("Page not found")
    expect(page.locator("nav.sidebar")).to_have_count(0)
    sign_in(page, asgi_server, "alice", "alice-pass-1")
    names = tour_dashboard(tour, MEMBER_NAV)
    assert "Admin console" not in names
    # Home says what this month has cost so far (item 9).
    tour.visit("/")
    expect(page.locator(".spend")).to_contain_text("Spend this month")
    assert_toured(tour, world)
    check_error_pages(tour, world)
    tour.check()


def test_admin_tour_visits_every_page_and_the_admin_console_without_an_error(
    world, asgi_server, page, artifacts
):
    sign_in(page, asgi_server, "root", "root-pass-1")
    tour = Tour(page, asgi_server, artifacts / "tour" / "admin")
    tour_dashboard(tour, ADMIN_NAV)
    assert_toured(tour, world)
    tour_admin(tour)
    check_error_pages(tour, world)
    tour.check()


@pytest.fixture
def dave(live, django_user_model):
    """Staff without any permission (made before the browser starts)."""
    return django_user_model.objects.create_user("dave", password="dave-pass-1", is_staff=True)


def test_a_refused_page_is_a_studio_page_that_says_to_ask_for_access(
    dave, asgi_server, page, artifacts
):
    """The admin console refuses a changelist to staff without permissions with Studio's 403
    page, in the shell."""
    from playwright.sync_api import expect

    sign_in(page, asgi_server, "dave", "dave-pass-1")
    tour = Tour(page, asgi_server, artifacts / "tour" / "refused")
    tour.visit("/admin/domains/domain/", status=403)
    expect(page.locator("nav.sidebar")).to_be_visible()
    expect(page.locator("main h1")).to_have_text("You do not have access to this page")
    expect(page.locator("main")).to_contain_text("ask your Studio administrator for access")
    tour.check()
