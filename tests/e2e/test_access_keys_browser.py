"""A member creates an access key in the dashboard, copies what the page shows, and boto3
calls this Studio with it from outside, as from their laptop; deleting it stops that."""

import re

import pytest
from botocore.exceptions import ClientError

from domains.services import create_space
from tests.conftest import settled
from tests.e2e.pages import sign_in
from tests.integration.api import sagemaker

pytestmark = pytest.mark.e2e


@pytest.fixture
def lab(domain, alice, alice_profile):
    """A space of alice's, made before the browser starts (its event loop bars the ORM)."""
    return settled(create_space(alice, domain.domain_id, name="lab"))


def test_a_key_made_in_the_dashboard_works_with_boto3_until_deleted(
    lab, asgi_server, page, artifacts
):
    from playwright.sync_api import expect

    sign_in(page, asgi_server, "/keys/")
    expect(page.get_by_role("heading", name="Access keys", level=1)).to_be_visible()
    page.get_by_role("button", name="Create access key").click()
    secret = page.locator("#new-secret").inner_text()
    snippet = page.locator("pre code").inner_text()
    page.screenshot(path=artifacts / "access-key-created.png")
    key_id = re.search(r'aws_access_key_id="(SKIA\w+)"', snippet).group(1)
    endpoint = re.search(r'endpoint_url="([^"]+)"', snippet).group(1)
    assert endpoint == asgi_server + "/"

    client = sagemaker(endpoint, key_id, secret)
    assert [s["SpaceName"] for s in client.list_spaces()["Spaces"]] == ["lab"]

    page.reload()  # the secret is shown once
    expect(page.locator("#new-secret")).to_have_count(0)
    row = page.locator(f'tr[data-key="{key_id}"]')
    page.once("dialog", lambda dialog: dialog.accept())  # "Delete access key …?"
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text(f"Access key {key_id} deleted")
    with pytest.raises(ClientError, match="UnrecognizedClientException"):
        client.list_spaces()
