"""Studio's event stream encoder read back by botocore's own decoder and response parser."""

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import EventStreamError
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.parsers import EventStreamJSONParser

from studio.web.router import eventstream


def decoded(data: bytes) -> list:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def parsed_events(data: bytes) -> list[dict]:
    """What boto3's `invoke_endpoint_with_response_stream` iterates over for `data`."""
    model = ServiceModel(Loader().load_service_model("sagemaker-runtime", "service-2"))
    shape = model.operation_model("InvokeEndpointWithResponseStream").output_shape
    stream_shape = shape.members["Body"]
    parser = EventStreamJSONParser()  # what boto3 reads sagemaker-runtime streams with
    events = []
    for message in decoded(data):
        response = message.to_response_dict()
        if response["status_code"] != 200:
            error = parser.parse(response, stream_shape)
            raise EventStreamError(error, "InvokeEndpointWithResponseStream")
        events.append(parser.parse(response, stream_shape))
    return events


def test_payload_parts_decode_to_the_bytes_sent():
    data = b"".join(eventstream.payload_parts(b"hello ") + eventstream.payload_parts(b"world"))
    assert parsed_events(data) == [
        {"PayloadPart": {"Bytes": b"hello "}},
        {"PayloadPart": {"Bytes": b"world"}},
    ]
    first = decoded(data)[0]
    assert first.headers[":event-type"] == "PayloadPart"
    assert first.headers[":message-type"] == "event"


def test_an_empty_chunk_makes_no_event_and_a_large_one_several():
    assert eventstream.payload_parts(b"") == []
    large = bytes(range(256)) * (eventstream.MAX_PAYLOAD // 256 + 10)
    parts = eventstream.payload_parts(large)
    assert len(parts) == 2
    assert b"".join(e["PayloadPart"]["Bytes"] for e in parsed_events(b"".join(parts))) == large


def test_a_model_stream_error_is_raised_as_boto3_raises_it():
    data = eventstream.payload_parts(b"partial")[0] + eventstream.model_stream_error(
        eventstream.BROKEN, "The model broke its answer off."
    )
    with pytest.raises(EventStreamError) as caught:
        parsed_events(data)
    assert caught.value.response["Error"] == {
        "Code": "ModelStreamError",
        "Message": "The model broke its answer off.",
    }


def test_a_corrupted_message_fails_its_checksum():
    data = bytearray(eventstream.payload_parts(b"checked")[0])
    data[-6] ^= 0xFF
    with pytest.raises(ChecksumMismatch):
        decoded(bytes(data))
