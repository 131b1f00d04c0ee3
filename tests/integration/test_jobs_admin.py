"""The admin console's workload pages over HTTP: the instance-type catalog, the image registry,
and training jobs, each seen by a superuser and by a domain admin (alice, of "research")."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from jobs.models import Image, ImageVersion, TrainingJob
from metering.catalog import InstanceType
from tests.integration.conftest import SKLEARN_IMAGE

pytestmark = pytest.mark.django_db(transaction=True)


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(model: str, view: str, *args) -> str:
    app = "metering" if model == "instancetype" else "jobs"
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def listed(client: Client, model: str) -> list:
    response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def alice_admin(domain, alice, make_profile):
    profile = make_profile(domain, alice, role="Admin")
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    return profile


def make_job(name: str, profile) -> TrainingJob:
    """A job row as CreateTrainingJob leaves it; nothing here needs it to run."""
    return TrainingJob.objects.create(
        name=name,
        domain=profile.domain,
        profile=profile,
        request={"TrainingJobName": name},
        status="Completed",
        instance_type="ml.m5.large",
        runtime_state={"runtime": "docker", "image": SKLEARN_IMAGE},
    )


# --- instance types -----------------------------------------------------------------------------


def instance_type_post(instance_type: InstanceType, **changes) -> dict:
    data = {
        "vcpus": instance_type.vcpus,
        "memory_gib": instance_type.memory_gib,
        "gpus": instance_type.gpus,
        "price_per_hour": instance_type.price_per_hour,
        "enabled": "on" if instance_type.enabled else "",
    }
    return {**data, **changes}


def test_superuser_edits_an_instance_types_price(instance_types, root):
    large = InstanceType.objects.get(name="ml.m5.large")

    response = console(root).post(
        url("instancetype", "change", large.pk), instance_type_post(large, price_per_hour="0.2")
    )

    assert response.status_code == 302
    large.refresh_from_db()
    assert large.price_per_hour == Decimal("0.2")
    assert large.name == "ml.m5.large"  # names are fixed once made: jobs and bills use them


def test_a_bad_catalog_edit_is_a_form_error(instance_types, root):
    large = InstanceType.objects.get(name="ml.m5.large")

    response = console(root).post(
        url("instancetype", "change", large.pk),
        instance_type_post(large, price_per_hour="-1", vcpus="0"),
    )

    assert response.status_code == 200
    assert set(form_errors(response)) == {"price_per_hour", "vcpus"}
    large.refresh_from_db()
    assert large.price_per_hour == Decimal("0.115")


def test_instance_types_are_retired_not_deleted(instance_types, root):
    large = InstanceType.objects.get(name="ml.m5.large")

    assert console(root).post(url("instancetype", "delete", large.pk)).status_code == 403
    assert InstanceType.objects.filter(pk=large.pk).exists()


def test_a_domain_admin_reads_the_catalog_but_cannot_edit_it(instance_types, alice, alice_admin):
    client = console(alice)
    large = InstanceType.objects.get(name="ml.m5.large")

    assert len(listed(client, "instancetype")) == InstanceType.objects.count()
    page = client.get(url("instancetype", "change", large.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    changed = client.post(
        url("instancetype", "change", large.pk), instance_type_post(large, price_per_hour="0")
    )
    assert changed.status_code == 403
    assert client.get(url("instancetype", "add")).status_code == 403
    large.refresh_from_db()
    assert large.price_per_hour == Decimal("0.115")


# --- images -------------------------------------------------------------------------------------


def test_superuser_adds_an_image_with_its_first_version(runtime, root):
    response = console(root).post(
        url("image", "add"),
        {
            "name": "team-sklearn",
            "display_name": "Team sklearn",
            "description": "",
            "base_image": SKLEARN_IMAGE,
        },
    )

    assert response.status_code == 302, form_errors(response)
    image = Image.objects.get(name="team-sklearn")
    assert image.status == "CREATED"
    assert [(v.version, v.base_image) for v in image.versions.all()] == [(1, SKLEARN_IMAGE)]
    assert image in listed(console(root), "image")
    assert console(root).get(url("instancetype", "changelist")).status_code == 200
    page = console(root).get(url("image", "change", image.pk))
    assert page.status_code == 200
    assert image.versions.get().arn in page.content.decode()


def test_image_form_errors_are_shown_on_the_form_and_nothing_is_saved(runtime, root):
    Image.objects.create(name="taken", status="CREATED")
    # The built-in images a migration registers are here too when this test runs first.
    before = set(Image.objects.values_list("name", flat=True))
    client = console(root)
    cases = [
        ({"name": "bad_name"}, "name"),
        ({"name": "TAKEN"}, "name"),
        ({"name": "fresh", "base_image": "myteam/not-loaded:1"}, "base_image"),
        ({"name": "fresh", "base_image": "Not A Reference"}, "base_image"),
    ]
    for fields, field in cases:
        response = client.post(
            url("image", "add"), {"display_name": "", "description": "", "base_image": "", **fields}
        )
        assert response.status_code == 200, fields
        assert field in form_errors(response), (fields, form_errors(response))
    # A refused first version takes its new image with it.
    assert set(Image.objects.values_list("name", flat=True)) == before


def test_superuser_adds_and_deletes_versions_through_the_services(runtime, root):
    image = Image.objects.create(name="team", status="CREATED")
    client = console(root)

    refused = client.post(url("imageversion", "add"), {"image": image.pk, "base_image": "no/pe:1"})
    assert "base_image" in form_errors(refused)
    added = client.post(
        url("imageversion", "add"), {"image": image.pk, "base_image": SKLEARN_IMAGE}
    )
    assert added.status_code == 302, form_errors(added)
    version = ImageVersion.objects.get(image=image)
    assert version.version == 1

    deleted = client.post(
        url("imageversion", "changelist"),
        {"action": "delete_objects", ACTION_CHECKBOX_NAME: [version.pk], "post": "yes"},
        follow=True,
    )
    assert deleted.status_code == 200
    assert "Deleted: team:1." in messages_of(deleted)  # after the add's own message
    assert not ImageVersion.objects.filter(image=image).exists()
    deleted = client.post(
        url("image", "changelist"),
        {"action": "delete_objects", ACTION_CHECKBOX_NAME: [image.pk], "post": "yes"},
        follow=True,
    )
    assert messages_of(deleted) == ["Deleted: team."]
    assert not Image.objects.filter(pk=image.pk).exists()


@pytest.mark.parametrize(
    ("model", "title", "question", "button"),
    [
        (
            "image",
            "Delete images",
            "Delete these images and all their versions? Jobs can no longer name them; the "
            "container images stay on the runtime.",
            "Delete images",
        ),
        (
            "imageversion",
            "Delete image versions",
            "Delete these image versions? Their ARNs stop resolving; the container images stay "
            "on the runtime.",
            "Delete versions",
        ),
    ],
)
def test_deleting_images_and_versions_asks_first(root, model, title, question, button):
    image = Image.objects.create(name="team", status="CREATED")
    version = ImageVersion.objects.create(
        image=image, version=1, base_image=SKLEARN_IMAGE, status="CREATED"
    )
    target = image if model == "image" else version

    response = console(root).post(
        url(model, "changelist"), {"action": "delete_objects", ACTION_CHECKBOX_NAME: [target.pk]}
    )

    page = response.context
    assert (page["title"], page["question"], page["button"]) == (title, question, button)
    assert list(page["queryset"]) == [target]
    assert ImageVersion.objects.filter(pk=version.pk).exists()


def test_domain_admins_do_not_see_the_image_registry(alice, alice_admin):
    importlib.import_module("jobs.migrations.0006_seed_images").seed(apps, None)
    client = console(alice)
    image = Image.objects.get(name="sklearn")

    assert client.get(url("image", "changelist")).status_code == 403
    assert client.get(url("image", "change", image.pk)).status_code == 403
    assert client.post(url("image", "add"), {"name": "mine"}).status_code == 403
    assert client.get(url("imageversion", "changelist")).status_code == 403
    assert "jobs/image/" not in client.get(reverse("admin:index")).content.decode()


# --- training jobs ------------------------------------------------------------------------------


@pytest.fixture
def finance_job(make_domain, carol, make_profile):
    finance = make_domain("finance")
    return make_job("finance-job", make_profile(finance, carol))


def test_a_domain_admin_sees_only_their_domains_training_jobs(
    alice, alice_admin, bob_profile, finance_job
):
    research_job = make_job("research-job", bob_profile)
    client = console(alice)

    assert listed(client, "trainingjob") == [research_job]
    page = client.get(url("trainingjob", "change", research_job.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "bob" in html and "ml.m5.large" in html and SKLEARN_IMAGE in html
    assert client.get(url("trainingjob", "change", finance_job.pk)).status_code == 302  # absent


def test_training_jobs_are_read_only_in_the_console(root, bob_profile):
    job = make_job("research-job", bob_profile)
    client = console(root)

    changelist = client.get(url("trainingjob", "changelist"))
    assert changelist.status_code == 200
    html = changelist.content.decode()
    assert "research-job" in html and "Completed" in html and "bob" in html
    assert client.get(url("trainingjob", "add")).status_code == 403
    assert client.post(url("trainingjob", "delete", job.pk)).status_code == 403
    page = client.get(url("trainingjob", "change", job.pk))
    assert not page.context["has_change_permission"]
    assert client.post(url("trainingjob", "change", job.pk), {"name": "x"}).status_code == 403
    job.refresh_from_db()
    assert job.name == "research-job"
