"""The image registry (bring your own container): Image and ImageVersion through the services,
and what a training job's TrainingImage may name."""

import importlib

import pytest
from django.apps import apps

from jobs.models import Image, ImageVersion, TrainingJob
from jobs.services import create_training_job
from jobs.services.images import (
    create_image,
    create_image_version,
    delete_image,
    delete_image_version,
    describe_image,
    describe_image_version,
    list_image_versions,
    list_images,
    resolve_image,
)
from jobs.training.runner import container_spec
from studio.core.errors import AccessDenied, ResourceInUse, ResourceNotFound, ValidationException
from studio.core.models import StatusTransition
from studio.core.shapes import validate
from studio.core.storage import confined
from tests.integration.conftest import SKLEARN_IMAGE, put_sourcedir
from tests.integration.training import ended, model_files, request, script_request

pytestmark = pytest.mark.django_db(transaction=True)

TRAINING_IMAGE = "AlgorithmSpecification.TrainingImage"


@pytest.fixture
def builtin_images(transactional_db) -> None:
    """The data migration's images (a transactional test's flush empties every table)."""
    importlib.import_module("jobs.migrations.0006_seed_images").seed(apps, None)


@pytest.fixture
def trainer(builtin_images) -> Image:
    """A registered image with two versions, made as rows: resolving never asks the runtime,
    so these references need not exist anywhere."""
    image = Image.objects.create(name="trainer", status="CREATED", last_version=2)
    for version, tag in ((1, "1.2"), (2, "1.3")):
        ImageVersion.objects.create(
            image=image, version=version, base_image=f"myteam/trainer:{tag}", status="CREATED"
        )
    return image


def transitions(resource_type: str, resource_id: str) -> list[str]:
    return list(
        StatusTransition.objects.filter(
            resource_type=resource_type, resource_id=resource_id
        ).values_list("to_status", flat=True)
    )


# --- registering --------------------------------------------------------------------------------


def test_superuser_registers_an_image_and_numbers_its_versions(runtime, root, alice):
    image = create_image(root, "trainer", display_name="Team trainer", description="Ours.")

    assert image.status == "CREATED"
    assert image.arn.endswith(":image/trainer")
    assert transitions("Image", "trainer") == ["CREATED"]
    validate(describe_image(alice, "trainer").describe(), "DescribeImageResponse", "")

    first = create_image_version(root, "trainer", SKLEARN_IMAGE)
    second = create_image_version(root, "trainer", SKLEARN_IMAGE, client_token="retry-1")
    again = create_image_version(root, "trainer", SKLEARN_IMAGE, client_token="retry-1")

    assert (first.version, second.version) == (1, 2)
    assert again.pk == second.pk  # the same ClientToken is the same call, retried
    assert second.arn.endswith(":image-version/trainer/2")
    assert transitions("ImageVersion", "trainer/1") == ["CREATED"]
    latest = describe_image_version(alice, "trainer")
    assert latest.version == 2
    described = latest.describe()
    validate(described, "DescribeImageVersionResponse", "")
    assert described["BaseImage"] == SKLEARN_IMAGE
    assert [v.version for v in list_image_versions(alice, "trainer")] == [2, 1]
    assert "trainer" in [i.name for i in list_images(alice, name_contains="rain")]

    delete_image_version(root, "trainer", 2)
    assert transitions("ImageVersion", "trainer/2") == ["CREATED", "DELETING"]
    # Numbers are never reused: an ImageVersionArn always means one reference.
    assert create_image_version(root, "trainer", SKLEARN_IMAGE).version == 3

    delete_image(root, "trainer")
    assert not Image.objects.filter(name="trainer").exists()
    assert not ImageVersion.objects.filter(image__name="trainer").exists()
    assert transitions("Image", "trainer") == ["CREATED", "DELETING"]
    with pytest.raises(ResourceNotFound):
        describe_image(root, "trainer")


def test_the_builtin_images_are_registered_by_the_migration(builtin_images, root):
    assert describe_image_version(root, "sklearn", 1).base_image == "studio/sklearn:latest"
    assert describe_image_version(root, "jupyter").base_image == "studio/jupyter:latest"


@pytest.mark.parametrize(
    ("name", "extra", "field"),
    [
        ("bad_name", {}, "ImageName"),
        ("", {}, "ImageName"),
        ("-leading-dash", {}, "ImageName"),
        ("x" * 64, {}, "ImageName"),
        ("fine", {"display_name": " padded "}, "DisplayName"),
        ("fine", {"description": "d" * 513}, "Description"),
        ("fine", {"role_arn": "not-an-arn"}, "RoleArn"),
    ],
)
def test_bad_image_fields_are_refused_and_nothing_is_created(root, name, extra, field):
    with pytest.raises(ValidationException) as error:
        create_image(root, name, **extra)

    assert error.value.field == field
    assert not Image.objects.exists()


def test_a_taken_image_name_is_in_use_whatever_its_case(root):
    create_image(root, "trainer")

    for name in ("trainer", "Trainer"):
        with pytest.raises(ResourceInUse):
            create_image(root, name)
    assert Image.objects.count() == 1


def test_a_reference_the_runtime_does_not_have_is_refused_with_how_to_load_it(runtime, root):
    create_image(root, "trainer")

    with pytest.raises(ValidationException) as error:
        create_image_version(root, "trainer", "myteam/not-loaded:9.9")

    assert error.value.field == "BaseImage"
    assert f"not on the {runtime} runtime" in error.value.message
    assert "studio images build" in error.value.message
    if runtime == "docker":
        assert "docker load" in error.value.message
    assert not ImageVersion.objects.exists()


