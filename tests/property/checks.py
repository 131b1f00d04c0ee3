"""What every answer must be, whatever was sent: not a 5xx; an error in the service's own
shape (JSON `__type` and a message for SageMaker and Logs, XML Code and Message for S3 and
STS); and when it is an error, nothing changed. Whatever the answer, another domain's rows
stay as they were."""

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from typing import Any

import pytest
from django.test import TestCase
from hypothesis import HealthCheck, settings

from tests.property.state import fingerprint


def bounded(examples: int) -> settings:
    """Hypothesis settings for CI: `examples` a test, the same ones each run."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        # Each example is a request and a few queries, not a pure function: slow by design.
        suppress_health_check=[HealthCheck.too_slow],
    )


def _failed(what: str, response, failures) -> str:
    return (
        f"{what} answered {response.status_code}: {response.content[:500]!r}\n"
        f"web log:\n{failures.last()}"
    )


def json_error(response, what: str, failures) -> dict | None:
    """The answer's JSON error, or None for a success."""
    assert response.status_code < 500, _failed(what, response, failures)
    if response.status_code < 300:
        return None
    assert response.status_code >= 400, _failed(what, response, failures)
    try:
        error = json.loads(response.content)
    except ValueError:
        pytest.fail(f"{what} answered a non-JSON error: {response.content[:300]!r}")
    assert isinstance(error, dict) and isinstance(error.get("__type"), str) and error["__type"], (
        f"{what}: error without __type: {error}"
    )
    message = error.get("message", error.get("Message"))
    assert isinstance(message, str) and message, f"{what}: error without a message: {error}"
    return error


def xml_error(response, what: str, failures, *, head: bool = False) -> dict | None:
    """The answer's XML error (S3's `<Error>`, or STS's `<ErrorResponse><Error>`) as
    {Code, Message}, or None for a success. A HEAD's error has no body, as on S3."""
    # S3 answers 501 NotImplemented for what it does not serve (checked below): deliberate,
    # and what AWS answers; any other 5xx is a failure.
    assert response.status_code < 500 or response.status_code == 501, _failed(
        what, response, failures
    )
    if response.status_code < 300 or response.status_code == 304:
        return None
    assert response.status_code >= 400, _failed(what, response, failures)
    if head:  # S3 answers a HEAD's error by its status alone
        return {"Code": str(response.status_code), "Message": ""}
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        pytest.fail(f"{what} answered a non-XML error: {response.content[:300]!r}")
    error = root if root.tag.endswith("Error") else root.find("{*}Error")
    assert error is not None, f"{what}: no <Error> in {response.content[:300]!r}"
    found = {
        child.tag.rsplit("}", 1)[-1]: (child.text or "")
        for child in error
        if child.tag.rsplit("}", 1)[-1] in ("Code", "Message")
    }
    assert found.get("Code"), f"{what}: error without a Code: {response.content[:300]!r}"
    assert "Message" in found, f"{what}: error without a Message: {response.content[:300]!r}"
    if response.status_code == 501:
        assert found["Code"] == "NotImplemented", _failed(what, response, failures)
    return found


def unchanged_on_error(
    tenant: Any, send: Callable[[], Any], what: str, error_of: Callable[..., dict | None]
) -> tuple[Any, dict | None]:
    """Send; check the answer, that another domain's rows did not change, and, for an error,
    that nothing did (rows, the store's files, Celery's queues, work left to run on commit)."""
    before = fingerprint(tenant.other.pk)
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        response = send()
    error = error_of(response, what, tenant.failures)
    after = fingerprint(tenant.other.pk)
    assert after.domain == before.domain, (
        f"{what} changed another domain's rows (answer {response.status_code}: "
        f"{response.content[:300]!r})"
    )
    if error is not None:
        changes = before.changes(after)
        assert not changes, f"{what} answered {error} but changed {', '.join(changes)}"
        assert not callbacks, f"{what} answered {error} but left work to run on commit"
    return response, error
