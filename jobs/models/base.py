"""What every job model shares: identity, ARN and where its events go."""

from typing import ClassVar

from domains.models import arn
from studio.core.events import domain_group, profile_group, resource_group


class JobIdentity:
    """For LifecycleModels with `name`, `domain` and `profile`. A job's name is unique in its
    domain only (as SageMaker's in its account), so everything that must tell two jobs apart
    across the installation — the resource id, events, host paths, containers, leases — is
    keyed by "<domain id>/<name>", and the ARN, `<ARN_KIND>/<name in lower case>`, carries the
    domain's own account id."""

    ARN_KIND: ClassVar[str] = ""

    def __str__(self) -> str:
        return self.name

    @property
    def resource_id(self) -> str:
        return f"{self.domain.domain_id}/{self.name}"

    @property
    def arn(self) -> str:
        return arn(f"{self.ARN_KIND}/{self.name.lower()}", self.domain.account_id)

    def event_groups(self) -> list[str]:
        return [
            profile_group(self.profile_id),
            domain_group(self.domain.domain_id),
            resource_group(self.RESOURCE_TYPE, self.resource_id),
        ]
