"""What every attack test shares: a member with a key and a boto3 client against a live server,
on each runtime, and canaries — secrets placed where an attacker must not reach them.

Each attack asserts on a canary: the random secret on the host (outside the data directory), in
the worker's environment, in the data directory's own keys, or in another domain's bucket never
reaches the attacker; and no file appears outside the data directory.
"""

import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from tests.integration.api import sagemaker
from tests.integration.conftest import (  # noqa: F401  (fixtures shared with the integration tests)
    _empty_artifact_store,
    asgi_server,
    data,
    instance_types,
    jupyter,
    put,
    runtime,
)

pytestmark = pytest.mark.usefixtures("live")


@dataclass
class Canaries:
    """Secrets an attacker tries to reach, and the places attacks try to write."""

    host_file: Path  # a root-only file on the host, outside the data directory
    host_value: str
    other_bucket_uri: str  # an object in another domain's bucket
    other_bucket_value: str
    outside: Path  # a directory outside the data directory that attacks aim files at
    values: list[str] = field(default_factory=list)

    def assert_absent(self, *texts: object) -> None:
        """No canary, nor the platform's own keys, shows in anything the attacker got."""
        seen = "\n".join(str(t) for t in texts)
        for value in self.values:
            assert value not in seen, "a secret reached the attacker"

    def assert_nothing_outside(self) -> None:
        made = sorted(str(p) for p in self.outside.rglob("*")) if self.outside.exists() else []
        assert made == [], f"files appeared outside the data directory: {made}"
        assert not self.outside.exists(), f"{self.outside} was created"


@pytest.fixture
def canaries(tmp_path_factory, make_domain, make_profile, carol) -> Canaries:
    """The canaries, placed: a host file (0600, root), another domain (carol's) with a secret
    object in its bucket; the worker's environment and the data directory's keys are read as
    they are."""
    from studio.core import storage

    base = Path(f"/var/tmp/studio-canary-{secrets.token_hex(6)}")
    base.mkdir(mode=0o700)
    host_value = f"canary-host-{secrets.token_hex(12)}"
    host_file = base / "secret"
    host_file.write_text(host_value)
    host_file.chmod(0o600)
    other = make_domain("elsewhere")
    make_profile(other, carol, "carol")
    bucket_value = f"canary-bucket-{secrets.token_hex(12)}"
    uri = put(f"s3://{storage.domain_bucket(other.domain_id)}/private/secret.csv", bucket_value)
    outside = Path(f"/var/tmp/studio-attack-{secrets.token_hex(6)}")
    data_dir = Path(settings.DATA_DIR)
    values = [
        host_value,
        bucket_value,
        os.environ["STUDIO_TEST_CANARY"],
        (data_dir / "encryption_key").read_text().strip(),
        (data_dir / "secret_key").read_text().strip(),
    ]
    yield Canaries(host_file, host_value, uri, bucket_value, outside, values)
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(outside, ignore_errors=True)


@dataclass
class Member:
    """alice, a plain member of the `research` domain, as an attacker holding her own key."""

    user: object
    profile: object
    domain_id: str
    api: object  # boto3's SageMaker client, signed with her key, against the live server
    url: str
    key_id: str
    secret: str


@pytest.fixture
def member(asgi_server, alice, alice_profile) -> Member:  # noqa: F811
    from domains.services import create_access_key

    domain_id = alice_profile.domain.domain_id
    key, secret = create_access_key(alice, domain_id, alice_profile.name)
    return Member(
        alice,
        alice_profile,
        domain_id,
        sagemaker(asgi_server, key.access_key_id, secret),
        asgi_server,
        key.access_key_id,
        secret,
    )
