"""Image and ImageVersion operations, in SageMaker's shapes: CreateImage, DescribeImage,
ListImages, UpdateImage, DeleteImage, CreateImageVersion, DescribeImageVersion,
ListImageVersions, DeleteImageVersion (jobs/services/images.py does the work).

Images are the installation's, not a domain's: every key may read them; changing them is its
superusers' (docs/images-and-uris.md), so a key, which acts as its profile, is refused.
"""

from typing import Any

from jobs.models import Image, ImageVersion
from jobs.services import images
from studio.core.errors import ValidationException
from studio.web.api.auth import Caller
from studio.web.api.registry import listing, moment, operation, without_none

# CreateImageVersion's members that describe a SageMaker-provided image's release; Studio
# keeps no such metadata, so a request giving one is told so rather than have it dropped.
RELEASE_MEMBERS = (
    "Aliases",
    "VendorGuidance",
    "JobType",
    "MLFramework",
    "ProgrammingLang",
    "Processor",
    "Horovod",
    "ReleaseNotes",
)


def _times(params: dict[str, Any]) -> images.TimeFilters:
    return images.TimeFilters(
        created_after=moment(params, "CreationTimeAfter"),
        created_before=moment(params, "CreationTimeBefore"),
        modified_after=moment(params, "LastModifiedTimeAfter"),
        modified_before=moment(params, "LastModifiedTimeBefore"),
    )


def _image(image: Image) -> dict[str, Any]:
    return without_none(image.describe())


def _version_summary(version: ImageVersion) -> dict[str, Any]:
    described = version.describe()
    return without_none(
        {
            key: described.get(key)
            for key in (
                "CreationTime",
                "FailureReason",
                "ImageArn",
                "ImageVersionArn",
                "ImageVersionStatus",
                "LastModifiedTime",
                "Version",
            )
        }
    )


def _no_alias(params: dict[str, Any]) -> None:
    if params.get("Alias"):
        raise ValidationException(
            "Alias names a version of a SageMaker-provided image; Studio's images have "
            "versions only by number: give Version.",
            "Alias",
        )


@operation("CreateImage")
def create_image(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    image = images.create_image(
        caller.user,
        params["ImageName"],
        display_name=params.get("DisplayName", ""),
        description=params.get("Description", ""),
        role_arn=params.get("RoleArn"),
        tags=params.get("Tags"),
    )
    return {"ImageArn": image.arn}


@operation("DescribeImage")
def describe_image(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return _image(images.describe_image(caller.user, params["ImageName"]))


@operation("ListImages")
def list_images(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = images.list_images(
        caller.user,
        name_contains=params.get("NameContains"),
        times=_times(params),
        sort_by=params.get("SortBy"),
        sort_order=params.get("SortOrder"),
    )
    return listing("Images", found, _image, params)


@operation("UpdateImage")
def update_image(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    image = images.update_image(
        caller.user,
        params["ImageName"],
        description=params.get("Description"),
        display_name=params.get("DisplayName"),
        role_arn=params.get("RoleArn"),
        delete_properties=params.get("DeleteProperties"),
    )
    return {"ImageArn": image.arn}


@operation("DeleteImage")
def delete_image(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    images.delete_image(caller.user, params["ImageName"])
    return {}


@operation("CreateImageVersion")
def create_image_version(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    for member in RELEASE_MEMBERS:
        if params.get(member) is not None:
            raise ValidationException(
                f"{member} describes a SageMaker-provided image's release; Studio keeps no "
                "such metadata for its images. Leave it out.",
                member,
            )
    version = images.create_image_version(
        caller.user,
        params["ImageName"],
        params["BaseImage"],
        client_token=params.get("ClientToken"),
    )
    return {"ImageVersionArn": version.arn}


@operation("DescribeImageVersion")
def describe_image_version(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    _no_alias(params)
    version = images.describe_image_version(caller.user, params["ImageName"], params.get("Version"))
    return without_none(version.describe())


@operation("ListImageVersions")
def list_image_versions(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    found = images.list_image_versions(
        caller.user,
        params["ImageName"],
        times=_times(params),
        sort_by=params.get("SortBy"),
        sort_order=params.get("SortOrder"),
    )
    return listing("ImageVersions", found, _version_summary, params)


@operation("DeleteImageVersion")
def delete_image_version(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    _no_alias(params)
    if params.get("Version") is None:
        raise ValidationException("Version is required: the number of the version.", "Version")
    images.delete_image_version(caller.user, params["ImageName"], params["Version"])
    return {}
