"""The admin console in Chromium, as one product with the dashboard: Studio's top bar with the
way back to the dashboard on every page, a domain list that fits the window, and a profile form
whose policy choices follow the chosen domain without a reload.

alice administers "research" and "vision" (and, for the list, domains with long names)."""

import pytest

from tests.conftest import settled
from tests.e2e.pages import sign_in

pytestmark = pytest.mark.e2e

# SageMaker allows 63 characters in a DomainName; a list must show such names whole.
LONG_NAMES = (
    "computer-vision-research-and-model-evaluation-team-europe-west",
    "natural-language-processing-experiments-for-customer-support",
    "recommendation-systems-offline-evaluation-and-feature-store-qa",
)
STUDIO_TOPBAR = "rgb(15, 23, 42)"  # studio.css --topbar


@pytest.fixture
def alice_admin(make_domain, make_profile, alice, root):
    """alice administers research and vision; vision has a policy of its own."""
    from domains import services

    research, vision = make_domain("research"), make_domain("vision")
    make_profile(research, alice, role="Admin")
    make_profile(vision, alice, name="alice-v", role="Admin")
    services.create_policy(root, vision.domain_id, name="Vision-only", allow=["sagemaker:*"])
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    return research, vision


@pytest.fixture
def long_named_domains(alice_admin, make_domain, make_profile, alice):
    for name in LONG_NAMES:
        make_profile(make_domain(name), alice, name=f"alice-{len(name)}", role="Admin")


def test_every_console_page_has_studios_top_bar_and_its_back_link_leads_to_the_dashboard(
    alice_admin, asgi_server, page, artifacts
):
    from playwright.sync_api import expect

    research, _ = alice_admin
    sign_in(page, asgi_server, "/admin/")
    pages = (
        "/admin/",
        "/admin/domains/domain/",
        f"/admin/domains/domain/{research.pk}/change/",
        "/admin/domains/userprofile/add/",
        "/admin/domains/policy/",
        "/admin/jobs/trainingjob/",
    )
    for path in pages:
        page.goto(asgi_server + path)
        header = page.locator("#header")
        expect(header.locator(".studio-brand")).to_have_text("Studio")
        expect(header.locator(".studio-console-name")).to_have_text("Admin console")
        expect(header.get_by_role("link", name="← Back to dashboard")).to_be_visible()
        # Studio's colours and fonts, and one theme: admin's dark-mode toggle is gone.
        assert header.evaluate("e => getComputedStyle(e).backgroundColor") == STUDIO_TOPBAR
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith("system-ui"), font
        expect(page.locator(".theme-toggle")).to_have_count(0)

    page.goto(asgi_server + "/admin/")
    page.locator(".studio-usermenu summary").click()
    menu = page.locator(".studio-usermenu-panel")
    expect(menu.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(menu.get_by_role("link", name="Change password")).to_be_visible()
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
    (artifacts / "admin").mkdir(exist_ok=True)
    page.screenshot(path=artifacts / "admin" / "console-index.png")

    page.get_by_role("link", name="← Back to dashboard").click()
    expect(page).to_have_url(f"{asgi_server}/")
    expect(page.locator(".topbar .brand")).to_contain_text("Studio")
    expect(page.locator("#switch-profile")).to_be_visible()  # the dashboard's domain switcher


# The console's lists that show domain names, and the header of their last column.
LISTS = {
    "/admin/domains/domain/": "CREATED AT",
    "/admin/domains/userprofile/": "CREATED AT",
    "/admin/domains/policy/": "PROFILES",
}


@pytest.mark.parametrize("width", [1440, 1280])
def test_the_domain_lists_fit_the_window_with_their_last_column_visible(
    long_named_domains, asgi_server, page, artifacts, width
):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, asgi_server, "/admin/")
    (artifacts / "admin").mkdir(exist_ok=True)
    for path, last_header in LISTS.items():
        page.goto(asgi_server + path)
        table = page.locator("#result_list")
        expect(table.locator("tbody tr").first).to_be_visible()
        for name in LONG_NAMES:
            expect(table.get_by_text(name, exact=True).first).to_be_visible()

        fit = page.evaluate(
            """() => {
              const results = document.querySelector('#changelist-form .results');
              const last = document.querySelector('#result_list thead th:last-child');
              return {
                pageWidth: document.documentElement.scrollWidth,
                viewport: window.innerWidth,
                tableOverflow: results.scrollWidth - results.clientWidth,
                lastRight: last.getBoundingClientRect().right,
                boxRight: results.getBoundingClientRect().right,
                lastHeader: last.innerText.trim(),
              };
            }"""
        )
        assert fit["lastHeader"] == last_header, (path, fit)
        assert fit["pageWidth"] <= fit["viewport"], (path, fit)  # no horizontal page scroll
        assert fit["tableOverflow"] <= 0, (path, fit)  # nothing scrolled away inside the list
        assert fit["lastRight"] <= min(fit["boxRight"], fit["viewport"]), (path, fit)
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=artifacts / "admin" / f"{name}-{width}.png", full_page=True)


def test_the_profile_forms_policy_choices_follow_the_chosen_domain_without_a_reload(
    alice_admin, asgi_server, page, server_side, artifacts
):
    from playwright.sync_api import expect

    research, vision = alice_admin
    sign_in(page, asgi_server, "/admin/domains/userprofile/add/")
    domain = page.locator("#id_domain")
    policies = page.locator("#id_policies")
    expect(policies.locator("option")).to_have_count(0)  # no domain chosen yet
    # Its script listens from DOMContentLoaded: a choice made before that would go unheard.
    expect(policies).to_have_attribute("data-ready", "true")
    page.evaluate("window.__notReloaded = true")

    domain.select_option(str(vision.pk))
    expect(policies).to_have_attribute("data-domain", str(vision.pk))
    expect(policies.locator("option")).to_have_text(["DataScientist", "Vision-only"])
    domain.select_option(str(research.pk))
    expect(policies).to_have_attribute("data-domain", str(research.pk))
    expect(policies.locator("option")).to_have_text(["DataScientist"])
    domain.select_option(str(vision.pk))
    expect(policies.locator("option")).to_have_text(["DataScientist", "Vision-only"])
    assert page.evaluate("window.__notReloaded") is True
    (artifacts / "admin").mkdir(exist_ok=True)
    page.screenshot(path=artifacts / "admin" / "profile-add-form.png", full_page=True)

    # What the script offered is what the server accepts: dave joins vision with its policy.
    page.locator("#id_username").fill("dave")
    policies.select_option(label="Vision-only")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    def daves_profile() -> tuple[str, list[str]]:
        from domains.models import UserProfile

        profile = settled(UserProfile.objects.get(user__username="dave"))
        return profile.domain.name, [p.name for p in profile.policies.all()]

    assert server_side(daves_profile) == ("vision", ["Vision-only"])
