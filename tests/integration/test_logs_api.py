"""CloudWatch Logs over HTTP, called with boto3's `logs` client as the SageMaker SDK calls it:
a real training job run by the real worker streams its log through DescribeLogStreams and
GetLogEvents exactly as `estimator.fit(logs=True)` reads it (sagemaker/session.py
`_flush_log_streams`, sagemaker/logs.py `multi_stream_iter` / `log_stream`, 2.257), while the
job runs; then paging both ways, time ranges, FilterLogEvents and the errors AWS answers."""

import collections
import io
import re
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from domains.services import create_access_key
from jobs.services import cloudwatch_logs as cw
from jobs.services import create_training_job, open_job_log
from tests.integration.api import error_code
from tests.integration.conftest import put_sourcedir
from tests.integration.training import ended, script_request

GROUP = "/aws/sagemaker/TrainingJobs"
# Prints 1,500 numbered lines of about 200 bytes (several KiB apart: distinct timestamps) in
# five bursts with pauses, so that the reader below polls while the job still writes; empty
# lines are no events, as in CloudWatch.
SCRIPT = """
import os, sys, time
host = os.environ["SM_CURRENT_HOST"]
for burst in range(5):
    for i in range(300):
        n = burst * 300 + i
        print(f"{host} line {n:05d} " + "x" * 180, flush=True)
        if n % 500 == 0:
            print("", flush=True)
    print(f"{host} needle burst {burst}", flush=True)
    time.sleep(1.0)
"""
LINES_PER_HOST = 1500 + 5


def logs_client(url: str, key_id: str, secret: str):
    return boto3.client(
        "logs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def alice_logs(asgi_server, alice, alice_profile):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    return logs_client(asgi_server, key.access_key_id, secret)


# --- The SDK's reader, as sagemaker 2.257 has it (positions and all) -----------------------

Position = collections.namedtuple("Position", ["timestamp", "skip"])


def log_stream(client, log_group, stream_name, start_time=0, skip=0):
    next_token = None
    event_count = 1
    while event_count > 0:
        token_arg = {"nextToken": next_token} if next_token is not None else {}
        response = client.get_log_events(
            logGroupName=log_group,
            logStreamName=stream_name,
            startTime=start_time,
            startFromHead=True,
            **token_arg,
        )
        next_token = response["nextForwardToken"]
        events = response["events"]
        event_count = len(events)
        if event_count > skip:
            events = events[skip:]
            skip = 0
        else:
            skip = skip - event_count
            events = []
        yield from events


def multi_stream_iter(client, log_group, streams, positions):
    iters = [
        log_stream(client, log_group, s, positions[s].timestamp, positions[s].skip) for s in streams
    ]
    events = [next(s, None) for s in iters]
    while any(e is not None for e in events):
        i = min(
            (i for i, e in enumerate(events) if e is not None),
            key=lambda i: events[i]["timestamp"],
        )
        yield i, events[i]
        events[i] = next(iters[i], None)


def flush_log_streams(client, job_name, instance_count, positions, printed):
    """`_flush_log_streams`: it looks the streams up on every call (its list is a local)."""
    try:
        streams = client.describe_log_streams(
            logGroupName=GROUP,
            logStreamNamePrefix=job_name + "/",
            orderBy="LogStreamName",
            limit=min(instance_count, 50),
        )
        stream_names = [s["logStreamName"] for s in streams["logStreams"]]
        # The SDK asks again, without the token, for as long as a token comes back: one
        # would never end. Streams of one job fit one page.
        assert "nextToken" not in streams
        positions.update((s, Position(0, 0)) for s in stream_names if s not in positions)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceNotFoundException"
        return
    for idx, event in multi_stream_iter(client, GROUP, stream_names, positions):
        printed[stream_names[idx]].append(event["message"])
        ts, count = positions[stream_names[idx]]
        if event["timestamp"] == ts:
            positions[stream_names[idx]] = Position(ts, count + 1)
        else:
            positions[stream_names[idx]] = Position(event["timestamp"], 1)


def file_lines(job, host: str) -> list[str]:
    f, _ = open_job_log(job, host)
    with f:
        return [line for line in f.read().decode().splitlines() if line]


# --- Tests ---------------------------------------------------------------------------------


def test_the_sdks_log_reader_streams_a_running_training_job_exactly_once(
    runtime, alice, alice_profile, alice_logs, data, tmp_path
):
    source = put_sourcedir(
        "s3://research-code/logs/sourcedir.tar.gz", {"train.py": SCRIPT}, tmp_path
    )
    spec = script_request(
        "logged", source, ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2}
    )
    job = create_training_job(alice, alice_profile.domain.domain_id, spec)
    positions: dict = {}
    printed: dict[str, list[str]] = collections.defaultdict(list)
    polls_while_running = 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job.refresh_from_db()
        running = job.status == "InProgress"
        flush_log_streams(alice_logs, job.name, 2, positions, printed)
        if not running:
            break
        polls_while_running += bool(printed)
        time.sleep(0.3)
    assert job.status == "Completed", job.failure_reason
    flush_log_streams(alice_logs, job.name, 2, positions, printed)  # the SDK's last read

    epoch = int(job.created_at.timestamp())
    assert sorted(printed) == [f"logged/algo-1-{epoch}", f"logged/algo-2-{epoch}"]
    assert polls_while_running > 1, "the log was read only after the job ended"
    for host in ("algo-1", "algo-2"):
        lines = printed[f"logged/{host}-{epoch}"]
        expected = [line for line in file_lines(job, host) if line.startswith(host)]
        # Every line once, in order, none missed while the job was writing.
        assert [line for line in lines if line.startswith(host)] == expected
        assert len(expected) == LINES_PER_HOST


