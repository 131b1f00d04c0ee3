"""Admin-console reach: a domain admin (alice, of "research") tries to pull accounts that hold a
role elsewhere into her domain, to then issue them keys and act as them. Through the console
as she would: logged in, real POSTs to the add form and the bulk action."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from domains.models import AccessKey, UserProfile

RULE = "only a superuser can give them a profile here"


@pytest.fixture
def alice_admin(domain, alice, make_profile):
    """alice administers "research" and is staff, as the console makes a domain's admins."""
    profile = make_profile(domain, alice, role="Admin")
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    return profile


@pytest.fixture
def console(alice_admin, alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def add_profile(console: Client, domain, username: str, role: str = "Member"):
    return console.post(
        reverse("admin:domains_userprofile_add"),
        {"domain": domain.pk, "username": username, "name": "", "role": role},
        follow=True,
    )


def assert_refused(response, domain, user, canaries) -> None:
    """A form error naming the rule on the username; no profile, no key, no staff."""
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert RULE in " ".join(errors.get("username", [])), errors
    assert not UserProfile.objects.filter(domain=domain, user=user).exists()
    assert not AccessKey.objects.filter(profile__domain=domain, profile__user=user).exists()
    canaries.assert_absent(response.content.decode())


def test_a_domain_admin_attaching_a_superuser_is_refused(console, domain, root, canaries):
    response = add_profile(console, domain, root.username)

    assert_refused(response, domain, root, canaries)


def test_a_domain_admin_attaching_another_domains_member_is_refused(
    console, domain, carol, canaries
):
    # canaries made "elsewhere", where carol is a member.
    assert UserProfile.objects.filter(user=carol).exclude(domain=domain).exists()

    response = add_profile(console, domain, carol.username, role="Admin")

    assert_refused(response, domain, carol, canaries)
    carol.refresh_from_db()
    assert not carol.is_staff  # the Admin role asked for gave her nothing


def test_a_domain_admin_attaching_another_domains_admin_is_refused(
    console, domain, make_profile, canaries, django_user_model
):
    from domains.models import Domain

    elsewhere = Domain.objects.get(name="elsewhere")
    dave = django_user_model.objects.create_user("dave", "dave@example.com", "dave-pass-1")
    make_profile(elsewhere, dave, role="Admin")
    dave.is_staff = True
    dave.save(update_fields=["is_staff"])

    response = add_profile(console, domain, "dave")

    assert_refused(response, domain, dave, canaries)


def test_the_add_profiles_action_attaching_a_superuser_and_another_domains_member_is_refused(
    console, domain, root, carol, canaries
):
    response = console.post(
        reverse("admin:domains_domain_changelist"),
        {
            "action": "add_profiles",
            ACTION_CHECKBOX_NAME: [domain.pk],
            "post": "yes",
            "usernames": f"{root.username}\n{carol.username}",
            "role": "Admin",
        },
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert sum(RULE in m for m in shown) == 2, shown
    for user in (root, carol):
        assert not UserProfile.objects.filter(domain=domain, user=user).exists()
    canaries.assert_absent(response.content.decode(), *shown)


def test_a_domain_admin_still_creates_new_accounts_and_attaches_roleless_ones(
    console, domain, django_user_model
):
    roleless = django_user_model.objects.create_user("erin", "erin@example.com", "erin-pass-1")

    created = add_profile(console, domain, "frank")
    attached = add_profile(console, domain, "erin")

    for response in (created, attached):
        assert response.status_code == 200
        assert "adminform" not in response.context or not response.context["adminform"].form.errors
    assert UserProfile.objects.filter(domain=domain, user=roleless).exists()
    assert UserProfile.objects.filter(
        domain=domain, user=get_user_model().objects.get(username="frank")
    ).exists()
