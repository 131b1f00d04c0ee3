"""Image and ImageVersion operations in SageMaker's shapes: read with boto3 by any key through
the live server (shapes as botocore parses them, sorting, pages, not-found errors), changed
only by the installation's superusers (a key, which acts as its profile, is refused and
nothing changes), and every operation's request and answer checked against botocore's model.
"""

from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

import studio.web.api.tags  # noqa: F401  (makes images taggable, as the live API does)
from domains.services import create_access_key
from domains.services.tags import list_tags
from jobs.models import Image, ImageVersion
from jobs.services import images
from studio.core.errors import AccessDenied, ResourceInUse, ResourceNotFound, ValidationException
from studio.core.shapes import input_shape, validate
from studio.web.api import views  # noqa: F401  (registers every operation, images' too)
from studio.web.api.registry import OPERATIONS
from tests.integration.api import sagemaker

pytestmark = pytest.mark.usefixtures("live")

SKLEARN_URI = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST_URI = "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1"


@pytest.fixture
def api(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return sagemaker(asgi_server, key.access_key_id, secret)


@pytest.fixture
def console(root):
    """The operations as the installation's superuser calls them (the admin console's actor),
    each request validated against SageMaker's input shape as the API's dispatcher does."""

    def call(name: str, **params):
        validate(params, input_shape(name), "")
        answer = OPERATIONS[name](SimpleNamespace(user=root, domain_id=None), params)
        validate(answer, f"{name}Response", "")
        return answer

    return call


def error(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_the_whole_image_lifecycle_in_sagemakers_shapes(console, root):
    arn = console(
        "CreateImage",
        ImageName="trainer",
        RoleArn="arn:aws:iam::123456789012:role/images",
        DisplayName="Trainer",
        Description="Our trainer",
        Tags=[{"Key": "team", "Value": "research"}],
    )["ImageArn"]
    assert arn.endswith(":image/trainer")
    assert [(t.key, t.value) for t in list_tags(root, arn)] == [("team", "research")]
    described = console("DescribeImage", ImageName="trainer")
    assert described["ImageStatus"] == "CREATED" and described["DisplayName"] == "Trainer"
    assert isinstance(described["CreationTime"], float)

    console("UpdateImage", ImageName="trainer", Description="Still ours")
    console("UpdateImage", ImageName="trainer", DeleteProperties=["DisplayName"])
    described = console("DescribeImage", ImageName="trainer")
    assert described["Description"] == "Still ours" and "DisplayName" not in described
    assert described["ImageStatus"] == "CREATED"
    assert described["LastModifiedTime"] >= described["CreationTime"]

    first = console(
        "CreateImageVersion", ImageName="trainer", BaseImage=SKLEARN_URI, ClientToken="t-1"
    )["ImageVersionArn"]
    # A retried call with the same token is the same version.
    assert (
        console(
            "CreateImageVersion", ImageName="trainer", BaseImage=SKLEARN_URI, ClientToken="t-1"
        )["ImageVersionArn"]
        == first
    )
    second = console(
        "CreateImageVersion", ImageName="trainer", BaseImage="sklearn", ClientToken="t-2"
    )["ImageVersionArn"]
    assert first.endswith("/trainer/1") and second.endswith("/trainer/2")
    version = console("DescribeImageVersion", ImageName="trainer", Version=1)
    assert version["BaseImage"] == SKLEARN_URI
    assert version["ContainerImage"] == "studio/sklearn:latest"
    assert console("DescribeImageVersion", ImageName="trainer")["Version"] == 2
    # What a job naming either ARN runs.
    assert images.resolve_image(first) == images.resolve_image(second) == "studio/sklearn:latest"

    listed = console(
        "ListImageVersions", ImageName="trainer", SortBy="VERSION", SortOrder="ASCENDING"
    )
    assert [v["Version"] for v in listed["ImageVersions"]] == [1, 2]
    assert set(listed["ImageVersions"][0]) == {
        "CreationTime",
        "ImageArn",
        "ImageVersionArn",
        "ImageVersionStatus",
        "LastModifiedTime",
        "Version",
    }
    console("DeleteImageVersion", ImageName="trainer", Version=1)
    with pytest.raises(ResourceNotFound):
        console("DescribeImageVersion", ImageName="trainer", Version=1)
    console("DeleteImage", ImageName="trainer")
    assert not Image.objects.filter(name="trainer").exists()
    assert not ImageVersion.objects.filter(image__name="trainer").exists()
    with pytest.raises(ResourceNotFound):
        console("DescribeImage", ImageName="trainer")


def test_base_images_studio_cannot_run_are_refused_naming_the_member(console):
    console("CreateImage", ImageName="elsewhere", RoleArn="arn:aws:iam::123456789012:role/x")
    cases = {
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310": (
            "'pytorch-training'",
            "CreateImage",
        ),
        "ghcr.io/someone/trainer:1": ("cannot pull it from ghcr.io", "docker load"),
        "registry.example:5000/team/image:2": ("registry.example:5000", "studio images build"),
    }
    for i, (base, words) in enumerate(cases.items()):
        with pytest.raises(ValidationException) as caught:
            console(
                "CreateImageVersion", ImageName="elsewhere", BaseImage=base, ClientToken=f"t-{i}"
            )
        assert caught.value.field == "BaseImage"
        for word in words:
            assert word in caught.value.message, caught.value.message
    assert not ImageVersion.objects.filter(image__name="elsewhere").exists()
    # SageMaker's release metadata and aliases are not Studio's.
    with pytest.raises(ValidationException, match="JobType"):
        console(
            "CreateImageVersion",
            ImageName="elsewhere",
            BaseImage=XGBOOST_URI,
            ClientToken="t-3",
            JobType="TRAINING",
        )
    with pytest.raises(ValidationException, match="Alias"):
        console("DescribeImageVersion", ImageName="elsewhere", Alias="1.0")
    with pytest.raises(ValidationException, match="DisplayName"):
        console(
            "UpdateImage", ImageName="elsewhere", DisplayName="x", DeleteProperties=["DisplayName"]
        )


def test_an_image_being_deleted_cannot_be_updated(console):
    console("CreateImage", ImageName="going", RoleArn="arn:aws:iam::123456789012:role/x")
    Image.objects.filter(name="going").update(status="DELETING")
    with pytest.raises(ResourceInUse):
        console("UpdateImage", ImageName="going", Description="late")


def test_any_key_reads_images_with_boto3(api, console):
    for name in ("charlie", "alpha", "bravo"):
        console("CreateImage", ImageName=name, RoleArn="arn:aws:iam::123456789012:role/x")
    console("CreateImageVersion", ImageName="alpha", BaseImage=XGBOOST_URI, ClientToken="t-a")

    described = api.describe_image(ImageName="alpha")
    assert described["ImageStatus"] == "CREATED"
    assert described["CreationTime"].tzinfo is not None  # botocore parsed a timestamp
    version = api.describe_image_version(ImageName="alpha")
    assert version["Version"] == 1 and version["ContainerImage"] == "studio/sklearn:latest"
    ours = {"alpha", "bravo", "charlie"}
    by_name = api.list_images(SortBy="IMAGE_NAME", SortOrder="ASCENDING", MaxResults=100)
    assert [i["ImageName"] for i in by_name["Images"] if i["ImageName"] in ours] == sorted(ours)
    newest = [i["ImageName"] for i in api.list_images(MaxResults=100)["Images"]]
    assert [n for n in newest if n in ours] == ["bravo", "alpha", "charlie"]
    assert [i["ImageName"] for i in api.list_images(NameContains="RAV")["Images"]] == ["bravo"]
    paged = [
        image["ImageName"]
        for page in api.get_paginator("list_images").paginate(
            SortBy="IMAGE_NAME", PaginationConfig={"PageSize": 2}
        )
        for image in page["Images"]
    ]
    assert paged == sorted(paged, reverse=True) and ours <= set(paged)
    assert api.list_image_versions(ImageName="alpha")["ImageVersions"][0]["Version"] == 1

    assert error(lambda: api.describe_image(ImageName="nothing"))[0] == "ResourceNotFound"
    assert error(lambda: api.list_image_versions(ImageName="nothing"))[0] == "ResourceNotFound"
    code, message = error(lambda: api.describe_image_version(ImageName="alpha", Version=9))
    assert code == "ResourceNotFound" and "version 9" in message


def test_a_key_cannot_change_the_installations_images(api, console):
    console("CreateImage", ImageName="kept", RoleArn="arn:aws:iam::123456789012:role/x")
    console("CreateImageVersion", ImageName="kept", BaseImage=SKLEARN_URI, ClientToken="t-k")
    before = (
        list(Image.objects.values_list("name", "description", "status", "last_modified_at")),
        list(ImageVersion.objects.values_list("image__name", "version", "base_image")),
    )
    role = "arn:aws:iam::123456789012:role/x"
    attempts = {
        "CreateImage": lambda: api.create_image(ImageName="mine", RoleArn=role),
        "UpdateImage": lambda: api.update_image(ImageName="kept", Description="taken"),
        "DeleteImage": lambda: api.delete_image(ImageName="kept"),
        "CreateImageVersion": lambda: api.create_image_version(
            ImageName="kept", BaseImage=SKLEARN_URI, ClientToken="t-x"
        ),
        "DeleteImageVersion": lambda: api.delete_image_version(ImageName="kept", Version=1),
    }
    for action, attempt in attempts.items():
        code, message = error(attempt)
        assert code == "AccessDeniedException", action
        assert f"sagemaker:{action}" in message
    after = (
        list(Image.objects.values_list("name", "description", "status", "last_modified_at")),
        list(ImageVersion.objects.values_list("image__name", "version", "base_image")),
    )
    assert after == before


def test_services_refuse_a_signed_out_actor(console):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(AccessDenied):
        images.list_images(AnonymousUser())
    with pytest.raises(AccessDenied):
        images.update_image(AnonymousUser(), "x", description="y")
