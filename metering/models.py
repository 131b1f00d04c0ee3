"""The instance-type catalog and the meters that record what ran on it (DESIGN.md §8)."""

from metering.catalog import InstanceType
from metering.meters import Meter

__all__ = ["InstanceType", "Meter"]
