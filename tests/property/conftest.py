"""Two domains with a member and a key each, and resources of the same names in both, for the
property tests: requests go through Django's test client (the real middleware and dispatcher)
signed with SigV4 as boto3 signs them.

The test's transaction is rolled back afterwards (pytest-django's `db`), so no Celery worker
runs: the work a request asks for after its commit is captured (`on_commit`) and never sent,
and anything sent outright stays in this process's Redis queue, where the fingerprint sees it.
"""

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.test import Client

from tests.property.bodies import Targets
from tests.property.signing import HOST, sign

SAGEMAKER_JSON = "application/x-amz-json-1.1"
OWN, THEIRS, NONE = "mine", "theirs", "nosuch"


class FailureLog(logging.Handler):
    """Keeps what the API logged with a traceback, for a 500's failure message."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def last(self) -> str:
        if not self.records:
            return "(nothing logged)"
        record = self.records[-1]
        return logging.Formatter().format(record)


@dataclass
class Tenant:
    """alice's key in `research`; carol's in `elsewhere`; same-named resources in both."""

    client: Client
    key_id: str
    secret: str
    other_key_id: str
    other_secret: str
    domain: object
    other: object
    targets: Targets
    failures: FailureLog = field(default_factory=FailureLog)

    def call(
        self,
        service: str,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        *,
        key: tuple[str, str] | None = None,
        query: str = "",
    ):
        """`method path?query` with `body`, signed for `service` (alice's key by default)."""
        key_id, secret = key or (self.key_id, self.secret)
        url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
        signed = sign(method, url, body, service, key_id, secret, {"Host": HOST, **headers})
        content_type = signed.pop("Content-Type", "")
        return self.client.generic(
            method,
            path + (f"?{query}" if query else ""),
            body,
            content_type=content_type,
            headers=signed,
        )

    def sagemaker(self, operation: str, body: bytes, key: tuple[str, str] | None = None):
        return self.call(
            "sagemaker",
            "POST",
            "/",
            body,
            {"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": SAGEMAKER_JSON},
            key=key,
        )


@pytest.fixture
def tenant(db, root, alice, carol) -> Iterator[Tenant]:
    from domains.models import Domain, UserProfile
    from domains.services import (
        create_access_key,
        create_domain,
        create_space,
        create_user_profile,
    )
    from domains.tasks import provision_domain, provision_space, provision_user_profile
    from studio.core import storage

    def member_of(name: str, user) -> tuple[Domain, str, str]:
        domain = create_domain(root, name=name)
        provision_domain(domain.pk)  # the worker's task, run here: no worker in these tests
        profile = create_user_profile(root, domain.domain_id, name=user.username, user=user)
        provision_user_profile(profile.pk)
        assert UserProfile.objects.get(pk=profile.pk).status == "InService"
        key, secret = create_access_key(user, domain.domain_id, user.username)
        return Domain.objects.get(pk=domain.pk), key.access_key_id, secret

    domain, key_id, secret = member_of("research", alice)
    other, other_key_id, other_secret = member_of("elsewhere", carol)
    for user, in_domain, name in ((alice, domain, OWN), (carol, other, THEIRS)):
        space = create_space(user, in_domain.domain_id, name=name)
        provision_space(space.pk)
    targets = Targets(
        own_domain=domain.domain_id,
        other_domain=other.domain_id,
        own_account=domain.account_id,
        other_account=other.account_id,
        own_bucket=storage.domain_bucket(domain.domain_id),
        other_bucket=storage.domain_bucket(other.domain_id),
        names=(THEIRS, OWN, NONE),
        profiles=("carol", "alice", "nobody"),
    )
    tenant = Tenant(Client(), key_id, secret, other_key_id, other_secret, domain, other, targets)
    for who, name in (((other_key_id, other_secret), THEIRS), ((key_id, secret), OWN)):
        created = tenant.sagemaker(
            "CreateModelPackageGroup", f'{{"ModelPackageGroupName": "{name}"}}'.encode(), who
        )
        assert created.status_code == 200, created.content
    logger = logging.getLogger()
    logger.addHandler(tenant.failures)
    try:
        yield tenant
    finally:
        logger.removeHandler(tenant.failures)
        shutil.rmtree(storage.artifact_store().root, ignore_errors=True)
