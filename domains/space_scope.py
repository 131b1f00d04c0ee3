"""What the key of a shared space's JupyterLab app may do.

Every member of a shared space runs code in its container, so every member holds the key that
container carries; the key is issued for the space's owner (domains/notebooks/credentials.py). Left
at the owner's full rights, any member could act as the owner: delete the owner's other
spaces, stop the owner's jobs, read the owner's private spaces. SageMaker runs a shared space
with a space-level execution role instead of a member's identity; Studio keeps the owner's
identity (and so the owner's policies, quotas and bill) but narrows it, as an AWS session
policy does: a request signed with such a key is allowed only if the owner's policies allow it
AND this fixed scope does.

The scope is an allow-list, so an action added later is refused until someone decides it
belongs here. Stopping jobs is not in it: Studio does not record which space created a job,
so it cannot tell the space's own jobs from the owner's others.
"""

from dataclasses import dataclass

# Reading the domain: what every member of it may read anyway.
DOMAIN_READS = frozenset(
    {
        "sagemaker:DescribeDomain",
        "sagemaker:DescribeUserProfile",
        "sagemaker:ListUserProfiles",
        "studio:DescribeDataset",
        "studio:ListDatasets",
    }
)
# Reading spaces and apps: the key's own space and its apps only. A List is narrowed to them
# by `domains.services.spaces.visible_spaces`; a Describe must name them.
SPACE_LISTS = frozenset({"sagemaker:ListSpaces", "sagemaker:ListApps"})
SPACE_DESCRIBES = frozenset({"sagemaker:DescribeSpace", "sagemaker:DescribeApp"})
# Running work, as the owner and billed to the owner.
JOB_ACTIONS = frozenset(
    {
        "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:ListTrainingJobs",
        "sagemaker:CreateProcessingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:ListProcessingJobs",
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:ListTransformJobs",
    }
)
JOB_STOPS = frozenset(
    {"sagemaker:StopTrainingJob", "sagemaker:StopProcessingJob", "sagemaker:StopTransformJob"}
)
# Asking the domain's endpoints for predictions, as the owner's policies allow: like a read, it
# changes nothing (the requests are billed to the endpoint's owner in any case).
INVOCATIONS = frozenset({"sagemaker:InvokeEndpoint"})


@dataclass(frozen=True)
class SpaceScope:
    """The shared space a key belongs to (its app's space)."""

    space_id: int
    space_name: str
    domain_name: str

    def refusal(self, action: str, space_id: int | None = None) -> str | None:
        """Why this scope refuses `action` (on the space `space_id`, for a space's or an app's
        Describe), or None if it allows it."""
        if any(
            action in allowed for allowed in (DOMAIN_READS, SPACE_LISTS, JOB_ACTIONS, INVOCATIONS)
        ):
            return None
        if action in SPACE_DESCRIBES:
            if space_id == self.space_id:
                return None
            return "it may read only its own space and that space's apps"
        if action in JOB_STOPS:
            return (
                "Studio does not record which space started a job, so a shared space's key "
                "stops none; stop it from the dashboard or with your own key"
            )
        return (
            "a shared space's key may only read the domain, its own space and apps, create "
            "and read training, processing and transform jobs, and invoke endpoints"
        )

    def denial_message(self, action: str, why: str) -> str:
        return (
            f"The access key of shared space '{self.space_name}' in domain '{self.domain_name}' "
            f"is not authorized to perform {action}: {why}."
        )
