"""Class 9 of issue 8: job names were unique across all domains, so a member learned another
domain's job names (CreateTrainingJob answered ResourceInUse), and everything on the host keyed
by the bare name would have mixed two domains' jobs. Now a name is unique in its domain only, as
SageMaker's in its account, and each domain has its own account id in its ARNs.

alice (the attacking member, domain "research") and carol (domain "elsewhere", with her own key)
both use the name "shared-name": through boto3, on both runtimes, the two jobs run at once and
stay apart — containers, directories, logs, models, leases, ARNs — and no answer alice gets
tells her that carol's job exists.
"""

import io
import secrets
import tarfile
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from domains.models import Domain
from jobs.execution import LABEL_DOMAIN
from jobs.training.logs import log_path
from jobs.training.workspace import job_dir
from studio.core import storage
from studio.core.runtime import get_runtime
from studio.core.runtime.base import LABEL_KIND, LABEL_NAME
from tests.attacks.conftest import Canaries, Member
from tests.attacks.test_post_run_attacks import sourcedir
from tests.conftest import wait_for
from tests.integration.api import sagemaker
from tests.integration.conftest import put
from tests.integration.training import script_request

ROLE = "arn:aws:iam::000000000000:role/SageMakerExecution"  # required by boto3; unused here
NAME = "shared-name"
FAST = {"Delay": 1, "MaxAttempts": 180}

# Each job says whose it is (its token) in its log and its model, then waits to be released
# (a file the test drops in its own tree), so that both are seen running at once.
HOLD = """
import os, pathlib, time
token = os.environ["OWNER_TOKEN"]
model = pathlib.Path("/opt/ml/model")
print("owner", token, flush=True)
(model / "owner.txt").write_text(token)
(model / "ready").write_text("")
for _ in range(1200):
    if (model / "go").exists():
        break
    time.sleep(0.25)
else:
    raise SystemExit("never released")
"""
QUICK = "print('done', flush=True)\n"


@dataclass
class Tenant:
    """A member of one domain with a boto3 client of their own, running jobs there."""

    domain: Domain
    api: object

    @property
    def domain_id(self) -> str:
        return self.domain.domain_id

    def train(self, name: str, script: str, token: str = "") -> dict:
        """CreateTrainingJob of `script` with code and output in the domain's own bucket."""
        bucket = storage.domain_bucket(self.domain_id)
        code = put(f"s3://{bucket}/code/{name}/sourcedir.tar.gz", sourcedir({"train.py": script}))
        spec = script_request(
            name,
            code,
            OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
            Environment={"OWNER_TOKEN": token or "none"},
        )
        spec["AlgorithmSpecification"]["TrainingInputMode"] = "File"
        return self.api.create_training_job(**spec, RoleArn=ROLE)

    def tree(self, name: str):
        return job_dir(self.domain_id, name) / "algo-1"

    def release(self, name: str) -> None:
        (self.tree(name) / "model" / "go").write_text("")


@pytest.fixture
def alices(member: Member) -> Tenant:
    """alice (the attacker, `member`) as a tenant of her domain."""
    return Tenant(Domain.objects.get(domain_id=member.domain_id), member.api)


@pytest.fixture
def carols(canaries: Canaries, member: Member, carol) -> Tenant:
    """carol in "elsewhere" (the canaries' other domain), with a key of her own."""
    from domains.services import create_access_key

    domain = Domain.objects.get(name="elsewhere")
    key, secret = create_access_key(carol, domain.domain_id, "carol")
    return Tenant(domain, sagemaker(member.url, key.access_key_id, secret))


def failure(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def ended(api, name: str) -> dict:
    """boto3's own waiter on a job expected to end well, then its description."""
    api.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig=FAST
    )
    return api.describe_training_job(TrainingJobName=name)


def model_owner(uri: str) -> str:
    with tarfile.open(fileobj=io.BytesIO(storage.artifact_store().path(uri).read_bytes())) as tar:
        return tar.extractfile("owner.txt").read().decode()


def containers_of(runtime: str, name: str) -> dict[str, str]:
    """Live training containers running a job called `name`: their domain → container name."""
    return {
        c.labels.get(LABEL_DOMAIN): c.name
        for c in get_runtime(runtime).list_managed()
        if c.labels.get(LABEL_KIND) == "TrainingJob" and c.labels.get(LABEL_NAME) == name
    }


def both_ready(*tenants: Tenant) -> bool:
    return all((t.tree(NAME) / "model" / "ready").exists() for t in tenants)


