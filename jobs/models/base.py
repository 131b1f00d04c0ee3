"""What every resource of a domain's workloads shares: identity, ARN and where its events go;
and, for jobs, the instances they hold."""

from typing import ClassVar

from domains.models import arn
from metering.meters import Holder, Meter, Metered
from studio.core.events import domain_group, profile_group, resource_group


class DomainResource:
    """For models with `name`, `domain` and `profile`. A name is unique in its domain only (as
    SageMaker's in its account), so everything that must tell two resources apart across the
    installation — the resource id, events, host paths, containers, leases — is keyed by
    "<domain id>/<name>", and the ARN, `<ARN_KIND>/<name in lower case>`, carries the domain's
    own account id."""

    ARN_KIND: ClassVar[str] = ""
    RESOURCE_TYPE: ClassVar[str] = ""

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


class JobIdentity(DomainResource, Metered):
    """A job: a DomainResource holding `instance_count` instances of `instance_type`."""

    METER_KIND = Meter.JOB
    # A job holds its instances from its creation until it has stopped (SageMaker bills from
    # the start of its containers; Studio's starts within a second of the creation).
    HOLDING_STATUSES = frozenset({"InProgress", "Stopping"})

    def holder(self) -> Holder:
        return Holder(
            domain_id=self.domain.domain_id,
            user_profile=self.profile.name,
            instance_type=self.instance_type,
            instance_count=self.instance_count,
        )
