"""The admin console's workload pages, one module per resource, on the console's base
(`domains.admin`, whose docstring gives its rules). This package only imports them, so that
Django's admin autodiscovery registers them."""

from jobs.admin import endpoints, images, training_jobs

__all__ = ["endpoints", "images", "training_jobs"]
