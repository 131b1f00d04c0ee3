"""The instance-type catalog (DESIGN.md §8): what each type gives a container, and its price."""

import os
from decimal import Decimal

from django.db import models

GIB = 1024**3


class InstanceType(models.Model):
    name = models.CharField(max_length=32, unique=True)
    vcpus = models.PositiveSmallIntegerField()
    memory_gib = models.DecimalField(max_digits=7, decimal_places=2)
    gpus = models.PositiveSmallIntegerField(default=0)
    price_per_hour = models.DecimalField(max_digits=10, decimal_places=4)
    enabled = models.BooleanField(default=True)

    class Meta:
        app_label = "metering"
        ordering = ["price_per_hour", "name"]

    def __str__(self) -> str:
        return self.name

    def container_limits(self) -> tuple[float, int]:
        """(cpus, memory bytes) for a container of this type, capped at what the host has."""
        host_cpus = os.cpu_count() or 1
        host_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return (
            float(min(self.vcpus, host_cpus)),
            int(min(self.memory_gib * GIB, Decimal(host_memory))),
        )


def offered(name: str) -> InstanceType | None:
    """The enabled catalog entry called `name`, if there is one."""
    return InstanceType.objects.filter(name=name, enabled=True).first()


def offered_names() -> list[str]:
    return list(InstanceType.objects.filter(enabled=True).values_list("name", flat=True))