def test_pages_forward_until_the_token_repeats_and_back_from_the_end(
    runtime, alice, alice_profile, alice_logs, data, tmp_path
):
    source = put_sourcedir(
        "s3://research-code/logs/sourcedir.tar.gz", {"train.py": SCRIPT}, tmp_path
    )
    job = ended(
        create_training_job(alice, alice_profile.domain.domain_id, script_request("paged", source))
    )
    assert job.status == "Completed", job.failure_reason
    expected = file_lines(job, "algo-1")
    stream = alice_logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="paged/")[
        "logStreams"
    ][0]
    name = stream["logStreamName"]
    assert stream["arn"].endswith(f":log-group:{GROUP}:log-stream:{name}")
    assert f":{alice_profile.domain.account_id}:" in stream["arn"]
    assert stream["firstEventTimestamp"] == int(job.created_at.timestamp() * 1000)
    assert stream["lastEventTimestamp"] > stream["firstEventTimestamp"]

    # Forward from the head, 400 at a time, until the same token comes back.
    seen, token, tokens = [], None, []
    while True:
        extra = {"nextToken": token} if token else {}
        page = alice_logs.get_log_events(
            logGroupName=GROUP, logStreamName=name, startFromHead=True, limit=400, **extra
        )
        seen.extend(page["events"])
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        token = page["nextForwardToken"]
        tokens.append(token)
    assert [e["message"] for e in seen] == expected
    stamps = [e["timestamp"] for e in seen]
    assert stamps == sorted(stamps) and stamps[0] == stream["firstEventTimestamp"]
    assert stamps[-1] == stream["lastEventTimestamp"]
    # The same call gives the same answer: timestamps and tokens are stable.
    again = alice_logs.get_log_events(
        logGroupName=GROUP, logStreamName=name, startFromHead=True, limit=400
    )
    assert again["events"] == seen[:400] and again["nextForwardToken"] == tokens[0]

    # Without startFromHead: the latest events; then back with nextBackwardToken.
    latest = alice_logs.get_log_events(logGroupName=GROUP, logStreamName=name, limit=300)
    assert [e["message"] for e in latest["events"]] == expected[-300:]
    before = alice_logs.get_log_events(
        logGroupName=GROUP, logStreamName=name, limit=300, nextToken=latest["nextBackwardToken"]
    )
    assert [e["message"] for e in before["events"]] == expected[-600:-300]
    after = alice_logs.get_log_events(
        logGroupName=GROUP, logStreamName=name, nextToken=latest["nextForwardToken"]
    )
    assert after["events"] == [] and after["nextForwardToken"] == latest["nextForwardToken"]

    # A time range: events at or after startTime, before endTime.
    start, end = stamps[100], stamps[900]
    ranged = alice_logs.get_log_events(
        logGroupName=GROUP, logStreamName=name, startTime=start, endTime=end, startFromHead=True
    )["events"]
    assert ranged == [e for e in seen if start <= e["timestamp"] < end]

    # FilterLogEvents: a term, every stream of the job, paged by the paginator.
    paginator = alice_logs.get_paginator("filter_log_events")
    found = [
        e
        for page in paginator.paginate(
            logGroupName=GROUP, logStreamNamePrefix="paged/", filterPattern="needle burst"
        )
        for e in page["events"]
    ]
    assert [e["message"] for e in found] == [f"algo-1 needle burst {b}" for b in range(5)]
    assert {e["logStreamName"] for e in found} == {name}
    phrase = alice_logs.filter_log_events(
        logGroupName=GROUP, logStreamNames=[name], filterPattern='"line 00042 "', limit=5
    )["events"]
    assert [e["message"][:18] for e in phrase] == ["algo-1 line 00042 "]
    either = alice_logs.filter_log_events(
        logGroupName=GROUP, logStreamNames=[name], filterPattern="?burst ?00007"
    )["events"]
    assert len(either) == 6


