"""CloudWatch Logs as an attacker's way into logs that are not theirs: alice (a member of
"research", holding her own key) asks for carol's job's log in "elsewhere" by every name and
ARN, for a colleague's job her policy hides, and for streams and groups named with `..`,
slashes and percent-encodings. Each is a stream or group that does not exist, answered as one
that never did, and nothing of carol's (a canary token her job printed) reaches alice."""

import secrets

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from domains.services import (
    create_access_key,
    create_policy,
    resume_user_profile,
    suspend_user_profile,
    update_user_profile,
)
from jobs.models import TrainingJob
from tests.attacks.conftest import Canaries, Member
from tests.attacks.test_job_name_attacks import alices, carols, ended  # noqa: F401  (fixtures)

GROUP = "/aws/sagemaker/TrainingJobs"
# Prints its owner's token, and lines an unwary reader could choke on: a NUL, invalid UTF-8,
# JSON's quotes and a very long line.
SCRIPT = r"""
import os, sys
print("owner", os.environ["OWNER_TOKEN"], flush=True)
sys.stdout.buffer.write(b'nul \x00 bad \xff\xfe utf8 "quoted" {"json": [1]}\n')
sys.stdout.buffer.write(b"z" * 40000 + b"\n")
sys.stdout.flush()
"""
MISSING = ("ResourceNotFoundException", "The specified log stream does not exist.")


def logs_client(url: str, key_id: str, secret: str):
    return boto3.client(
        "logs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def failure(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def stream_of(domain_id: str, name: str) -> str:
    job = TrainingJob.objects.get(domain__domain_id=domain_id, name=name)
    return f"{name}/algo-1-{int(job.created_at.timestamp())}"


def test_another_domains_job_log_is_a_stream_that_does_not_exist(
    runtime,
    member: Member,
    alices,  # noqa: F811
    carols,  # noqa: F811
    data,
    canaries: Canaries,
):
    carols_token, alices_token = f"carol-{secrets.token_hex(8)}", f"alice-{secrets.token_hex(8)}"
    canaries.values.append(carols_token)
    carols.train("secret-name", SCRIPT, carols_token)
    alices.train("mine", SCRIPT, alices_token)
    assert ended(carols.api, "secret-name")["TrainingJobStatus"] == "Completed"
    assert ended(member.api, "mine")["TrainingJobStatus"] == "Completed"
    logs = logs_client(member.url, member.key_id, member.secret)
    theirs = stream_of(carols.domain_id, "secret-name")
    nobodys = theirs.replace("secret-name", "nobody-uses")
    answers: list[object] = []

    # Asked by name, carol's stream is what a name nobody uses is.
    for prefix in ("secret-name/", "secret-name", "secret"):
        listed = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=prefix)
        assert listed["logStreams"] == []
        answers.append(listed)
    got = failure(lambda: logs.get_log_events(logGroupName=GROUP, logStreamName=theirs))
    assert (
        got
        == failure(lambda: logs.get_log_events(logGroupName=GROUP, logStreamName=nobodys))
        == MISSING
    )
    filtered = logs.filter_log_events(logGroupName=GROUP, logStreamNames=[theirs])
    assert filtered["events"] == [] and filtered["searchedLogStreams"] == []
    answers += [got, filtered]

    # Everything alice can list or search is her own.
    everything = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [s["logStreamName"] for s in everything] == [stream_of(member.domain_id, "mine")]
    searched = logs.filter_log_events(logGroupName=GROUP, filterPattern="owner")["events"]
    assert [e["message"] for e in searched] == [f"owner {alices_token}"]
    answers += [everything, searched]

    # carol's account in an ARN names a group alice's account does not have.
    carols_arn = f"arn:aws:logs:us-east-1:{carols.domain.account_id}:log-group:{GROUP}"
    code, _ = failure(
        lambda: logs.describe_log_streams(logGroupIdentifier=carols_arn, logStreamNamePrefix="s")
    )
    assert code == "ResourceNotFoundException"
    code, _ = failure(
        lambda: logs.get_log_events(logGroupIdentifier=carols_arn, logStreamName=theirs)
    )
    assert code == "ResourceNotFoundException"

    # Her own hostile log reads back whole, as text, in a 200.
    mine = logs.get_log_events(
        logGroupName=GROUP, logStreamName=stream_of(member.domain_id, "mine"), startFromHead=True
    )["events"]
    messages = [e["message"] for e in mine]
    assert f"owner {alices_token}" in messages
    assert 'nul \x00 bad \ufffd\ufffd utf8 "quoted" {"json": [1]}' in messages
    assert any(m.startswith("z" * 16000) for m in messages)  # cut at the source, but there
    answers.append(mine)
    canaries.assert_absent(*answers)
    canaries.assert_nothing_outside()


