"""A space made and deleted from the dashboard (issue 10, item 9): the create form picks its
instance type, the space's page deletes it after asking in words that say what happens to the
files, and the list lets it go live, once the worker has finished the deletion."""

import pytest

from domains.models import Space
from tests.e2e.pages import sign_in
from tests.integration import conftest as integration

pytestmark = pytest.mark.e2e
instance_types = integration.instance_types


def test_a_space_created_on_a_chosen_type_is_deleted_from_its_page(
    instance_types, alice_profile, asgi_server, page, server_side
):
    from playwright.sync_api import expect

    asked: list[str] = []
    answers = ["dismiss", "accept"]

    def answer(dialog) -> None:
        asked.append(dialog.message)
        getattr(dialog, answers.pop(0))()

    page.on("dialog", answer)
    sign_in(page, asgi_server, "/spaces/")
    page.get_by_label("Space name").fill("scratch")
    page.get_by_label("Instance type").select_option("ml.c5.large")
    page.get_by_role("button", name="Create space").click()

    expect(page.get_by_text("Space scratch was created to run on ml.c5.large")).to_be_visible()
    row = page.locator('tr[data-space="scratch"]')
    expect(row.locator("code")).to_have_text("ml.c5.large")
    # The worker provisions it; the row follows live.
    expect(row.locator(".badge")).to_have_text("InService", timeout=30_000)

    row.get_by_role("link", name="scratch").click()
    expect(page.locator("#instance-type")).to_have_text("ml.c5.large")
    delete = page.get_by_role("button", name="Delete space")

    delete.click()  # "no": nothing happens
    expect(page).to_have_url(f"{asgi_server}/spaces/scratch/")
    assert server_side(lambda: Space.objects.get(name="scratch").status) == "InService"

    delete.click()  # "yes"
    expect(page).to_have_url(f"{asgi_server}/spaces/")
    expect(page.get_by_text("Space scratch is being deleted.")).to_be_visible()
    assert (
        asked
        == [
            "Delete space scratch? It cannot be opened again, and this cannot be undone. Its files "
            "stay in your home directory, which private spaces share."
        ]
        * 2
    )
    # Marked where a reload would wipe it: the row leaves over the websocket.
    page.evaluate("window.notReloaded = true")
    expect(page.locator('tr[data-space="scratch"]')).to_have_count(0, timeout=30_000)
    assert page.evaluate("window.notReloaded") is True
    assert not server_side(lambda: Space.objects.filter(name="scratch").exists())
