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


class MissingAuthenticationToken(StudioError):
    """An API request that is not signed at all."""

    code = "MissingAuthenticationTokenException"
    http_status = 403


class IncompleteSignature(StudioError):
    """A signature missing a part SigV4 requires."""

    code = "IncompleteSignatureException"
    http_status = 400


class InvalidSignature(StudioError):
    """A signature that does not verify, or that was made too long ago."""

    code = "InvalidSignatureException"
    http_status = 403


class UnrecognizedClient(StudioError):
    """An access key Studio does not know, or that is inactive."""

    code = "UnrecognizedClientException"
    http_status = 403


class UnknownOperation(StudioError):
    code = "UnknownOperationException"
    http_status = 400
