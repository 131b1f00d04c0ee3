from jobs.models.datasets import Dataset
from jobs.models.hosting import (
    Endpoint,
    EndpointConfig,
    EndpointInstance,
    EndpointStatus,
    InstanceStatus,
    Model,
)
from jobs.models.images import Image, ImageStatus, ImageVersion, ImageVersionStatus
from jobs.models.processing import ProcessingJob
from jobs.models.registry import (
    ModelApprovalChange,
    ModelApprovalStatus,
    ModelPackage,
    ModelPackageGroup,
    ModelPackageGroupStatus,
    ModelPackageStatus,
)
from jobs.models.training import MetricPoint, TrainingJob, TrainingJobStatus
from jobs.models.transform import TransformJob

__all__ = [
    "Dataset",
    "Endpoint",
    "EndpointConfig",
    "EndpointInstance",
    "EndpointStatus",
    "Image",
    "ImageStatus",
    "ImageVersion",
    "ImageVersionStatus",
    "InstanceStatus",
    "MetricPoint",
    "Model",
    "ModelApprovalChange",
    "ModelApprovalStatus",
    "ModelPackage",
    "ModelPackageGroup",
    "ModelPackageGroupStatus",
    "ModelPackageStatus",
    "ProcessingJob",
    "TrainingJob",
    "TrainingJobStatus",
    "TransformJob",
]
