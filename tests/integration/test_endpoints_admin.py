"""The admin console's Endpoints page over HTTP, registered by the console's autodiscovery: a
domain admin (alice, of "research") sees and opens her domains' endpoints only; a superuser
sees every domain's."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.integration.test_endpoint_pages import instance, make_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(view: str, *args) -> str:
    return reverse(f"admin:jobs_endpoint_{view}", args=args)


def listed(client: Client) -> list[str]:
    response = client.get(url("changelist"))
    assert response.status_code == 200
    return sorted(e.name for e in response.context["cl"].result_list)


@pytest.fixture
def alice_admin(domain, alice, make_profile):
    profile = make_profile(domain, alice, role="Admin")
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    return profile


@pytest.fixture
def endpoints(alice_admin, bob_profile, make_domain, carol, make_profile):
    """bob's endpoint in research, carol's in finance."""
    research = make_endpoint(bob_profile, "research-ep")
    instance(research)
    finance = make_endpoint(make_profile(make_domain("finance"), carol), "finance-ep")
    return research, finance


def test_a_domain_admin_sees_only_their_domains_endpoints(alice, endpoints):
    research, finance = endpoints
    client = console(alice)

    assert listed(client) == ["research-ep"]
    index = client.get(reverse("admin:index")).content.decode()
    assert url("changelist") in index  # registered, so the console offers it
    page = client.get(url("change", research.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "bob" in html and "ml.m5.large" in html and "research-ep-config" in html
    assert client.get(url("change", finance.pk)).status_code == 302  # absent, as not found
    assert "finance-ep" not in client.get(url("changelist"), {"q": "finance"}).content.decode()


def test_a_superuser_sees_every_domains_endpoints(root, endpoints):
    assert listed(console(root)) == ["finance-ep", "research-ep"]
