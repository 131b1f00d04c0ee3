"""Class 9 of issue 8, "shared-space notebooks carry the owner's full key": bob, a member of
alice's shared space, runs boto3 in its kernel with the key the app really carries (issued for
alice) and tries to act as alice — delete her private space and the shared space's own app,
read her private space, stop a job she started elsewhere. The key acts in the space's scope
(domains/space_scope.py): it reads its own space and runs jobs (as alice, billed to her), and
nothing else. In alice's private space the same calls keep the owner's full rights. Both
runtimes."""

import json

import pytest

from domains.models import AccessKey, App, Space, UserProfile
from domains.services import create_app, create_space
from jobs.models import TrainingJob
from tests.attacks.conftest import Member
from tests.attacks.test_post_run_attacks import sourcedir
from tests.conftest import settled, wait_for
from tests.integration.conftest import put
from tests.integration.notebooks import Server, running
from tests.integration.training import request, script_request

ROLE = "arn:aws:iam::000000000000:role/SageMakerExecution"  # required by boto3; unused here
MARK = "RESULT:"

# What the kernel runs: each (label, operation, parameters) through boto3 with no
# configuration (the container's environment), each answer or error kept under its label.
KERNEL_BODY = """
import json, boto3
from botocore.exceptions import ClientError
sm = boto3.client("sagemaker")
out = {}
for label, operation, params in CALLS:
    try:
        out[label] = {"ok": getattr(sm, operation)(**params)}
    except ClientError as e:
        error = e.response["Error"]
        out[label] = {"code": error["Code"], "message": error["Message"]}
print(MARK + json.dumps(out, default=str))
"""


def run_in_kernel(app: App, calls: list[tuple[str, str, dict]]) -> tuple[dict, str]:
    """Run `calls` with boto3 in a kernel of `app`, as anyone who can open the space would;
    the answers by label, and everything the kernel printed."""
    printed = Server(app).execute(f"CALLS = {calls!r}\nMARK = {MARK!r}\n{KERNEL_BODY}")
    line = next((ln for ln in printed.splitlines() if ln.startswith(MARK)), None)
    assert line is not None, printed
    return json.loads(line.removeprefix(MARK)), printed


def boto_training(name: str, **overrides) -> dict:
    spec = request(name, **overrides)
    spec["AlgorithmSpecification"].setdefault("TrainingInputMode", "File")
    return {**spec, "RoleArn": ROLE}


def start_long_job(member: Member, name: str) -> TrainingJob:
    """A job alice starts with her own key, outside any space, that runs until stopped (its
    channel reads the `data` fixture's file)."""
    uri = put(
        f"s3://research-code/{name}/sourcedir.tar.gz",
        sourcedir({"train.py": "import time\ntime.sleep(300)\n"}),
    )
    spec = script_request(name, uri)
    spec["AlgorithmSpecification"].setdefault("TrainingInputMode", "File")
    member.api.create_training_job(**spec, RoleArn=ROLE)
    return TrainingJob.objects.get(name=name)


def denied(answer: dict, action: str, space: str = "team") -> None:
    """Refused as AccessDenied, naming the action and the shared space the key belongs to."""
    assert answer.get("code") == "AccessDeniedException", answer
    assert action in answer["message"], answer
    assert f"shared space '{space}'" in answer["message"], answer


@pytest.fixture
def shared_app(jupyter, member, bob, bob_profile) -> App:
    """alice's shared space "team" with bob as a member, its JupyterLab started by bob; and
    alice's private space "alice-private" next to it (no app)."""
    settled(create_space(member.user, member.domain_id, name="alice-private"))
    settled(
        create_space(
            member.user, member.domain_id, name="team", sharing_type="Shared", members=["bob"]
        )
    )
    app = running(create_app(bob, member.domain_id, space_name="team"))
    # The key the container carries is alice's: the attack is real only if it is.
    assert AccessKey.objects.get(app=app).profile == member.profile
    return app


