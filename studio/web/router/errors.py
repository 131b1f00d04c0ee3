"""sagemaker-runtime's errors (botocore's `sagemaker-runtime/2017-05-13/service-2.json`: a
rest-json service), and how the router answers them: the code in `x-amzn-ErrorType` and the
body, so that boto3 raises `client.exceptions.<code>` with the message."""

import json
import uuid
from typing import Any

from studio.core.errors import StudioError
from studio.web.proxy.http import Send

# The longest message sagemaker-runtime's `Message` shape holds.
MESSAGE_MAX = 2048


class ValidationError(StudioError):
    code = "ValidationError"
    http_status = 400


class ModelError(StudioError):
    """The container answered 4xx or 5xx, did not answer in time, or broke its answer off."""

    code = "ModelError"
    http_status = 424

    def __init__(self, message: str, status: int | None = None, original: str | None = None):
        super().__init__(message)
        self.status = status
        self.original = original

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = super().as_dict()
        if self.status is not None:
            out["OriginalStatusCode"] = self.status
        if self.original is not None:
            out["OriginalMessage"] = self.original
        return out


class ModelNotReady(StudioError):
    code = "ModelNotReadyException"
    http_status = 429


class Throttling(StudioError):
    """Not in sagemaker-runtime's model: boto3 raises ClientError with this code, and retries
    it as AWS's own throttling."""

    code = "ThrottlingException"
    http_status = 429


class ServiceUnavailable(StudioError):
    code = "ServiceUnavailable"
    http_status = 503


class AccessDeniedError(StudioError):
    code = "AccessDeniedException"
    http_status = 403


def clip(text: str) -> str:
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…"


async def send_error(send: Send, error: StudioError) -> None:
    body = json.dumps(error.as_dict()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.http_status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-amzn-errortype", error.code.encode()),
                (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
