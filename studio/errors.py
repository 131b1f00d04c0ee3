"""SageMaker's errors, raised by service functions and rendered by every front end.

Each carries the error code boto3 expects and the HTTP status the API layer answers with.
Messages name the field or resource and the rule, so the caller knows what to change.
"""


class StudioError(Exception):
    code = "InternalFailure"
    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"__type": self.code, "message": self.message}


class ValidationException(StudioError):
    code = "ValidationException"
    http_status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ResourceNotFound(StudioError):
    code = "ResourceNotFound"
    http_status = 400


class ResourceInUse(StudioError):
    code = "ResourceInUse"
    http_status = 400


class ResourceLimitExceeded(StudioError):
    code = "ResourceLimitExceeded"
    http_status = 400


class AccessDenied(StudioError):
    code = "AccessDeniedException"
    http_status = 400


class ConflictException(StudioError):
    """A transition that the resource's current status does not allow."""

    code = "ConflictException"
    http_status = 400