def test_a_shared_space_kernel_cannot_delete_the_owners_private_space_or_its_own_app(
    shared_app, member, canaries
):
    domain = member.domain_id
    answers, printed = run_in_kernel(
        shared_app,
        [
            ("private", "delete_space", {"DomainId": domain, "SpaceName": "alice-private"}),
            ("itself", "delete_space", {"DomainId": domain, "SpaceName": "team"}),
            ("missing", "delete_space", {"DomainId": domain, "SpaceName": "no-such-space"}),
            (
                "own-app",
                "delete_app",
                {
                    "DomainId": domain,
                    "SpaceName": "team",
                    "AppType": "JupyterLab",
                    "AppName": "default",
                },
            ),
        ],
    )
    canaries.assert_absent(answers, printed)
    for label in ("private", "itself", "missing"):
        denied(answers[label], "sagemaker:DeleteSpace")
    # A name that exists and one that does not are refused alike: no existence oracle.
    assert answers["private"]["message"] == answers["missing"]["message"]
    denied(answers["own-app"], "sagemaker:DeleteApp")
    assert set(Space.objects.values_list("name", "status")) == {
        ("alice-private", "InService"),
        ("team", "InService"),
    }
    assert App.objects.get(pk=shared_app.pk).status == "InService"
    canaries.assert_nothing_outside()


def test_a_shared_space_kernel_cannot_create_spaces_or_start_the_owners_apps(
    shared_app, member, canaries
):
    domain = member.domain_id
    answers, printed = run_in_kernel(
        shared_app,
        [
            ("space", "create_space", {"DomainId": domain, "SpaceName": "made-by-bob"}),
            (
                "app",
                "create_app",
                {
                    "DomainId": domain,
                    "SpaceName": "alice-private",
                    "AppType": "JupyterLab",
                    "AppName": "default",
                },
            ),
        ],
    )
    canaries.assert_absent(answers, printed)
    denied(answers["space"], "sagemaker:CreateSpace")
    denied(answers["app"], "sagemaker:CreateApp")
    assert not Space.objects.filter(name="made-by-bob").exists()
    assert not App.objects.filter(space__name="alice-private").exists()
    canaries.assert_nothing_outside()


def test_a_shared_space_kernel_cannot_read_the_owners_private_space(shared_app, member, canaries):
    domain = member.domain_id
    answers, printed = run_in_kernel(
        shared_app,
        [
            ("describe", "describe_space", {"DomainId": domain, "SpaceName": "alice-private"}),
            ("spaces", "list_spaces", {"DomainIdEquals": domain}),
            ("apps", "list_apps", {"DomainIdEquals": domain}),
        ],
    )
    canaries.assert_absent(answers, printed)
    assert answers["describe"].get("code") == "ResourceNotFound", answers["describe"]
    assert "alice-private" not in json.dumps(answers["spaces"]) + json.dumps(answers["apps"])
    names = [s["SpaceName"] for s in answers["spaces"]["ok"]["Spaces"]]
    assert names == ["team"]
    assert [a["SpaceName"] for a in answers["apps"]["ok"]["Apps"]] == ["team"]
    canaries.assert_nothing_outside()


def test_a_shared_space_kernel_cannot_stop_a_job_the_owner_started_elsewhere(
    shared_app, member, data, canaries
):
    job = start_long_job(member, "alice-long")
    answers, printed = run_in_kernel(
        shared_app, [("stop", "stop_training_job", {"TrainingJobName": "alice-long"})]
    )
    canaries.assert_absent(answers, printed)
    denied(answers["stop"], "sagemaker:StopTrainingJob")
    job.refresh_from_db()
    assert job.status == "InProgress"
    member.api.stop_training_job(TrainingJobName="alice-long")  # her own key still may
    canaries.assert_nothing_outside()


