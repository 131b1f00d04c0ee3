"""The two failures `serve` reports in words: a request it refuses, a model it cannot load."""

from __future__ import annotations


class BadRequest(Exception):
    """The request is wrong (body, content type, Accept): answered with `status` and the
    message, which says what is wrong and what would be right."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ModelLoadError(Exception):
    """The model directory cannot be served; the message is the container's last log line."""