def test_groups_and_the_errors_aws_answers(alice_logs):
    groups = alice_logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [
        "/aws/sagemaker/ProcessingJobs",
        "/aws/sagemaker/TrainingJobs",
        "/aws/sagemaker/TransformJobs",
    ]
    # Before a job has written, the SDK sees no stream yet (and tolerates it).
    assert (
        alice_logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="nothing-yet/")[
            "logStreams"
        ]
        == []
    )
    assert (
        error_code(
            lambda: alice_logs.get_log_events(logGroupName=GROUP, logStreamName="nope/algo-1-1")
        )
        == "ResourceNotFoundException"
    )
    assert (
        error_code(
            lambda: alice_logs.describe_log_streams(logGroupName="/aws/sagemaker/Endpoints/none")
        )
        == "ResourceNotFoundException"
    )
    assert (
        error_code(
            lambda: alice_logs.describe_log_streams(
                logGroupName=GROUP, logStreamNamePrefix="x", orderBy="LastEventTime"
            )
        )
        == "InvalidParameterException"
    )
    assert (
        error_code(
            lambda: alice_logs.get_log_events(
                logGroupName=GROUP, logStreamName="nope/algo-1-1", nextToken="garbage"
            )
        )
        == "InvalidParameterException"
    )
    assert (
        error_code(
            lambda: alice_logs.filter_log_events(logGroupName=GROUP, filterPattern="{ $.a = 1 }")
        )
        == "InvalidParameterException"
    )
    assert error_code(
        lambda: alice_logs.put_retention_policy(logGroupName=GROUP, retentionInDays=1)
    ) == ("UnknownOperationException")
    with pytest.raises(ClientError) as caught:
        alice_logs.describe_log_streams(logGroupName=GROUP, limit=51)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "limit" in caught.value.response["Error"]["Message"]


def test_streams_of_several_jobs_page_by_name_and_by_last_event(
    runtime, alice, alice_profile, alice_logs, data, tmp_path
):
    source = put_sourcedir(
        "s3://research-code/logs/sourcedir.tar.gz", {"train.py": "print('hi')\n"}, tmp_path
    )
    jobs = [
        ended(create_training_job(alice, alice_profile.domain.domain_id, script_request(n, source)))
        for n in ("b-job", "a-job", "c-job")
    ]
    assert all(j.status == "Completed" for j in jobs)
    pages = alice_logs.get_paginator("describe_log_streams").paginate(
        logGroupName=GROUP, PaginationConfig={"PageSize": 2}
    )
    names = [s["logStreamName"].split("/")[0] for p in pages for s in p["logStreams"]]
    assert names == ["a-job", "b-job", "c-job"]
    newest = alice_logs.describe_log_streams(
        logGroupName=GROUP, orderBy="LastEventTime", descending=True, limit=1
    )["logStreams"]
    assert len(newest) == 1
    prefixed = alice_logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="b")
    assert [s["logStreamName"].split("/")[0] for s in prefixed["logStreams"]] == ["b-job"]


