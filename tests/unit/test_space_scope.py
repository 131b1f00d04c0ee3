"""The fixed scope of a shared space's app key: what it allows, and what it says when it
refuses (domains/space_scope.py)."""

import pytest

from domains.space_scope import SpaceScope

SCOPE = SpaceScope(space_id=7, space_name="team", domain_name="research")


@pytest.mark.parametrize(
    "action",
    [
        "sagemaker:DescribeDomain",
        "sagemaker:ListUserProfiles",
        "sagemaker:ListSpaces",
        "sagemaker:ListApps",
        "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:ListTrainingJobs",
        "studio:ListDatasets",
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:ListTransformJobs",
        "sagemaker:InvokeEndpoint",
    ],
)
def test_reads_jobs_and_invocations_are_allowed(action):
    assert SCOPE.refusal(action) is None


@pytest.mark.parametrize("action", ["sagemaker:DescribeSpace", "sagemaker:DescribeApp"])
def test_only_its_own_space_and_apps_are_described(action):
    assert SCOPE.refusal(action, 7) is None
    assert "its own space" in SCOPE.refusal(action, 8)
    assert SCOPE.refusal(action) is not None  # a Describe that names no space is refused


@pytest.mark.parametrize(
    "action",
    [
        "sagemaker:CreateSpace",
        "sagemaker:DeleteSpace",
        "sagemaker:CreateApp",
        "sagemaker:DeleteApp",
        "sagemaker:UpdateUserProfile",
        "sagemaker:DeleteUserProfile",
        "studio:CreateAccessKey",
        "studio:ListAccessKeys",
        "studio:DeleteAccessKey",
        "studio:UploadDataset",
        "studio:DeleteDataset",
        "studio:CreatePolicy",
        "sagemaker:CreateEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:CreateModel",
        "sagemaker:SomeActionAddedLater",
    ],
)
def test_everything_else_is_refused(action):
    assert "may only read the domain" in SCOPE.refusal(action, 7)


@pytest.mark.parametrize(
    "action",
    ["sagemaker:StopTrainingJob", "sagemaker:StopProcessingJob", "sagemaker:StopTransformJob"],
)
def test_stops_are_refused_saying_why(action):
    assert "does not record which space started a job" in SCOPE.refusal(action)


def test_the_refusal_names_the_action_and_the_shared_space():
    message = SCOPE.denial_message("sagemaker:DeleteSpace", "because")
    assert "sagemaker:DeleteSpace" in message
    assert "shared space 'team' in domain 'research'" in message
