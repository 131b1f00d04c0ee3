"""What every job model shares: identity, ARN and where its events go."""

from typing import ClassVar

from domains.models import arn
from studio.events import domain_group, profile_group, resource_group


class JobIdentity:
    """For LifecycleModels with `name`, `domain` and `profile`: jobs are named by their name,
    their ARN is `<ARN_KIND>/<name in lower case>`, and their events reach the owner, the
    domain and the job's own page."""

    ARN_KIND: ClassVar[str] = ""

    def __str__(self) -> str:
        return self.name

    @property
    def resource_id(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arn(f"{self.ARN_KIND}/{self.name.lower()}")

    def event_groups(self) -> list[str]:
        return [
            profile_group(self.profile_id),
            domain_group(self.domain.domain_id),
            resource_group(self.RESOURCE_TYPE, self.name),
        ]
