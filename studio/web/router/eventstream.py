"""AWS's event stream encoding (`application/vnd.amazon.eventstream`), as botocore reads it
(botocore/eventstream.py): the body of InvokeEndpointWithResponseStream's answer.

A message is a prelude (total length, headers length: big-endian u32 each; then the CRC32 of
those 8 bytes), the headers, the payload, and the CRC32 of everything before it. A header is
its name's length (u8), the name, a type (7: string), the value's length (u16) and the value.
"""

import json
import struct
import zlib

CONTENT_TYPE = b"application/vnd.amazon.eventstream"
STRING = 7
# botocore refuses longer (`_MAX_PAYLOAD_LENGTH`): a larger chunk is sent as several parts.
MAX_PAYLOAD = 16 * 1024**2 - 1024
# ModelStreamError's ErrorCode values, as SageMaker documents them.
TIMED_OUT = "ModelInvocationTimeExceeded"
BROKEN = "StreamBroken"


def _header(name: str, value: str) -> bytes:
    name_bytes, value_bytes = name.encode(), value.encode()
    return (
        struct.pack("!B", len(name_bytes))
        + name_bytes
        + struct.pack("!BH", STRING, len(value_bytes))
        + value_bytes
    )


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event stream message."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    body = prelude + encoded + payload
    return body + struct.pack("!I", zlib.crc32(body))


def payload_parts(data: bytes) -> list[bytes]:
    """`data` as PayloadPart events (one, unless it is larger than a message may be)."""
    return [
        message(
            {
                ":event-type": "PayloadPart",
                ":content-type": "application/octet-stream",
                ":message-type": "event",
            },
            data[start : start + MAX_PAYLOAD],
        )
        for start in range(0, len(data), MAX_PAYLOAD)
    ]


def model_stream_error(error_code: str, text: str) -> bytes:
    """A ModelStreamError event: the model's answer broke off after the stream began (boto3
    raises EventStreamError with this code while the caller iterates the stream)."""
    return message(
        {
            ":exception-type": "ModelStreamError",
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps({"Message": text, "ErrorCode": error_code}).encode(),
    )