def test_a_shared_space_kernel_reads_its_own_space_and_runs_jobs_billed_to_the_owner(
    shared_app, member, data, canaries
):
    domain = member.domain_id
    answers, printed = run_in_kernel(
        shared_app,
        [
            ("space", "describe_space", {"DomainId": domain, "SpaceName": "team"}),
            (
                "app",
                "describe_app",
                {
                    "DomainId": domain,
                    "SpaceName": "team",
                    "AppType": "JupyterLab",
                    "AppName": "default",
                },
            ),
            ("domain", "describe_domain", {"DomainId": domain}),
            ("train", "create_training_job", boto_training("from-team")),
            ("described", "describe_training_job", {"TrainingJobName": "from-team"}),
            ("jobs", "list_training_jobs", {}),
        ],
    )
    canaries.assert_absent(answers, printed)
    for label, answer in answers.items():
        assert "ok" in answer, (label, answer)
    assert answers["space"]["ok"]["SpaceSharingSettings"] == {"SharingType": "Shared"}
    assert answers["app"]["ok"]["Status"] == "InService"
    # The job runs as the space's owner, counts against her quotas and is billed to her.
    job = TrainingJob.objects.get(name="from-team")
    assert job.profile == member.profile
    wait_for(
        lambda: TrainingJob.objects.get(pk=job.pk).status in {"Completed", "Failed", "Stopped"},
        180,
        "the job to end",
    )
    canaries.assert_nothing_outside()


def test_a_private_space_kernel_keeps_the_owners_full_key(jupyter, member, data, canaries):
    domain = member.domain_id
    settled(create_space(member.user, domain, name="alice-old"))
    settled(create_space(member.user, domain, name="alice-lab"))
    app = running(create_app(member.user, domain, space_name="alice-lab"))
    job = start_long_job(member, "alice-long")
    answers, printed = run_in_kernel(
        app,
        [
            ("describe", "describe_space", {"DomainId": domain, "SpaceName": "alice-old"}),
            ("spaces", "list_spaces", {"DomainIdEquals": domain}),
            ("stop", "stop_training_job", {"TrainingJobName": "alice-long"}),
            ("delete", "delete_space", {"DomainId": domain, "SpaceName": "alice-old"}),
        ],
    )
    canaries.assert_absent(answers, printed)
    for label, answer in answers.items():
        assert "ok" in answer, (label, answer)
    # SageMaker's default order: by creation time.
    assert [s["SpaceName"] for s in answers["spaces"]["ok"]["Spaces"]] == ["alice-old", "alice-lab"]
    job.refresh_from_db()
    assert job.status in {"Stopping", "Stopped"}
    wait_for(lambda: not Space.objects.filter(name="alice-old").exists(), 30, "the space to go")
    canaries.assert_nothing_outside()


def test_a_member_of_an_admins_shared_space_cannot_use_her_admin_rights(
    jupyter, member, bob, bob_profile, canaries
):
    # Made admin in the database: the attack is on what her shared space's key inherits.
    UserProfile.objects.filter(pk=member.profile.pk).update(role="Admin")
    domain = member.domain_id
    settled(create_space(bob, domain, name="bob-private"))
    settled(create_space(member.user, domain, name="team", sharing_type="Shared", members=["bob"]))
    app = running(create_app(bob, domain, space_name="team"))
    answers, printed = run_in_kernel(
        app,
        [
            ("delete", "delete_space", {"DomainId": domain, "SpaceName": "bob-private"}),
            ("describe", "describe_space", {"DomainId": domain, "SpaceName": "bob-private"}),
            ("spaces", "list_spaces", {"DomainIdEquals": domain}),
        ],
    )
    canaries.assert_absent(answers, printed)
    denied(answers["delete"], "sagemaker:DeleteSpace")
    assert answers["describe"].get("code") == "ResourceNotFound", answers["describe"]
    assert [s["SpaceName"] for s in answers["spaces"]["ok"]["Spaces"]] == ["team"]
    assert Space.objects.get(name="bob-private").status == "InService"
    canaries.assert_nothing_outside()
