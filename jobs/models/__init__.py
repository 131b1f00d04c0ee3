from jobs.models.datasets import Dataset
from jobs.models.images import Image, ImageStatus, ImageVersion, ImageVersionStatus
from jobs.models.instance_types import InstanceType
from jobs.models.processing import ProcessingJob
from jobs.models.training import MetricPoint, TrainingJob, TrainingJobStatus

__all__ = [
    "Dataset",
    "Image",
    "ImageStatus",
    "ImageVersion",
    "ImageVersionStatus",
    "InstanceType",
    "MetricPoint",
    "ProcessingJob",
    "TrainingJob",
    "TrainingJobStatus",
]
