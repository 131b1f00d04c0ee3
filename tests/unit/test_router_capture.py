"""Capture records in SageMaker's JSONL shape, as the capture writer stores them."""

import base64
import json
import threading
import time

from jobs.hosting.routing import Capture
from studio.web.router import capture
from studio.web.router.capture import Captured, record

CONFIG = Capture(
    percent=100,
    destination="s3://bucket/capture",
    inputs=True,
    outputs=True,
    csv_types=frozenset({"text/csv"}),
    json_types=frozenset({"application/json"}),
)


def captured(config: Capture = CONFIG, **overrides) -> Captured:
    fields = {
        "config": config,
        "domain_id": "d-1",
        "endpoint": "iris",
        "variant": "AllTraffic",
        "at": 1_767_225_600.25,  # 2026-01-01T00:00:00.25Z
        "event_id": "e-1",
        "inference_id": None,
        "input_type": "text/csv",
        "input_data": b"1,2,3,4",
        "output_type": "application/json",
        "output_data": b'{"predictions": [0]}',
    }
    return Captured(**{**fields, **overrides})


def test_a_record_has_sagemakers_shape_with_text_for_listed_types():
    line = record(captured(inference_id="mine"))

    assert line == {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": "1,2,3,4",
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": '{"predictions": [0]}',
                "encoding": "JSON",
            },
        },
        "eventMetadata": {
            "eventId": "e-1",
            "inferenceTime": "2026-01-01T00:00:00Z",
            "inferenceId": "mine",
        },
        "eventVersion": "0",
    }
    json.dumps(line)  # one JSON line


def test_unlisted_types_and_bytes_that_are_not_utf8_are_base64():
    line = record(
        captured(
            input_type="application/x-npy",
            input_data=b"\x93NUMPY",
            output_type="text/csv",
            output_data=b"\xff\xfe",
        )
    )["captureData"]

    assert line["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(line["endpointInput"]["data"]) == b"\x93NUMPY"
    assert line["endpointOutput"]["encoding"] == "BASE64"
    assert base64.b64decode(line["endpointOutput"]["data"]) == b"\xff\xfe"


def test_a_content_type_with_parameters_is_matched_by_its_type():
    line = record(captured(input_type="text/csv; charset=utf-8"))["captureData"]

    assert line["endpointInput"]["encoding"] == "CSV"
    assert line["endpointInput"]["observedContentType"] == "text/csv; charset=utf-8"


def test_capturing_inputs_only_leaves_the_output_out():
    inputs_only = Capture(**{**CONFIG.__dict__, "outputs": False})

    assert list(record(captured(inputs_only))["captureData"]) == ["endpointInput"]


async def test_a_full_capture_queue_drops_and_counts_without_slowing_the_caller(monkeypatch):
    """A store that does not answer: the writer holds one batch, the queue fills, and every
    capture past it is dropped and counted at once."""
    from jobs.hosting.counters import tally

    stuck = threading.Event()
    monkeypatch.setattr(capture, "write", lambda batch: stuck.wait(10))
    writer = capture.CaptureWriter(maxsize=2)
    before = tally.dropped.get(77, 0)

    started = time.perf_counter()
    for _ in range(20):
        writer.offer(77, captured())
    elapsed = time.perf_counter() - started
    stuck.set()

    # At most the queue's 2 and a batch of as many were kept.
    assert tally.dropped[77] - before >= 16
    assert elapsed < 0.05
