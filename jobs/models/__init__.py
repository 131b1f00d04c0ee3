from jobs.models.datasets import Dataset
from jobs.models.instance_types import InstanceType
from jobs.models.training import MetricPoint, TrainingJob, TrainingJobStatus

__all__ = ["Dataset", "InstanceType", "MetricPoint", "TrainingJob", "TrainingJobStatus"]
