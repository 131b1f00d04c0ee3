from jobs.models.datasets import Dataset
from jobs.models.images import Image, ImageStatus, ImageVersion, ImageVersionStatus
from jobs.models.processing import ProcessingJob
from jobs.models.training import MetricPoint, TrainingJob, TrainingJobStatus

__all__ = [
    "Dataset",
    "Image",
    "ImageStatus",
    "ImageVersion",
    "ImageVersionStatus",
    "MetricPoint",
    "ProcessingJob",
    "TrainingJob",
    "TrainingJobStatus",
]