# --- The reader on its own: offsets, timestamps, lines still being written ----------------


def test_the_reader_stamps_by_offset_and_keeps_a_line_being_written_back():
    log = b"first\n\nsecond line\n" + b"y" * 3000 + b"\npartial"
    f = io.BytesIO(log)
    end = cw._complete_end(f, len(log))
    assert end == len(log) - len("partial")
    events, after = cw.read_forward(f, 1_000, 0, end, end, 10)
    assert [e.message for e in events] == ["first", "second line", "y" * 3000]
    assert [e.timestamp for e in events] == [1_000, 1_000, 1_000]
    assert after == end
    more = b"z\n" * 2000  # 4 KB: the next KiBs stamp later milliseconds
    f = io.BytesIO(log[:end] + more)
    end2 = end + len(more)
    events, _ = cw.read_forward(f, 1_000, end, end2, end2, 10_000)
    assert events[0].timestamp == 1_000 + end // 1024
    assert events[-1].timestamp == 1_000 + (end2 - 2) // 1024
    last, first = cw.read_backward(f, 1_000, 0, end2, 3)
    assert [e.message for e in last] == ["z", "z", "z"] and first == end2 - 6


def test_processing_transform_and_endpoint_logs_under_sagemakers_groups(
    runtime, alice, alice_profile, alice_logs, data
):
    from jobs.services import create_processing_job
    from jobs.services.cloudwatch_logs import instance_id
    from jobs.services.transform import create_transform_job
    from tests.integration import test_transform_jobs as transform
    from tests.integration.conftest import put
    from tests.integration.hosting import (
        iris_model,
        make_endpoint,
        make_model,
        settled,
        store_model,
        variant,
    )
    from tests.integration.processing import PREPARE
    from tests.integration.processing import request as processing_request
    from tests.integration.test_endpoint_logs import HOSTILE, store_model_with_program

    domain_id = alice_profile.domain.domain_id
    code = put("s3://research-code/prepare/prepare.py", PREPARE)
    processing = ended(create_processing_job(alice, domain_id, processing_request("prep", code)))
    assert processing.status == "Completed", processing.failure_reason
    epoch = int(processing.created_at.timestamp())
    streams = alice_logs.describe_log_streams(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix="prep/"
    )["logStreams"]
    assert [s["logStreamName"] for s in streams] == [f"prep/algo-1-{epoch}"]
    events = alice_logs.get_log_events(
        logGroupName="/aws/sagemaker/ProcessingJobs",
        logStreamName=f"prep/algo-1-{epoch}",
        startFromHead=True,
    )["events"]
    assert [e["message"] for e in events] == file_lines(processing, "algo-1")
    assert "kept rows of 200" in [e["message"] for e in events]

    # A transform job's stream is `<job>/<instance id>`.
    estimator, _ = iris_model()
    make_model(
        alice, domain_id, "iris", store_model("s3://research-models/t/model.tar.gz", estimator)
    )
    transform.put_lines(f"{transform.INPUT}rows.csv", ["5.1,3.5,1.4,0.2", "6.7,3.0,5.2,2.3"])
    job = transform.ended(create_transform_job(alice, domain_id, transform.request()))
    assert job.status == "Completed", job.failure_reason
    name = f"xform/{instance_id(f'{job.resource_id}/algo-1')}"
    assert re.fullmatch(r"xform/i-[0-9a-f]{17}", name)
    streams = alice_logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix="xform/"
    )["logStreams"]
    assert [s["logStreamName"] for s in streams] == [name]
    events = alice_logs.get_log_events(
        logGroupName="/aws/sagemaker/TransformJobs", logStreamName=name, startFromHead=True
    )["events"]
    assert [e["message"] for e in events] == file_lines(job, "algo-1")

    # An endpoint has a group of its own, a stream per instance: `<variant>/<instance id>`.
    store_model_with_program()
    make_model(
        alice,
        domain_id,
        "loud",
        "s3://research-models/iris/model.tar.gz",
        SAGEMAKER_PROGRAM="run.py",
    )
    endpoint = settled(make_endpoint(alice, domain_id, "loud-ep", [variant("loud")]))
    assert endpoint.status == "InService", endpoint.failure_reason
    group = "/aws/sagemaker/Endpoints/loud-ep"
    listed = alice_logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/Endpoints/")
    assert [g["logGroupName"] for g in listed["logGroups"]] == [group]
    [instance] = endpoint.instances.all()
    stream = f"AllTraffic/{instance_id(instance.resource_id)}"
    streams = alice_logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream]
    found = alice_logs.filter_log_events(
        logGroupName=group, logStreamNamePrefix="AllTraffic/", filterPattern='"from the model"'
    )["events"]
    assert [e["message"] for e in found] == [HOSTILE]
    assert HOSTILE in [
        e["message"]
        for e in alice_logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    ]