@pytest.mark.parametrize("reference", ["Not A Reference", "UPPER/case:1", "a:b:c"])
def test_a_malformed_reference_is_refused_before_the_runtime_is_asked(root, reference):
    create_image(root, "trainer")

    with pytest.raises(ValidationException) as error:
        create_image_version(root, "trainer", reference)

    assert error.value.field == "BaseImage"
    assert "not a container image reference" in error.value.message


def test_versions_of_missing_images_and_missing_versions_are_not_found(root, trainer):
    with pytest.raises(ResourceNotFound):
        create_image_version(root, "nothing-here", SKLEARN_IMAGE)
    with pytest.raises(ResourceNotFound):
        describe_image_version(root, "trainer", 7)
    with pytest.raises(ResourceNotFound):
        delete_image_version(root, "trainer", 7)


# --- who may ------------------------------------------------------------------------------------


def test_members_and_domain_admins_may_read_images_but_not_change_them(
    alice, bob, alice_profile, make_profile, domain, trainer
):
    make_profile(domain, bob, role="Admin")

    for user in (alice, bob):
        for call in (
            lambda u: create_image(u, "mine"),
            lambda u: create_image_version(u, "trainer", SKLEARN_IMAGE),
            lambda u: delete_image_version(u, "trainer", 1),
            lambda u: delete_image(u, "trainer"),
        ):
            with pytest.raises(AccessDenied):
                call(user)
        assert describe_image(user, "trainer").name == "trainer"
        assert len(list_image_versions(user, "trainer")) == 2
    assert list(Image.objects.values_list("name", flat=True)) == ["jupyter", "sklearn", "trainer"]
    assert ImageVersion.objects.filter(image__name="trainer").count() == 2


def test_anonymous_callers_cannot_even_list_images(trainer):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(AccessDenied):
        list_images(AnonymousUser())


# --- what a training job may name ---------------------------------------------------------------


def test_resolve_image_takes_a_reference_an_image_arn_or_an_image_version_arn(trainer):
    version_1 = trainer.versions.get(version=1)

    assert resolve_image("myteam/trainer:1.2") == "myteam/trainer:1.2"
    assert resolve_image(trainer.arn) == "myteam/trainer:1.3"  # the latest CREATED version
    assert resolve_image(version_1.arn) == "myteam/trainer:1.2"
    assert resolve_image(SKLEARN_IMAGE) == SKLEARN_IMAGE


def test_resolve_image_names_the_registered_images_when_it_knows_none(trainer):
    account = trainer.arn.split(":")[4]
    unknown = [
        "someone/else:1",
        trainer.arn.replace(":image/trainer", ":image/nothing"),
        trainer.versions.get(version=1).arn.replace("/trainer/1", "/trainer/9"),
        trainer.arn.replace(account, "999999999999"),  # another account's image
    ]
    for reference in unknown:
        with pytest.raises(ValidationException) as error:
            resolve_image(reference)
        assert error.value.field == TRAINING_IMAGE
        assert "trainer (myteam/trainer:1.3)" in error.value.message
        assert "sklearn (studio/sklearn:latest)" in error.value.message


def test_an_image_without_a_created_version_does_not_resolve(root, trainer):
    empty = create_image(root, "empty")
    with pytest.raises(ValidationException, match="no CREATED version"):
        resolve_image(empty.arn)


def test_builtin_references_resolve_even_when_the_registry_lost_them(root, trainer):
    delete_image(root, "sklearn")

    assert resolve_image(SKLEARN_IMAGE) == SKLEARN_IMAGE  # built-in algorithms run it
    with pytest.raises(ValidationException):
        resolve_image(Image(name="sklearn").arn)


def test_a_training_job_runs_the_reference_its_image_version_arn_names(
    runtime, alice, alice_profile, data, trainer, tmp_path
):
    team = Image.objects.create(name="team-sklearn", status="CREATED", last_version=1)
    version = ImageVersion.objects.create(
        image=team, version=1, base_image=SKLEARN_IMAGE, status="CREATED"
    )
    source = put_sourcedir(
        "s3://research-code/byoc/sourcedir.tar.gz",
        {"train.py": "import os\nopen(os.environ['SM_MODEL_DIR'] + '/ok', 'w').write('ok')\n"},
        tmp_path,
    )
    spec = script_request("byoc-1", source, AlgorithmSpecification={"TrainingImage": version.arn})

    job = create_training_job(alice, alice_profile.domain.domain_id, spec)

    assert job.request["AlgorithmSpecification"]["TrainingImage"] == version.arn  # as given
    assert job.runtime_state["image"] == SKLEARN_IMAGE
    assert container_spec(job, "algo-1", confined.Tree(tmp_path, 1000, 100)).image == SKLEARN_IMAGE
    job = ended(job)
    assert job.status == "Completed", job.failure_reason
    assert model_files(job) == {"ok": b"ok"}


def test_a_training_job_naming_an_unregistered_image_is_refused(
    instance_types, alice, alice_profile, data, trainer
):
    spec = request("byoc-2", AlgorithmSpecification={"TrainingImage": "someone/else:1"})

    with pytest.raises(ValidationException) as error:
        create_training_job(alice, alice_profile.domain.domain_id, spec)

    assert error.value.field == TRAINING_IMAGE
    assert not TrainingJob.objects.exists()