def test_a_colleagues_job_log_follows_what_the_dashboard_shows(
    runtime,
    member: Member,
    alices,  # noqa: F811
    bob,
    bob_profile,
    root,
    data,
    canaries: Canaries,
):
    alices.train("alices-job", SCRIPT, "alice")
    assert ended(member.api, "alices-job")["TrainingJobStatus"] == "Completed"
    key, secret = create_access_key(bob, member.domain_id, bob_profile.name)
    bobs = logs_client(member.url, key.access_key_id, secret)
    stream = stream_of(member.domain_id, "alices-job")

    # A member's default policy reads colleagues' jobs, on the dashboard and here alike.
    events = bobs.get_log_events(logGroupName=GROUP, logStreamName=stream)["events"]
    assert "owner alice" in [e["message"] for e in events]

    # A policy that hides other people's jobs from bob hides their logs too.
    create_policy(
        root,
        member.domain_id,
        name="NoJobReads",
        allow=["sagemaker:*"],
        deny=["sagemaker:DescribeTrainingJob"],
    )
    update_user_profile(root, member.domain_id, bob_profile.name, policies=["NoJobReads"])
    assert failure(lambda: bobs.get_log_events(logGroupName=GROUP, logStreamName=stream)) == (
        MISSING
    )
    assert bobs.describe_log_streams(logGroupName=GROUP)["logStreams"] == []
    assert bobs.filter_log_events(logGroupName=GROUP, filterPattern="owner")["events"] == []
    # alice, whose policy is unchanged, still reads her own.
    alice_logs = logs_client(member.url, member.key_id, member.secret)
    assert alice_logs.get_log_events(logGroupName=GROUP, logStreamName=stream)["events"]
    canaries.assert_nothing_outside()


def test_dots_slashes_and_encodings_name_nothing(
    runtime,
    member: Member,
    alices,  # noqa: F811
    data,
    canaries: Canaries,
):
    alices.train("mine", SCRIPT, "alice")
    assert ended(member.api, "mine")["TrainingJobStatus"] == "Completed"
    logs = logs_client(member.url, member.key_id, member.secret)
    real = stream_of(member.domain_id, "mine")
    host_file = str(canaries.host_file)
    answers: list[object] = []
    for name in (
        f"mine/../{real}",
        f"../{real}",
        f"{real}/..",
        f"{real}/../../../../../..{host_file}",
        real.replace("/", "%2F"),
        real.replace("/", "%2f", 1),
        real.replace("mine", "%6Dine"),
        f"{real}%00",
        f"{real}\x00",
        f"./{real}",
        f"mine//{real.split('/')[1]}",
        host_file,
        f"..{host_file}",
        "mine/../../logs/algo-1.log",
        "mine/algo-1",
        "mine/algo-1.log",
        "mine/",
    ):
        answer = failure(lambda n=name: logs.get_log_events(logGroupName=GROUP, logStreamName=n))
        assert answer == MISSING, name
        answers.append(answer)
    for prefix in ("../", "mine/../", "%2E%2E/", f"..{host_file}", "mine/..", "/"):
        listed = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=prefix)
        assert listed["logStreams"] == [], prefix
        answers.append(listed)
    for group in (
        "/aws/sagemaker/Endpoints/../TrainingJobs",
        "/aws/sagemaker/TrainingJobs/..",
        "/aws/sagemaker/Endpoints/..",
        "/aws/sagemaker/Endpoints/",
        "/aws/sagemaker/../sagemaker/TrainingJobs",
        "/aws/sagemaker/TrainingJob",
    ):
        code, message = failure(
            lambda g=group: logs.get_log_events(logGroupName=g, logStreamName=real)
        )
        assert (code, message) == (
            "ResourceNotFoundException",
            "The specified log group does not exist.",
        ), group
        answers.append(message)
    # A percent sign is not in a group name's alphabet: refused by the model's pattern.
    code, _ = failure(
        lambda: logs.get_log_events(logGroupName="/aws/sagemaker/%2E%2E", logStreamName=real)
    )
    assert code == "InvalidParameterException"
    # The real stream still reads: the refusals above were about the names, not the caller.
    assert logs.get_log_events(logGroupName=GROUP, logStreamName=real)["events"]
    canaries.assert_absent(*answers)
    canaries.assert_nothing_outside()


def test_a_suspended_profiles_key_is_denied_every_read(
    runtime,
    member: Member,
    alices,  # noqa: F811
    root,
    data,
    canaries: Canaries,
):
    alices.train("mine", SCRIPT, "alice")
    assert ended(member.api, "mine")["TrainingJobStatus"] == "Completed"
    logs = logs_client(member.url, member.key_id, member.secret)
    real = stream_of(member.domain_id, "mine")
    calls = {
        "DescribeLogGroups": lambda: logs.describe_log_groups(),
        "DescribeLogStreams": lambda: logs.describe_log_streams(logGroupName=GROUP),
        "GetLogEvents": lambda: logs.get_log_events(logGroupName=GROUP, logStreamName=real),
        "FilterLogEvents": lambda: logs.filter_log_events(logGroupName=GROUP),
    }
    suspend_user_profile(root, member.domain_id, member.profile.name)
    for name, call in calls.items():
        code, message = failure(call)
        assert code == "AccessDeniedException", name
        assert f"logs:{name}" in message and "suspended" in message
    resume_user_profile(root, member.domain_id, member.profile.name)
    assert logs.get_log_events(logGroupName=GROUP, logStreamName=real)["events"]
    canaries.assert_nothing_outside()
