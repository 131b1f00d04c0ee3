"""Studio's error pages: in the dashboard's shell (with the navigation) for a signed-in user,
in the sign-in card for anyone else, each saying what happened and what to do; the 500 page
renders even when the request's context cannot be built."""

import pytest
from django.test import Client, RequestFactory

from studio.web import errors


@pytest.fixture
def signed_in(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.django_db
def test_missing_page_is_a_studio_page_with_the_navigation_for_a_signed_in_user(signed_in):
    response = signed_in.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "studio/studio.css" in page
    assert '<nav class="sidebar"' in page
    assert "Page not found" in page
    assert "start again from Home" in page


@pytest.mark.django_db
def test_missing_page_is_the_sign_in_card_for_someone_signed_out():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "studio/studio.css" in page
    assert 'class="auth-card"' in page
    assert '<nav class="sidebar"' not in page
    assert "Page not found" in page


@pytest.mark.django_db
def test_forbidden_page_tells_to_ask_the_admin_for_access(django_user_model):
    # Staff without any model permission: the admin console refuses its changelists.
    staff = django_user_model.objects.create_user("dave", password="dave-pass-1", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/domains/domain/")
    assert response.status_code == 403
    page = response.content.decode()
    assert '<nav class="sidebar"' in page
    assert "You do not have access to this page" in page
    assert "ask your Studio administrator for access" in page


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_gets_the_expired_form_page(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/account/password/", {"old_password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page
    assert "Reload the page and send the form again" in page
    assert '<nav class="sidebar"' in page


@pytest.mark.django_db
def test_server_error_page_falls_back_to_the_card_when_the_shell_cannot_render(alice, monkeypatch):
    """What broke the request may break the shell's context too (here: its profiles)."""

    def broken(request):
        raise RuntimeError("database gone")

    monkeypatch.setattr("studio.web.dashboard.context.user_profiles", broken)
    request = RequestFactory().get("/")
    request.user = alice
    response = errors.server_error(request)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert 'class="auth-card"' in page
    assert "studio/studio.css" in page


@pytest.mark.django_db
def test_server_error_page_is_in_the_shell_when_it_can_be(alice):
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/")
    request.user = alice
    request.session = SessionStore()
    response = errors.server_error(request)
    assert response.status_code == 500
    assert '<nav class="sidebar"' in response.content.decode()


def test_bad_host_gets_the_card_not_a_crash():
    response = Client(HTTP_HOST="evil.example.net").get("/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Studio could not read this request" in page
    assert 'class="auth-card"' in page
