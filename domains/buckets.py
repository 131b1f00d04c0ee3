"""Who owns a bucket: the one rule both the S3 endpoint and the jobs' URI check read
(docs/s3.md, "Buckets"), so that what a job may name and what a key may reach agree.

- `studio-<domain id>` is that domain's own bucket; every other `studio`, `studio-*` and
  `studio.*` name is the platform's, no domain's.
- A bucket a domain created through the S3 endpoint (a `studio.core.models.Bucket` row) is
  that domain's.
- `sagemaker-<region>-<account id>`, the SageMaker SDK's default bucket, is the domain's whose
  account id it names, created or not, so no other domain can take (or write into) it first.
- Any other name is shared by every domain, as buckets of one AWS account are.

studio.core.storage asks this rule through the lookup this app registers when it is ready
(the core layer knows no domains).
"""

import re

from domains.models import Domain
from studio.core.models import Bucket
from studio.core.storage.buckets import DOMAIN_BUCKET_PREFIX, RESERVED, Owner

SDK_DEFAULT = re.compile(r"sagemaker-[a-z0-9-]+-(?P<account>\d{12})")


def owner_of(bucket: str) -> Owner:
    if RESERVED.fullmatch(bucket):
        domain_id = bucket.removeprefix(DOMAIN_BUCKET_PREFIX)
        domain = (
            Domain.objects.filter(domain_id=domain_id).first()
            if bucket.startswith(DOMAIN_BUCKET_PREFIX)
            else None
        )
        return (
            Owner(domain, platform=True, created=True)
            if domain is None
            else Owner(domain, created=True)
        )
    row = Bucket.objects.select_related("domain").filter(name=bucket).first()
    if row is not None:
        return Owner(row.domain, created=True)
    match = SDK_DEFAULT.fullmatch(bucket)
    if match is not None:
        domain = Domain.objects.filter(account_id=match["account"]).first()
        if domain is not None:
            return Owner(domain)
    return Owner()
