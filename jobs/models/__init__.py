from jobs.models.instance_types import InstanceType
from jobs.models.training import MetricPoint, TrainingJob, TrainingJobStatus

__all__ = ["InstanceType", "MetricPoint", "TrainingJob", "TrainingJobStatus"]