def test_a_name_another_domain_uses_answers_every_probe_as_a_name_nobody_uses(
    runtime, member, alices, carols, data, canaries
):
    """DescribeTrainingJob, StopTrainingJob and ListTrainingJobs of carol's job name from
    alice's key say exactly what they say of a free name, and creating it is as unremarkable
    as creating a free one."""
    carols.train("secret-name", QUICK)

    def probe(name: str) -> list[object]:
        """What alice learns of `name`, with the name itself blanked out of the messages."""
        answers = [
            failure(lambda: member.api.describe_training_job(TrainingJobName=name)),
            failure(lambda: member.api.stop_training_job(TrainingJobName=name)),
        ]
        listed = member.api.list_training_jobs(NameContains=name)["TrainingJobSummaries"]
        return [(code, message.replace(name, "<name>")) for code, message in answers] + [listed]

    taken = probe("secret-name")
    assert taken == probe("nobody-uses")
    # SageMaker's own answer for a job that does not exist, which botocore's waiters expect.
    assert taken[0] == ("ValidationException", "Requested resource not found.")
    assert taken[2] == []

    created = alices.train("secret-name", QUICK)
    free_created = alices.train("nobody-uses", QUICK)
    assert created.keys() == free_created.keys()
    assert created["TrainingJobArn"].endswith(
        f":{alices.domain.account_id}:training-job/secret-name"
    )
    for name in ("secret-name", "nobody-uses"):
        assert ended(member.api, name)["TrainingJobStatus"] == "Completed"
    theirs = ended(carols.api, "secret-name")
    assert theirs["TrainingJobArn"] != created["TrainingJobArn"]
    canaries.assert_absent(taken, created, free_created)
    canaries.assert_nothing_outside()


def test_same_named_jobs_of_two_domains_run_at_once_each_with_its_own_model_logs_and_arn(
    runtime, member, alices, carols, data, canaries
):
    carols_token, alices_token = secrets.token_hex(8), secrets.token_hex(8)
    carols.train(NAME, HOLD, carols_token)
    alices.train(NAME, HOLD, alices_token)
    wait_for(lambda: both_ready(alices, carols), 180, "both jobs to run")

    # Two containers at once, one per domain, under different names.
    running = containers_of(runtime, NAME)
    assert running.keys() == {alices.domain_id, carols.domain_id}
    assert len(set(running.values())) == 2
    assert all(len(name) <= 63 for name in running.values())  # also their hostnames

    alices.release(NAME)
    carols.release(NAME)
    ours, theirs = ended(member.api, NAME), ended(carols.api, NAME)
    assert ours["TrainingJobStatus"] == theirs["TrainingJobStatus"] == "Completed"

    # Each ARN carries its own domain's account id; the domain's and profile's ARNs too.
    assert ours["TrainingJobArn"].split(":")[4] == alices.domain.account_id
    assert theirs["TrainingJobArn"].split(":")[4] == carols.domain.account_id
    assert alices.domain.account_id != carols.domain.account_id
    domain = member.api.describe_domain(DomainId=member.domain_id)
    assert domain["DomainArn"].split(":")[4] == alices.domain.account_id
    profile = member.api.describe_user_profile(
        DomainId=member.domain_id, UserProfileName=member.profile.name
    )
    assert profile["UserProfileArn"].split(":")[4] == alices.domain.account_id

    # Its own model and its own log.
    assert model_owner(ours["ModelArtifacts"]["S3ModelArtifacts"]) == alices_token
    assert model_owner(theirs["ModelArtifacts"]["S3ModelArtifacts"]) == carols_token
    our_log = log_path(job_dir(alices.domain_id, NAME), "algo-1").read_text()
    their_log = log_path(job_dir(carols.domain_id, NAME), "algo-1").read_text()
    assert f"owner {alices_token}" in our_log and carols_token not in our_log
    assert f"owner {carols_token}" in their_log and alices_token not in their_log

    # Describe and List from alice's key see her job only.
    listed = member.api.list_training_jobs(NameContains=NAME)["TrainingJobSummaries"]
    assert [s["TrainingJobArn"] for s in listed] == [ours["TrainingJobArn"]]
    canaries.assert_absent(ours, listed, domain, profile)
    assert carols_token not in str([ours, listed])
    canaries.assert_nothing_outside()


def test_stopping_a_job_by_a_name_two_domains_use_stops_only_the_callers_own(
    runtime, member, alices, carols, data, canaries
):
    carols.train(NAME, HOLD, "carol")
    alices.train(NAME, HOLD, "alice")
    wait_for(lambda: both_ready(alices, carols), 180, "both jobs to run")

    member.api.stop_training_job(TrainingJobName=NAME)
    ours = ended(member.api, NAME)
    assert ours["TrainingJobStatus"] == "Stopped"

    # carol's job of that name runs on, in its container, untouched.
    assert carols.api.describe_training_job(TrainingJobName=NAME)["TrainingJobStatus"] == (
        "InProgress"
    )
    assert containers_of(runtime, NAME).keys() == {carols.domain_id}
    # A second stop from alice is about her (stopped) job, never carol's running one.
    code, message = failure(lambda: member.api.stop_training_job(TrainingJobName=NAME))
    assert code == "ValidationException" and "is Stopped" in message

    carols.release(NAME)
    assert ended(carols.api, NAME)["TrainingJobStatus"] == "Completed"
    canaries.assert_absent(ours, message)
    canaries.assert_nothing_outside()
