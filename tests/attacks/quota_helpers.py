"""CreateTrainingJob requests as boto3 insists on them, for the identity and quota attacks."""

from tests.integration.training import request

ROLE = "arn:aws:iam::000000000000:role/studio"


def boto_request(name: str, **overrides) -> dict:
    """The training tests' request with a RoleArn and an input mode, which boto3 requires."""
    spec = request(name, **overrides)
    spec["AlgorithmSpecification"].setdefault("TrainingInputMode", "File")
    return {**spec, "RoleArn": ROLE}
