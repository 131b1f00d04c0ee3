"""Two domains with a member and a key each, and resources of the same names in both, for the
property tests: requests go through Django's test client (the real middleware and dispatcher)
signed with SigV4 as boto3 signs them.

The test's transaction is rolled back afterwards (pytest-django's `db`), so no Celery worker
runs: the work a request asks for after its commit is captured (`on_commit`) and never sent,
and anything sent outright stays in this process's Redis queue, where the fingerprint sees it.
"""

import contextlib
import importlib
import io
import json
import logging
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.test import Client

from tests.conftest import wait_for
from tests.e2e.conftest import free_port
from tests.integration.training import request as training_request
from tests.property.bodies import Targets
from tests.property.signing import HOST, send_raw, sign

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
        # The latest with a traceback (Django's own "Internal Server Error" line comes after).
        traced = [r for r in self.records if r.exc_info] or self.records
        return logging.Formatter().format(traced[-1])


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
    base_url: str = ""  # a live server's, or "" for Django's test client
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
        unsigned: bool = False,
        payload_hash: str | None = None,
    ):
        """`method path?query` with `body`, signed for `service` (alice's key by default, not
        at all if `unsigned`); `path` and `query` as sent on the wire (percent-encoded)."""
        key_id, secret = key or (self.key_id, self.secret)
        target = path + (f"?{query}" if query else "")
        host = self.base_url.removeprefix("http://") if self.base_url else HOST
        url = (self.base_url or f"http://{HOST}") + target
        headers = {"Host": host, **headers}
        if not unsigned:
            headers = sign(
                method, url, body, service, key_id, secret, headers, payload_hash=payload_hash
            )
        if self.base_url:
            return send_raw(self.base_url, method, target, body, headers)
        signed = dict(headers)
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


def _tenant(root, alice, carol, base_url: str = "") -> Tenant:
    """The two domains, members, keys and same-named resources, made through the services
    (the worker's provisioning tasks run here, as no worker runs in these tests)."""
    from domains.models import Domain, UserProfile, role_arn
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
        provision_domain(domain.pk)
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
    tenant = Tenant(
        Client(), key_id, secret, other_key_id, other_secret, domain, other, targets, base_url
    )
    _seed_instance_types()
    for who, name, bucket, account in (
        ((other_key_id, other_secret), THEIRS, targets.other_bucket, other.account_id),
        ((key_id, secret), OWN, targets.own_bucket, domain.account_id),
    ):
        data = f"s3://{bucket}/data/train.csv"
        storage.artifact_store().put(data, io.BytesIO(b"1,0.5,0.2\n0,-0.5,-0.1\n"))
        job = training_request(name, RoleArn=role_arn(account))
        job["AlgorithmSpecification"]["TrainingInputMode"] = "File"
        job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = data
        job["OutputDataConfig"]["S3OutputPath"] = f"s3://{bucket}/output"
        requests = [("CreateModelPackageGroup", {"ModelPackageGroupName": name})]
        if not base_url:
            # Only where no worker can see it (the test's transaction): a committed job would
            # run if a worker of the session were up.
            requests.append(("CreateTrainingJob", job))
        for operation, body in requests:
            created = tenant.sagemaker(operation, json.dumps(body).encode(), who)
            assert created.status_code == 200, (operation, created.content)
    return tenant


def _seed_instance_types() -> None:
    """The instance-type catalog its migration seeds (emptied by transactional tests' flush)."""
    from metering.catalog import InstanceType

    if not InstanceType.objects.exists():
        seed = importlib.import_module("jobs.migrations.0002_seed_instance_types").seed
        seed(SimpleNamespace(get_model=lambda *_: InstanceType), None)


@contextlib.contextmanager
def _watching(tenant: Tenant) -> Iterator[Tenant]:
    from studio.core import storage

    logger = logging.getLogger()
    logger.addHandler(tenant.failures)
    try:
        yield tenant
    finally:
        logger.removeHandler(tenant.failures)
        shutil.rmtree(storage.artifact_store().root, ignore_errors=True)


@pytest.fixture
def tenant(db, root, alice, carol) -> Iterator[Tenant]:
    """The tenants, in the test's transaction (rolled back after), called through Django's
    test client: the fastest way through the real middleware and dispatcher."""
    with _watching(_tenant(root, alice, carol)) as tenant:
        yield tenant


@pytest.fixture
def live_tenant(transactional_db, root, alice, carol) -> Iterator[Tenant]:
    """The tenants, committed, called over HTTP on a live server (uvicorn in a thread of this
    process), for what Django's test client cannot send as a client does: S3 signs the path
    as it is sent, percent-encoded, which the test client decodes first. No Celery worker
    runs, so what a request sends to the queue stays there for the fingerprint to see."""
    from studio.web.asgi import application
    from studio.web.server import server as web_server

    server, sockets = web_server(application, "127.0.0.1", free_port(), log_level="warning")
    thread = threading.Thread(target=server.run, args=(sockets,), name="uvicorn", daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 20, "uvicorn to start")
    assert server.started, "uvicorn exited at start"
    try:
        url = f"http://127.0.0.1:{server.config.port}"
        with _watching(_tenant(root, alice, carol, url)) as tenant:
            yield tenant
    finally:
        server.should_exit = True
        thread.join(timeout=15)
