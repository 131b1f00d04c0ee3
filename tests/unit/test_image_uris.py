"""SageMaker's image URIs name Studio's images: every URI the SageMaker Python SDK's
`image_uris.retrieve` gives for the scikit-learn container and the built-in algorithms Studio
runs, in every region and partition it lists, resolves to the sklearn image.

`data/sagemaker_image_uris.json` holds those URIs as the SDK (the version it names) built them
from its own `image_uri_config/*.json`, for every scope, version and region listed there.
"""

import json
from pathlib import Path

import pytest

from jobs import builtin_algorithms
from jobs.models.images import SAGEMAKER_REPOSITORIES, runtime_reference, sagemaker_repository
from jobs.services.images import TRAINING_IMAGE, builtin_algorithm, resolve_image
from studio.core.errors import ValidationException

DATA = json.loads((Path(__file__).parent / "data" / "sagemaker_image_uris.json").read_text())
URIS = DATA["uris"]
SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def test_the_data_covers_every_partition_and_framework():
    hosts = {uri.split("/")[0].split(".", 4)[-1] for _, uri in URIS}
    assert {"amazonaws.com", "amazonaws.com.cn", "c2s.ic.gov", "sc2s.sgov.gov"} <= hosts
    assert {framework for framework, _ in URIS} == {
        "sklearn",
        *builtin_algorithms.names(),
    }


@pytest.mark.parametrize(("framework", "uri"), URIS, ids=[uri for _, uri in URIS])
def test_every_sdk_uri_runs_the_sklearn_image(framework, uri):
    assert resolve_image(uri) == builtin_algorithms.BUILTIN_IMAGE
    assert resolve_image(uri, "PrimaryContainer.Image") == builtin_algorithms.BUILTIN_IMAGE
    # A training job naming it runs the built-in it is (the scikit-learn container: script mode).
    expected = None if framework == "sklearn" else framework
    assert builtin_algorithm({"TrainingImage": uri}) == expected


def test_built_in_algorithms_map_to_studio_s_own_names():
    algorithms = {a for a in SAGEMAKER_REPOSITORIES.values() if a is not None}
    assert algorithms == set(builtin_algorithms.names())


@pytest.mark.parametrize(
    "uri",
    [
        # Any account (a copy in one's own ECR), a FIPS endpoint, a digest, no tag.
        "123456789012.dkr.ecr.eu-west-3.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3",
        "683313688378.dkr.ecr-fips.us-gov-west-1.amazonaws.com/kmeans:1",
        "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner@sha256:" + "a" * 64,
        "382416733822.dkr.ecr.us-east-1.amazonaws.com/pca",
        # A partition newer than the SDK's data.
        "111122223333.dkr.ecr.eusc-de-east-1.amazonaws.eu/sagemaker-xgboost:3.0-5",
    ],
)
def test_any_account_region_and_partition_maps(uri):
    assert resolve_image(uri) == builtin_algorithms.BUILTIN_IMAGE


def test_a_repository_studio_does_not_have_is_refused_naming_field_repository_and_the_way_out():
    uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310"
    with pytest.raises(ValidationException) as caught:
        resolve_image(uri, "PrimaryContainer.Image")
    error = caught.value
    assert error.field == "PrimaryContainer.Image"
    assert error.message.startswith("Image ")
    assert "'pytorch-training'" in error.message
    assert "sagemaker-scikit-learn" in error.message and "linear-learner" in error.message
    assert "CreateImage" in error.message
    with pytest.raises(ValidationException) as caught:
        resolve_image(uri)
    assert caught.value.field == TRAINING_IMAGE


def test_script_mode_on_the_xgboost_image_is_not_the_built_in():
    uri = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert builtin_algorithm({"TrainingImage": uri}) == "xgboost"
    assert builtin_algorithm({"TrainingImage": uri}, {"sagemaker_program": '"train.py"'}) is None
    assert builtin_algorithm({"AlgorithmName": "kmeans"}) == "kmeans"
    assert builtin_algorithm({"TrainingImage": SKLEARN}) is None


def test_look_alikes_are_not_sagemaker_uris():
    for reference in [
        "studio/sklearn:latest",
        "registry.example:5000/sagemaker-scikit-learn:1.2-1",
        "12345.dkr.ecr.us-east-1.amazonaws.com/kmeans:1",  # not a 12-digit account
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1 extra",
    ]:
        assert sagemaker_repository(reference) is None
    assert runtime_reference("myteam/trainer:1.2") == "myteam/trainer:1.2"
    assert runtime_reference("sklearn") == builtin_algorithms.BUILTIN_IMAGE


def test_processing_names_its_own_member():
    from jobs.services.processing import IMAGE_URI, processing_image

    assert processing_image({"AppSpecification": {"ImageUri": SKLEARN}}) == (
        builtin_algorithms.BUILTIN_IMAGE
    )
    bad = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310"
    with pytest.raises(ValidationException) as caught:
        processing_image({"AppSpecification": {"ImageUri": bad}})
    assert caught.value.field == IMAGE_URI
    assert caught.value.message.startswith(f"{IMAGE_URI} {bad}")
