"""The dashboard's pages through the Django test client, against the real database."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from domains.models import AccessKey, Policy, UserProfile
from domains.services import create_policy, suspend_user_profile

HOME = reverse("dashboard:home")
DOMAIN = reverse("dashboard:domain")
SWITCH = reverse("dashboard:switch")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response
    return response.content.decode()


@pytest.mark.parametrize("url", [HOME, DOMAIN])
def test_pages_require_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_login_form_signs_in_and_logout_is_a_post(client, alice, alice_profile):
    login = client.get(reverse("login"))
    assert b'name="password"' in login.content
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-pass-1"})
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert "research" in page(client, HOME)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(HOME).status_code == 302


def test_home_shows_the_profiles_domain(client, alice, alice_profile, domain):
    client.force_login(alice)
    html = page(client, HOME)
    assert domain.name in html
    assert domain.domain_id in html
    assert f'data-status-of="Domain:{domain.domain_id}" data-status="InService"' in html
    assert f'data-status-of="UserProfile:{alice_profile.resource_id}"' in html
    assert f'data-profile="{alice_profile.pk}"' in html  # what live.js subscribes with
    for section in ("No spaces yet", "No jobs yet", "No models yet", "No endpoints yet"):
        assert section in html
    assert "Admin console" not in html  # alice is not staff
    assert "Your profile is suspended" in html  # the banner is there, hidden until suspended
    assert 'data-suspended-of="UserProfile:' in html


def test_switcher_moves_between_a_users_domains(client, alice, bob, make_domain, make_profile):
    research, vision = make_domain("research"), make_domain("vision")
    in_research = make_profile(research, alice, "alice-r")
    in_vision = make_profile(vision, alice, "alice-v")
    bobs = make_profile(vision, bob)
    client.force_login(alice)

    html = page(client, HOME)
    assert research.domain_id in html and vision.domain_id not in html.split('id="content"')[1]
    assert f'action="{SWITCH}"' in html  # several profiles: the switcher is shown

    response = client.post(SWITCH, {"profile": in_vision.pk})
    assert response.status_code == 302 and response["Location"] == HOME
    assert "alice-v" in page(client, HOME) and vision.domain_id in page(client, DOMAIN)

    assert client.post(SWITCH, {"profile": bobs.pk}).status_code == 404
    assert client.post(SWITCH, {"profile": "nonsense"}).status_code == 404
    assert client.session["studio_profile"] == in_vision.pk
    assert client.post(SWITCH, {"profile": in_research.pk}).status_code == 302
    assert "alice-r" in page(client, HOME)
    assert client.get(SWITCH).status_code == 405


def test_single_profile_has_no_switcher(client, alice, alice_profile):
    client.force_login(alice)
    assert f'action="{SWITCH}"' not in page(client, HOME)


def test_user_without_profile_is_told_to_ask_an_admin(client, carol, root):
    client.force_login(carol)
    html = page(client, HOME)
    assert "not in a domain yet" in html and "Ask an administrator" in html
    assert reverse("admin:index") not in html
    assert "not in a domain yet" in page(client, DOMAIN)

    client.force_login(root)
    html = page(client, HOME)
    assert "not in a domain yet" in html and reverse("admin:index") in html


def test_domain_page_lists_only_the_users_domain(
    client, alice, bob, carol, make_domain, make_profile
):
    research, vision = make_domain("research"), make_domain("vision")
    make_profile(research, alice, "alice-in-research")
    make_profile(vision, bob, "bob-in-vision")
    make_profile(vision, carol, "carol-in-vision")
    client.force_login(bob)
    html = page(client, DOMAIN)
    assert "bob-in-vision" in html and "carol-in-vision" in html
    assert "alice-in-research" not in html and research.domain_id not in html
    assert "research" not in html


def test_suspended_profile_sees_banner_and_no_member_list(
    client, root, alice, domain, alice_profile
):
    suspend_user_profile(root, domain.domain_id, alice_profile.name)
    client.force_login(alice)
    html = page(client, HOME)
    assert f'data-suspended-of="UserProfile:{alice_profile.resource_id}">' in html  # not hidden
    html = page(client, DOMAIN)
    assert "cannot list this domain" in html and "suspended" in html


def queries_for(client, url: str) -> list[str]:
    client.get(url)  # warm up: first-request work (sessions, caches) is not what we measure
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_pages_use_a_constant_number_of_queries(client, root, alice, domain, alice_profile):
    # Every row exercises what the domain table shows: a policy of its own and access keys.
    policy = create_policy(root, domain.domain_id, name="Trainers", allow=["sagemaker:*"])
    client.force_login(alice)
    before = {url: queries_for(client, url) for url in (HOME, DOMAIN)}

    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"user{i:03}", email=f"user{i:03}@example.com")
        for i in range(199)
    )
    profiles = UserProfile.objects.bulk_create(
        UserProfile(domain=domain, user=u, name=f"member-{i:03}", status="InService")
        for i, u in enumerate(users)
    )
    UserProfile.policies.through.objects.bulk_create(
        UserProfile.policies.through(userprofile_id=p.pk, policy_id=policy.pk) for p in profiles
    )
    AccessKey.objects.bulk_create(
        AccessKey(profile=p, access_key_id=f"AKIA{p.pk:016}", secret_ciphertext="x")
        for p in profiles
    )
    assert domain.profiles.count() == 200 and Policy.objects.filter(pk=policy.pk).exists()

    after = {url: queries_for(client, url) for url in (HOME, DOMAIN)}
    assert len(after[HOME]) == len(before[HOME]), after[HOME]
    assert len(after[DOMAIN]) == len(before[DOMAIN]), after[DOMAIN]
    html = page(client, DOMAIN)
    assert html.count('data-status-of="UserProfile:') == 200
    assert "member-198" in html and "Trainers" in html
