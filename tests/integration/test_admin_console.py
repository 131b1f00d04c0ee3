"""The admin console at /admin/, over HTTP, against the real services and Celery worker.

alice administers domain "research" (where bob is a member); carol administers "finance".
Everything alice does must stay inside "research", whatever she asks for.
"""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from domains import services
from domains.models import AccessKey, Domain, Policy, UserProfile
from domains.services.domains import DEFAULT_POLICY_ALLOW
from metering.catalog import InstanceType
from studio.core.crypto import decrypt
from tests.conftest import gone, settled

pytestmark = pytest.mark.django_db(transaction=True)


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:domains_{model}_{view}", args=args)


def act(client: Client, model: str, action: str, objects, **extra) -> object:
    """Run a changelist action on `objects`, confirmed (as its intermediate page would post)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], "post": "yes"}
    return client.post(url(model, "changelist"), {**data, **extra}, follow=True)


def listed(client: Client, model: str, **query) -> list:
    response = client.get(url(model, "changelist"), query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def finance(make_domain):
    return make_domain("finance")


@pytest.fixture
def alice_admin(domain, alice, make_profile):
    """alice administers "research"; made through the service, so she is given staff here as
    the console would have given it."""
    profile = make_profile(domain, alice, role="Admin")
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    return profile


@pytest.fixture
def carol_admin(finance, carol, make_profile):
    profile = make_profile(finance, carol, role="Admin")
    carol.is_staff = True
    carol.save(update_fields=["is_staff"])
    return profile


@pytest.fixture
def two_domains(alice_admin, bob_profile, carol_admin):
    """research (alice admin, bob member) and finance (carol admin), all InService."""
    return alice_admin.domain, carol_admin.domain


# --- superusers: creating through the forms -------------------------------------------------


@pytest.mark.usefixtures("instance_types")  # the form offers the catalog's types
def test_superuser_creates_a_domain_through_the_add_form_and_it_reaches_in_service(live, root):
    response = console(root).post(
        url("domain", "add"),
        {
            "name": "vision",
            "app_network_access_type": "VpcOnly",
            "default_instance_type": "ml.m5.large",
            "default_image": "",
            "idle_timeout": "120",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    domain = settled(Domain.objects.get(name="vision"))
    assert domain.app_network_access_type == "VpcOnly"
    assert domain.default_user_settings == {
        "JupyterLabAppSettings": {
            "DefaultResourceSpec": {"InstanceType": "ml.m5.large"},
            "AppLifecycleManagement": {
                "IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 120}
            },
        }
    }
    assert domain.home_volume.is_dir()
    # CreateDomain gave it its default policy, as the service does for every domain.
    assert list(domain.default_policies.values_list("name", flat=True)) == ["DataScientist"]


def test_superuser_adds_an_admin_profile_for_a_new_user_whose_password_is_shown_once(domain, root):
    client = console(root)
    response = client.post(
        url("userprofile", "add"),
        {"domain": domain.pk, "username": "dave", "name": "", "role": "Admin"},
        follow=True,
    )

    shown = [m for m in messages_of(response) if "one-time password" in m]
    assert len(shown) == 1, messages_of(response)
    password = re.search(r"<code>([^<]+)</code>", shown[0]).group(1)
    dave = get_user_model().objects.get(username="dave")
    profile = settled(UserProfile.objects.get(domain=domain, user=dave))
    assert profile.name == "dave"
    assert profile.role == "Admin"
    assert profile.home_directory.is_dir()
    # An Admin profile opens the console to its user; the password really is theirs, and
    # must be replaced before the console opens.
    assert dave.is_staff
    newcomer = Client()
    signed_in = newcomer.post(
        reverse("admin:login"),
        {"username": "dave", "password": password, "next": "/admin/"},
        follow=True,
    )
    assert signed_in.redirect_chain[-1][0] == reverse("password_change") + "?next=%2Fadmin%2F"
    replaced = {
        "old_password": password,
        "new_password1": "dave-own-1",
        "new_password2": "dave-own-1",
    }
    newcomer.post(reverse("password_change"), replaced)
    assert newcomer.get(url("userprofile", "changelist")).status_code == 200
    assert password not in client.get(url("userprofile", "changelist")).content.decode()


def test_adding_a_profile_for_an_existing_user_attaches_that_user(domain, root, alice):
    users_before = get_user_model().objects.count()

    response = console(root).post(
        url("userprofile", "add"),
        {"domain": domain.pk, "username": "alice", "name": "alice-ds", "role": "Member"},
        follow=True,
    )

    profile = settled(UserProfile.objects.get(domain=domain, name="alice-ds"))
    assert profile.user == alice
    assert get_user_model().objects.count() == users_before
    assert not any("one-time password" in m for m in messages_of(response))
    alice.refresh_from_db()
    assert not alice.is_staff  # a member gets no way into the console


def test_add_profiles_action_gives_each_listed_user_a_profile(domain, root, alice):
    response = act(
        console(root), "domain", "add_profiles", [domain], usernames="alice\nerin", role="Member"
    )

    assert response.status_code == 200
    names = set(domain.profiles.values_list("name", flat=True))
    assert names == {"alice", "erin"}
    assert sum("one-time password" in m for m in messages_of(response)) == 1  # erin's only


# --- bad input: a form error, and nothing created ---------------------------------------------


@pytest.mark.usefixtures("instance_types")
def test_the_domain_form_offers_the_catalogs_instance_types_only(live, root):
    InstanceType.objects.filter(name="ml.p3.2xlarge").update(enabled=False)
    html = console(root).get(url("domain", "add")).content.decode()

    offered = re.findall(r'<option value="(ml\.[^"]+)"', html)
    assert offered == list(InstanceType.objects.filter(enabled=True).values_list("name", flat=True))
    assert "ml.p3.2xlarge" not in offered and "ml.p4d.24xlarge" not in offered


def test_malformed_domain_name_is_a_form_error_and_creates_nothing(live, root):
    response = console(root).post(
        url("domain", "add"), {"name": "bad name!", "app_network_access_type": "VpcOnly"}
    )

    assert response.status_code == 200
    assert "DomainName" in response.context["adminform"].form.errors["name"][0]
    assert not Domain.objects.exists()
    assert not Policy.objects.exists()


def test_duplicate_domain_name_is_a_form_error_and_creates_nothing(domain, root):
    response = console(root).post(
        url("domain", "add"), {"name": "research", "app_network_access_type": "VpcOnly"}
    )

    assert response.status_code == 200
    assert "already exists" in response.context["adminform"].form.errors["name"][0]
    assert Domain.objects.count() == 1
    assert Policy.objects.count() == 1


def test_a_service_validation_error_lands_on_the_field_it_names(live, root):
    response = console(root).post(
        url("domain", "add"),
        {"name": "vision", "app_network_access_type": "VpcOnly", "idle_timeout": "5"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["idle_timeout"]
    assert "greater than or equal to 60" in errors["idle_timeout"][0]
    assert not Domain.objects.exists()


def test_a_refused_profile_does_not_leave_a_new_user_behind(domain, root):
    response = console(root).post(
        url("userprofile", "add"),
        {"domain": domain.pk, "username": "frank", "name": "--", "role": "Member"},
    )

    assert response.status_code == 200
    assert "UserProfileName" in response.context["adminform"].form.errors["name"][0]
    assert not get_user_model().objects.filter(username="frank").exists()
    assert not domain.profiles.exists()


def test_policy_with_a_malformed_action_pattern_is_an_error_on_allow(domain, root):
    response = console(root).post(
        url("policy", "add"),
        {"domain": domain.pk, "name": "Broken", "allow": "sagemaker Create", "deny": ""},
    )

    assert response.status_code == 200
    assert "sagemaker Create" in response.context["adminform"].form.errors["allow"][0]
    assert not Policy.objects.filter(name="Broken").exists()


@pytest.mark.usefixtures("instance_types")
def test_a_quota_on_a_type_outside_the_catalog_is_an_error_on_the_quotas(domain, root):
    InstanceType.objects.filter(name="ml.p3.2xlarge").update(enabled=False)
    post = {"domain": domain.pk, "allow": "sagemaker:*", "deny": ""}
    client = console(root)

    typo = client.post(
        url("policy", "add"), {**post, "name": "Typo", "max_instances_per_type": "ml.m5.lrage = 2"}
    )
    retired = client.post(
        url("policy", "add"),
        {**post, "name": "Retired", "max_instances_per_type": "ml.p3.2xlarge = 0"},
    )

    assert typo.status_code == 200
    error = typo.context["adminform"].form.errors["max_instances_per_type"][0]
    assert error.startswith("ml.m5.lrage: not in the instance-type catalog. It offers ml.")
    assert "ml.m5.large" in error and "ml.p3.2xlarge" not in error  # what it offers now
    assert not Policy.objects.filter(name="Typo").exists()
    # A retired type is still the catalog's: a quota on it stays valid.
    assert retired.status_code == 302
    assert Policy.objects.get(name="Retired").max_instances_per_type == {"ml.p3.2xlarge": 0}


# --- policies and domain settings go through the services -------------------------------------


@pytest.mark.usefixtures("instance_types")  # quotas name the catalog's types
def test_domain_admin_creates_and_edits_a_policy_with_quotas(two_domains, alice):
    research, _ = two_domains
    client = console(alice)
    response = client.post(
        url("policy", "add"),
        {
            "domain": research.pk,
            "name": "Trainers",
            "description": "May train, within limits",
            "allow": "sagemaker:CreateTrainingJob\nsagemaker:Describe*",
            "deny": "sagemaker:DeleteDomain",
            "max_instances_per_type": "ml.m5.large = 2",
            "max_concurrent_jobs": "3",
            "monthly_budget_usd": "250.00",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy = Policy.objects.get(domain=research, name="Trainers")
    assert policy.allow == ["sagemaker:CreateTrainingJob", "sagemaker:Describe*"]
    assert policy.deny == ["sagemaker:DeleteDomain"]
    assert policy.max_instances_per_type == {"ml.m5.large": 2}
    assert policy.max_concurrent_jobs == 3

    response = client.post(
        url("policy", "change", policy.pk),
        {
            "description": "May train",
            "allow": "sagemaker:*",
            "deny": "",
            "max_instances_per_type": "",
            "max_concurrent_jobs": "",
            "monthly_budget_usd": "100",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.allow == ["sagemaker:*"]
    assert policy.deny == []
    assert policy.max_instances_per_type == {}
    assert policy.max_concurrent_jobs is None
    assert str(policy.monthly_budget_usd) == "100.00"


@pytest.mark.usefixtures("instance_types")  # the form offers the catalog's types
def test_domain_admin_changes_their_domains_defaults_and_keeps_other_settings(
    two_domains, alice, root
):
    research, _ = two_domains
    repos = [{"RepositoryUrl": "https://git.example.com/team/notebooks.git"}]
    # Settings an API caller stored, which the console's three fields must not drop.
    services.update_domain(
        root,
        research.domain_id,
        default_user_settings={
            "DefaultLandingUri": "studio::",
            "JupyterLabAppSettings": {
                "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"},
                "CodeRepositories": repos,
            },
        },
    )
    policy = research.policies.get()

    response = console(alice).post(
        url("domain", "change", research.pk),
        {
            "app_network_access_type": "PublicInternetOnly",
            "default_instance_type": "ml.m5.xlarge",
            "default_image": "",
            "idle_timeout": "",
            "default_policies": [policy.pk],
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    research.refresh_from_db()
    assert research.default_user_settings == {
        "DefaultLandingUri": "studio::",
        "JupyterLabAppSettings": {
            "DefaultResourceSpec": {"InstanceType": "ml.m5.xlarge"},
            "CodeRepositories": repos,
        },
    }
    assert list(research.default_policies.all()) == [policy]


def test_delete_policy_action_deletes_a_detached_policy_and_refuses_an_attached_one(
    two_domains, alice, root
):
    research, _ = two_domains
    attached = research.policies.get()  # the domain's default policy
    spare = services.create_policy(root, research.domain_id, name="Spare", allow=["sagemaker:*"])

    response = act(console(alice), "policy", "delete_objects", [attached, spare])

    assert list(research.policies.all()) == [attached]
    shown = messages_of(response)
    assert any("detach it first" in m for m in shown), shown
    assert any(m.startswith("Deleted: Spare") for m in shown), shown


# --- scoping: a domain admin sees and changes only their own domains ---------------------------


def test_domain_admin_lists_and_searches_only_their_own_domains(two_domains, alice):
    client = console(alice)

    assert [d.name for d in listed(client, "domain")] == ["research"]
    assert listed(client, "domain", q="finance") == []
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "finance" not in index.content.decode()


def test_domain_admin_gets_no_page_of_another_domains_objects(two_domains, alice, carol, root):
    _, finance = two_domains
    carol_profile = finance.profiles.get()
    policy = finance.policies.get()
    key, _ = services.create_access_key(root, finance.domain_id, carol_profile.name)
    client = console(alice)

    pages = [
        url("domain", "change", finance.pk),
        url("domain", "history", finance.pk),
        url("userprofile", "change", carol_profile.pk),
        url("userprofile", "delete", carol_profile.pk),
        url("policy", "change", policy.pk),
        url("policy", "delete", policy.pk),
        url("accesskey", "change", key.pk),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code in (302, 404), page
        if response.status_code == 302:
            assert response.url == reverse("admin:index"), page

    # A forged change POST finds nothing to change either.
    client.post(url("policy", "change", policy.pk), {"allow": "*", "deny": ""})
    policy.refresh_from_db()
    assert policy.allow == DEFAULT_POLICY_ALLOW


def test_another_domains_objects_are_absent_from_lists_filters_and_choices(
    two_domains, alice, root, make_domain, make_profile
):
    research, _ = two_domains
    # alice administers a second domain too, so the domain filter has something to offer.
    vision = make_domain("vision")
    make_profile(vision, alice, name="alice-v", role="Admin")
    for profile in UserProfile.objects.all():
        services.create_access_key(root, profile.domain.domain_id, profile.name)
    client = console(alice)

    assert {p.name for p in listed(client, "userprofile")} == {"alice", "alice-v", "bob"}
    assert {p.domain for p in listed(client, "policy")} == {research, vision}
    assert {k.profile.domain for k in listed(client, "accesskey")} == {research, vision}
    assert listed(client, "userprofile", q="carol") == []

    for model in ("userprofile", "policy", "accesskey"):
        filters = client.get(url(model, "changelist")).context["cl"].filter_specs
        domain_filter = next(f for f in filters if f.title == "domain")
        assert [label for _, label in domain_filter.lookup_choices] == ["research", "vision"]

    for model in ("userprofile", "policy"):
        form = client.get(url(model, "add")).context["adminform"].form
        assert list(form.fields["domain"].queryset) == [research, vision], model
    profile_form = (
        client.get(url("userprofile", "add"), {"domain": vision.pk}).context["adminform"].form
    )
    assert {p.domain for p in profile_form.fields["policies"].queryset} == {vision}
    assert "finance" not in client.get(url("userprofile", "add")).content.decode()


def test_change_forms_offer_only_the_policies_of_the_objects_own_domain(
    two_domains, alice, make_domain, make_profile
):
    research, _ = two_domains
    # alice administers a second domain too, whose policies she could otherwise pick.
    vision = make_domain("vision")
    make_profile(vision, alice, name="alice-v", role="Admin")
    bob_profile = research.profiles.get(name="bob")
    client = console(alice)

    domain_form = client.get(url("domain", "change", research.pk)).context["adminform"].form
    profile_page = client.get(url("userprofile", "change", bob_profile.pk))
    profile_form = profile_page.context["adminform"].form

    assert {p.domain for p in domain_form.fields["default_policies"].queryset} == {research}
    assert {p.domain for p in profile_form.fields["policies"].queryset} == {research}


def test_the_profile_add_form_offers_only_the_chosen_domains_policies(
    two_domains, alice, make_domain, make_profile, root
):
    research, _ = two_domains
    vision = make_domain("vision")
    make_profile(vision, alice, name="alice-v", role="Admin")
    services.create_policy(root, vision.domain_id, name="Vision-only", allow=["sagemaker:*"])
    client = console(alice)

    def offered(**query) -> list[str]:
        form = client.get(url("userprofile", "add"), query).context["adminform"].form
        field = form.fields["policies"]
        return [label for _, label in field.choices]

    # Nothing to offer until a domain is chosen (the page's script loads them then).
    assert offered() == []
    assert offered(domain=vision.pk) == ["DataScientist", "Vision-only"]
    assert offered(domain=research.pk) == ["DataScientist"]
    html = client.get(url("userprofile", "add")).content.decode()
    assert f'data-policies-url="{url("userprofile", "policies")}"' in html
    assert "studio/admin_profile.js" in html


def test_the_profile_add_form_of_a_one_domain_admin_opens_on_that_domain(two_domains, carol):
    _, finance = two_domains

    form = console(carol).get(url("userprofile", "add")).context["adminform"].form

    assert form.initial["domain"] == finance.pk
    assert list(form.fields["policies"].queryset) == list(finance.policies.all())


def test_another_domains_policy_posted_to_the_profile_forms_is_refused_on_the_field(
    two_domains, alice, make_domain, make_profile
):
    research, finance = two_domains
    vision = make_domain("vision")
    make_profile(vision, alice, name="alice-v", role="Admin")
    # Every domain has a "DataScientist": the services look policies up by name in the
    # profile's domain, so vision's would silently become research's namesake.
    vision_policy = vision.policies.get(name="DataScientist")
    bob_profile = research.profiles.get(name="bob")
    client = console(alice)

    added = client.post(
        url("userprofile", "add"),
        {
            "domain": research.pk,
            "username": "dave",
            "name": "",
            "role": "Member",
            "policies": [vision_policy.pk],
        },
    )
    changed = client.post(
        url("userprofile", "change", bob_profile.pk),
        {"role": "Member", "policies": [vision_policy.pk], "default_instance_type": ""},
    )
    defaults = client.post(
        url("domain", "change", research.pk),
        {
            "app_network_access_type": "PublicInternetOnly",
            "default_instance_type": "",
            "default_policies": [vision_policy.pk],
        },
    )
    unseen = client.post(
        url("userprofile", "change", bob_profile.pk),
        {"role": "Member", "policies": [finance.policies.get().pk], "default_instance_type": ""},
    )

    refusal = "Choose among domain research's own policies: DataScientist belongs to domain vision."
    for response, field in (
        (added, "policies"),
        (changed, "policies"),
        (defaults, "default_policies"),
    ):
        assert response.status_code == 200
        form = response.context["adminform"].form
        assert form.errors[field] == [refusal], form.errors
        # The form shown again offers research's policies only.
        assert {p.domain for p in form.fields[field].queryset} == {research}
    # A domain alice does not administer is not even a choice.
    assert (
        "not one of the available choices" in unseen.context["adminform"].form.errors["policies"][0]
    )
    assert not get_user_model().objects.filter(username="dave").exists()
    assert list(bob_profile.policies.all()) == []
    research.refresh_from_db()
    assert list(research.default_policies.all()) == [research.policies.get(name="DataScientist")]


def test_the_domain_policies_view_is_for_staff_and_only_in_their_domains(
    two_domains, alice, bob, root
):
    research, finance = two_domains
    services.create_policy(root, research.domain_id, name="Spare", allow=["sagemaker:*"])
    endpoint = url("userprofile", "policies")

    def policies_of(client: Client, domain: Domain) -> object:
        return client.get(endpoint, {"domain": domain.pk})

    mine = policies_of(console(alice), research)
    assert mine.status_code == 200
    assert mine.json() == {
        "domain": research.pk,
        "policies": [{"id": p.pk, "name": p.name} for p in research.policies.order_by("name")],
    }
    assert [p["name"] for p in mine.json()["policies"]] == ["DataScientist", "Spare"]
    assert policies_of(console(alice), finance).status_code == 404
    assert console(alice).get(endpoint, {"domain": "x"}).status_code == 404
    assert console(alice).get(endpoint).status_code == 404
    # Not staff (bob is a member), or not signed in: the console's sign-in page, no policies.
    for client in (console(bob), Client()):
        refused = policies_of(client, research)
        assert refused.status_code == 302
        assert refused["Location"].startswith(reverse("admin:login"))
    assert [p["name"] for p in policies_of(console(root), finance).json()["policies"]] == [
        "DataScientist"
    ]


def test_domain_admin_cannot_act_on_another_domains_objects_by_posting_their_ids(
    two_domains, alice, root
):
    _, finance = two_domains
    carol_profile = finance.profiles.get()
    policy = finance.policies.get()
    key, _ = services.create_access_key(root, finance.domain_id, carol_profile.name)
    client = console(alice)

    # Detached, so that only the console's scoping (not DeletePolicy's in-use check) could
    # stop its deletion.
    services.update_domain(root, finance.domain_id, default_policies=[])
    responses = [
        act(client, "userprofile", "suspend", [carol_profile]),
        act(client, "userprofile", "issue_access_key", [carol_profile]),
        act(client, "userprofile", "delete_objects", [carol_profile]),
        act(client, "accesskey", "deactivate", [key]),
        act(client, "domain", "add_profiles", [finance], usernames="alice", role="Member"),
        act(client, "policy", "delete_objects", [policy]),
    ]

    for response in responses:
        # The ids select nothing: the services are never asked, so not even their refusals
        # (which would name the profile or domain) reach alice.
        assert messages_of(response) == ["Nothing was changed."]
    carol_profile.refresh_from_db()
    assert carol_profile.suspended_at is None
    assert carol_profile.status == "InService"
    assert list(carol_profile.access_keys.all()) == [key]
    key.refresh_from_db()
    assert key.status == "Active"
    assert set(finance.profiles.values_list("name", flat=True)) == {"carol"}
    assert Policy.objects.filter(pk=policy.pk).exists()


def test_domain_admin_cannot_create_a_profile_in_another_domain(two_domains, alice):
    _, finance = two_domains

    response = console(alice).post(
        url("userprofile", "add"),
        {"domain": finance.pk, "username": "mallory", "name": "", "role": "Admin"},
    )

    assert response.status_code == 200
    assert "domain" in response.context["adminform"].form.errors
    assert not get_user_model().objects.filter(username="mallory").exists()
    assert set(finance.profiles.values_list("name", flat=True)) == {"carol"}


def test_domain_admin_can_neither_create_nor_delete_domains(two_domains, alice):
    research, _ = two_domains
    client = console(alice)

    assert client.get(url("domain", "add")).status_code == 403
    assert client.get(url("domain", "delete", research.pk)).status_code == 403
    actions = client.get(url("domain", "changelist")).context["action_form"]
    assert [name for name, _ in actions.fields["action"].choices if name] == ["add_profiles"]
    act(client, "domain", "delete_objects", [research], retention="Delete")
    research.refresh_from_db()
    assert research.status == "InService"


def test_djangos_own_bulk_delete_is_replaced_everywhere(two_domains, root):
    client = console(root)
    for model in ("domain", "userprofile", "policy", "accesskey"):
        actions = client.get(url(model, "changelist")).context["action_form"]
        names = [name for name, _ in actions.fields["action"].choices]
        assert "delete_selected" not in names, model
        assert "delete_objects" in names, model


def test_domain_admin_does_not_see_the_user_and_group_admin(two_domains, alice):
    client = console(alice)

    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    apps = [app["app_label"] for app in client.get(reverse("admin:index")).context["app_list"]]
    # jobs: their jobs; metering: the instance-type catalog (read-only)
    assert apps == ["domains", "jobs", "metering"]


def test_member_without_admin_role_cannot_enter_the_console(bob_profile, bob):
    response = console(bob).get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_a_suspended_domain_admin_sees_nothing(two_domains, alice, root):
    research, _ = two_domains
    services.suspend_user_profile(root, research.domain_id, "alice")

    assert console(alice).get(url("domain", "changelist")).status_code == 403


# --- actions -----------------------------------------------------------------------------------


def test_suspend_action_suspends_and_resume_action_resumes(two_domains, alice):
    bob_profile = UserProfile.objects.get(name="bob")
    client = console(alice)

    response = act(client, "userprofile", "suspend", [bob_profile])
    bob_profile.refresh_from_db()
    assert bob_profile.is_suspended
    assert any("Suspended: bob" in m for m in messages_of(response))

    act(client, "userprofile", "resume", [bob_profile])
    bob_profile.refresh_from_db()
    assert not bob_profile.is_suspended


def test_an_action_refused_by_the_service_is_reported_not_raised(two_domains, alice):
    alice_profile = UserProfile.objects.get(name="alice")

    response = act(console(alice), "userprofile", "suspend", [alice_profile])

    assert response.status_code == 200
    assert any("cannot suspend your own profile" in m for m in messages_of(response))
    alice_profile.refresh_from_db()
    assert not alice_profile.is_suspended


def test_issue_access_key_action_shows_the_secret_exactly_once(two_domains, alice):
    bob_profile = UserProfile.objects.get(name="bob")
    client = console(alice)

    response = act(client, "userprofile", "issue_access_key", [bob_profile])

    key = AccessKey.objects.get(profile=bob_profile)
    shown = [m for m in messages_of(response) if key.access_key_id in m]
    assert len(shown) == 1
    secret = re.search(r"secret <code>([^<]+)</code>", shown[0]).group(1)
    assert decrypt(key.secret_ciphertext) == secret
    for page in (
        url("userprofile", "changelist"),
        url("userprofile", "change", bob_profile.pk),
        url("accesskey", "changelist"),
        url("accesskey", "change", key.pk),
    ):
        assert secret not in client.get(page).content.decode(), page


def test_delete_domain_asks_for_the_retention_policy_first(domain, root):
    response = console(root).get(url("domain", "delete", domain.pk))

    assert response.status_code == 200
    assert set(dict(response.context["form"].fields["retention"].choices)) == {"Retain", "Delete"}
    domain.refresh_from_db()
    assert domain.status == "InService"


@pytest.mark.parametrize(("retention", "homes_kept"), [("Retain", True), ("Delete", False)])
def test_delete_domain_action_applies_the_retention_policy_to_home_directories(
    domain, alice_profile, bob_profile, root, retention, homes_kept
):
    homes = [alice_profile.home_directory, bob_profile.home_directory]
    assert all(home.is_dir() for home in homes)

    response = act(console(root), "domain", "delete_objects", [domain], retention=retention)

    assert response.status_code == 200
    gone(Domain, domain.pk)
    assert not UserProfile.objects.filter(pk__in=[alice_profile.pk, bob_profile.pk]).exists()
    assert [home.is_dir() for home in homes] == [homes_kept, homes_kept]
    assert domain.home_volume.exists() == homes_kept


# Every delete action, and every change page's Delete button, asks on the same kind of page.
CONFIRMATIONS = {
    "domain": (
        "Delete domains",
        "Delete these domains and every user profile in them? Choose what happens to the "
        "users' home directories.",
        "Delete domains",
    ),
    "userprofile": (
        "Delete user profiles",
        "Delete these user profiles? Their home directories stay on the domain's volume until "
        "the domain is deleted with RetentionPolicy Delete.",
        "Delete profiles",
    ),
    "policy": (
        "Delete policies",
        "Delete these policies? A policy still attached to a profile or to its domain's "
        "defaults is kept; detach it first.",
        "Delete policies",
    ),
    "accesskey": (
        "Delete access keys",
        "Delete these access keys? API callers signing with them are refused at once.",
        "Delete keys",
    ),
}


@pytest.mark.parametrize("model", CONFIRMATIONS)
def test_every_delete_asks_first_on_its_confirmation_page(two_domains, root, model):
    research, _ = two_domains
    key, _ = services.create_access_key(root, research.domain_id, "bob")
    target = {
        "domain": research,
        "userprofile": research.profiles.get(name="bob"),
        "policy": research.policies.get(),
        "accesskey": key,
    }[model]
    client = console(root)

    unconfirmed = {"action": "delete_objects", ACTION_CHECKBOX_NAME: [target.pk]}
    for response in (
        client.post(url(model, "changelist"), unconfirmed),
        client.get(url(model, "delete", target.pk)),
    ):
        assert response.status_code == 200
        page = response.context
        assert (page["title"], page["question"], page["button"]) == CONFIRMATIONS[model]
        assert page["action"] == "delete_objects"
        assert list(page["queryset"]) == [target]
    assert type(target).objects.filter(pk=target.pk).exists()


def test_delete_domain_with_no_valid_retention_asks_again(domain, root):
    response = act(console(root), "domain", "delete_objects", [domain], retention="Never")

    assert response.context["title"] == "Delete domains"
    assert "retention" in response.context["form"].errors
    domain.refresh_from_db()
    assert domain.status == "InService"


def test_delete_actions_report_what_they_deleted(two_domains, root):
    research, _ = two_domains
    bob_profile = research.profiles.get(name="bob")
    key, _ = services.create_access_key(root, research.domain_id, "alice")
    client = console(root)

    deleted_key = act(client, "accesskey", "delete_objects", [key])
    deleted_profile = act(client, "userprofile", "delete_objects", [bob_profile])

    assert messages_of(deleted_key) == [f"Deleted: {key.access_key_id}."]
    assert messages_of(deleted_profile) == ["Deleting: bob (research)."]
    deleted_domain = act(client, "domain", "delete_objects", [research], retention="Retain")
    assert messages_of(deleted_domain) == ["Deleting (home directories: Retain): research."]
    gone(Domain, research.pk)


def test_the_console_prints_moments_as_the_dashboard_does(domain, root):
    from datetime import UTC, datetime

    Domain.objects.filter(pk=domain.pk).update(created_at=datetime(2026, 3, 4, 9, 7, tzinfo=UTC))
    page = console(root).get(url("domain", "changelist")).content.decode()
    assert "4 Mar 2026, 09:07" in page
    assert "March 4, 2026" not in page and "a.m." not in page