def signed_post(url: str, key_id: str, secret: str, service: str, headers: dict, body: bytes):
    import httpx
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(key_id, secret), service, "us-east-1").add_auth(request)
    return httpx.post(url + "/", content=body, headers=dict(request.headers.items()))


GROUP_BODY = b'{"logGroupName": "/aws/sagemaker/TrainingJobs"'
STREAM_BODY = GROUP_BODY + b', "logStreamName": "a/b"'


@pytest.mark.parametrize(
    "operation,body,code",
    [
        ("GetLogEvents", b"{not json", "SerializationException"),
        ("GetLogEvents", b"[1, 2]", "InvalidParameterException"),
        ("GetLogEvents", b"null", "InvalidParameterException"),
        (
            "GetLogEvents",
            b'{"logGroupName": "/aws/sagemaker/TrainingJobs"}',
            "InvalidParameterException",
        ),
        ("GetLogEvents", b'{"logStreamName": "a/b"}', "InvalidParameterException"),
        (
            "GetLogEvents",
            b'{"logGroupName": 5, "logStreamName": "a/b"}',
            "InvalidParameterException",
        ),
        (
            "GetLogEvents",
            STREAM_BODY + b', "limit": true}',
            "InvalidParameterException",
        ),
        (
            "GetLogEvents",
            STREAM_BODY + b', "startTime": -1}',
            "InvalidParameterException",
        ),
        (
            "GetLogEvents",
            STREAM_BODY + b', "startTime": 1e400}',
            "InvalidParameterException",
        ),
        (
            "GetLogEvents",
            b'{"logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamName": "a/b", "extra": 1}',
            "SerializationException",
        ),
        (
            "FilterLogEvents",
            b'{"logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamNames": "a/b"}',
            "InvalidParameterException",
        ),
        (
            "FilterLogEvents",
            GROUP_BODY + b', "logStreamNames": ["a"], "logStreamNamePrefix": "a"}',
            "InvalidParameterException",
        ),
        (
            "FilterLogEvents",
            b'{"logGroupName": "/aws/sagemaker/TrainingJobs", "nextToken": "bm90IGpzb24"}',
            "InvalidParameterException",
        ),
        (
            "FilterLogEvents",
            GROUP_BODY + b', "nextToken": "eyJwIjogeyJhIjogLTF9fQ=="}',  # {"p": {"a": -1}}
            "InvalidParameterException",
        ),
        (
            "DescribeLogStreams",
            b'{"logGroupName": "/aws/sagemaker/TrainingJobs", "nextToken": "eyJhIjogMX0="}',
            "InvalidParameterException",
        ),
        (
            "DescribeLogStreams",
            b'{"logGroupName": "/aws/sagemaker/TrainingJobs", "logGroupIdentifier": "x"}',
            "InvalidParameterException",
        ),
        ("PutLogEvents", b"{}", "UnknownOperationException"),
    ],
)
def test_malformed_requests_are_refused_by_name_never_a_500(
    asgi_server, alice, alice_profile, operation, body, code
):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    headers = {
        "X-Amz-Target": f"Logs_20140328.{operation}",
        "Content-Type": "application/x-amz-json-1.1",
    }
    answer = signed_post(asgi_server, key.access_key_id, secret, "logs", headers, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["__type"] == code
    assert answer.headers["x-amzn-RequestId"]
