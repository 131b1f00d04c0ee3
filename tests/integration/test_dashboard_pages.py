"""The dashboard's pages through the Django test client, against the real database."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

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


# --- This month's spend on the home page ---------------------------------------------------


def spend_card(html: str) -> str:
    card = re.search(r'<section class="card section spend" id="spend".*?</section>', html, re.S)
    assert card, "no spend card"
    return card.group(0)


def spend_rows(html: str) -> dict[str, str]:
    """{kind: amount} of the first bar list in `html`."""
    bars = re.search(r'<ul class="spend-bars".*?</ul>', html, re.S)
    assert bars, "no spend bars"
    return dict(
        re.findall(
            r'data-kind="([^"]+)">.*?<span class="spend-amount">([^<]*)</span>', bars.group(0)
        )
    )


def ran_this_month(profile) -> None:
    """A finished training job (2 x ml.m5.large for 1 h), a finished processing job
    (ml.c5.large, 1 h) and a stopped app (ml.t3.medium, 3 h), all in the last 4 hours."""
    from domains.models import AppStatus
    from jobs.models import ProcessingJob, TrainingJob, TrainingJobStatus
    from metering.meters import Meter
    from studio.core.lifecycle import transition
    from tests.integration.test_metering import app, job

    now = timezone.now()
    training = job(TrainingJob, profile, "train-1", "ml.m5.large", count=2)
    transition(training, TrainingJobStatus.COMPLETED)
    processing = job(ProcessingJob, profile, "process-1", "ml.c5.large")
    transition(processing, TrainingJobStatus.COMPLETED)
    lab = app(profile, "ml.t3.medium")
    for status in (AppStatus.IN_SERVICE, AppStatus.DELETING, AppStatus.DELETED):
        transition(lab, status)
    for resource, hours_ago, lasting in ((training, 4, 1), (processing, 3, 1), (lab, 3.5, 3)):
        started = now - timedelta(hours=hours_ago)
        Meter.objects.filter(resource_id=resource.resource_id).update(
            started_at=started, ended_at=started + timedelta(hours=lasting)
        )


def dollars(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def test_home_shows_this_months_spend_by_kind_matching_month_spend(
    client, instance_types, alice, alice_profile
):
    from metering.usage import month_spend, month_spend_by_resource

    ran_this_month(alice_profile)
    domain_id = alice_profile.domain.domain_id
    client.force_login(alice)

    card = spend_card(page(client, HOME))

    total = month_spend(domain_id, "alice")
    by_kind = month_spend_by_resource(domain_id, "alice")
    # $0.23 + $0.102 + $0.15, unless the month began less than 4 hours ago.
    assert total > 0
    assert f'<span class="spend-total" id="spend-total">{dollars(total)}</span>' in card
    assert spend_rows(card) == {
        "Training": dollars(by_kind["TrainingJob"]),
        "Processing": dollars(by_kind["ProcessingJob"]),
        "Notebooks": dollars(by_kind["App"]),
    }
    assert "No spend yet this month" not in card
    assert 'id="spend-budget"' not in card  # no policy of hers sets one
    assert 'id="spend-domain"' not in card  # she is a member, not an admin


def test_home_says_no_spend_yet_when_nothing_ran_this_month(client, alice, alice_profile):
    client.force_login(alice)
    card = spend_card(page(client, HOME))
    assert "No spend yet this month" in card
    assert '<span class="spend-total" id="spend-total">$0.00</span>' in card
    assert "spend-bars" not in card


def test_a_member_never_sees_another_members_spend_and_an_admin_sees_the_domains(
    client, instance_types, alice, alice_profile, bob, bob_profile, carol, domain, make_profile
):
    from metering.usage import month_spend

    make_profile(domain, carol, role="Admin")
    ran_this_month(alice_profile)
    alices = dollars(month_spend(domain.domain_id, "alice"))

    client.force_login(bob)
    card = spend_card(page(client, HOME))
    assert "No spend yet this month" in card
    assert alices not in card and 'id="spend-domain"' not in card

    client.force_login(carol)
    card = spend_card(page(client, HOME))
    assert "No spend yet this month" in card  # her own
    domain_part = re.search(r'<div class="spend-domain" id="spend-domain">.*?</div>', card, re.S)
    assert domain_part, "an admin sees the domain's spend"
    assert f'<span id="domain-spend-total">{alices}</span>' in domain_part.group(0)


def budget_part(html: str) -> str:
    budget = re.search(
        r'<div class="spend-budget[^"]*" id="spend-budget">.*?\n  </div>', html, re.S
    )
    assert budget, "no budget part"
    return budget.group(0)


def test_home_shows_the_share_of_the_monthly_budget_used_and_when_it_is_reached(
    client, root, instance_types, alice, alice_profile
):
    from domains.services import create_policy, update_policy, update_user_profile
    from metering.usage import month_spend

    domain_id = alice_profile.domain.domain_id
    create_policy(root, domain_id, name="Thrifty", allow=["sagemaker:*"], monthly_budget_usd="1.00")
    update_user_profile(root, domain_id, "alice", policies=["Thrifty"])
    ran_this_month(alice_profile)
    client.force_login(alice)

    budget = budget_part(spend_card(page(client, HOME)))

    percent = round(month_spend(domain_id, "alice") * 100)  # of $1.00
    assert 0 < percent < 80
    assert (
        f"Policy &#x27;Thrifty&#x27; sets your monthly budget at $1.00: {percent}% of it is spent."
        in budget
    )
    assert f'aria-valuenow="{percent}"' in budget and f"width: {percent}%" in budget
    assert "Budget reached" not in budget

    update_policy(root, domain_id, "Thrifty", monthly_budget_usd="0.10")
    budget = budget_part(spend_card(page(client, HOME)))
    assert "at $0.10: 100% of it is spent." in budget
    assert 'class="spend-budget is-reached"' in budget
    assert "Budget reached:" in budget
