"""Where a processing job's hosts' trees and logs are on the worker's host."""

from pathlib import Path

from django.conf import settings

from studio.core.storage.paths import safe_join


def job_dir(domain_id: str, name: str) -> Path:
    """Where one job's hosts' trees and logs are: below its domain's directory, since two
    domains may each have a job of this name."""
    domain = safe_join(Path(settings.DATA_DIR) / "jobs" / "processing", domain_id, "DomainId")
    return safe_join(domain, name, "ProcessingJobName")
