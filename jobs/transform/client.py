"""Talking to a transform's serving containers over their sockets: whether they answer, what
they ask for (/execution-parameters), and one payload's answer.

Every connection goes through `UnixHTTPConnection`, which checks the socket is the server's
before connecting: the container can replace it with a link to any host socket."""

import http.client
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.unix_socket import UnixHTTPConnection, http_get

RETRY_PAUSE_S = 0.2
BATCH_STRATEGIES = {
    "MULTI_RECORD": "MultiRecord",
    "SINGLE_RECORD": "SingleRecord",
    "MultiRecord": "MultiRecord",
    "SingleRecord": "SingleRecord",
}


@dataclass(frozen=True)
class Server:
    socket: Path
    uid: int


class AnswerTooLarge(Exception):
    """The container's answer is longer than the caller reads; the message says so."""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def answers_ping(server: Server) -> bool:
    try:
        status, _ = http_get(server.socket, "/ping", server.uid)
    except OSError:
        return False
    return status == 200


def execution_parameters(server: Server) -> dict[str, Any]:
    """What the container asks for, of MaxConcurrentTransforms, BatchStrategy and
    MaxPayloadInMB, keeping only values of the right kind (the answer is the container's,
    and hostile); {} when it does not say."""
    try:
        status, body = http_get(server.socket, "/execution-parameters", server.uid)
        answer = json.loads(body) if status == 200 else {}
    except (OSError, ValueError, RecursionError, http.client.HTTPException):
        return {}
    if not isinstance(answer, dict):
        return {}
    found: dict[str, Any] = {}
    for member in ("MaxConcurrentTransforms", "MaxPayloadInMB"):
        value = answer.get(member)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            found[member] = value
    strategy = answer.get("BatchStrategy")
    if isinstance(strategy, str) and strategy in BATCH_STRATEGIES:
        found["BatchStrategy"] = BATCH_STRATEGIES[strategy]
    return found


def _post(
    server: Server, body: bytes, headers: dict[str, str], timeout: float, max_bytes: int
) -> Answer:
    connection = UnixHTTPConnection(server.socket, timeout=timeout, uid=server.uid)
    try:
        connection.request("POST", "/invocations", body=body, headers=headers)
        response = connection.getresponse()
        data = response.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise AnswerTooLarge(f"the model's answer is larger than {max_bytes // 2**20} MiB")
        return Answer(response.status, response.getheader("Content-Type", ""), data)
    finally:
        connection.close()


def invoke(
    server: Server,
    body: bytes,
    *,
    content_type: str,
    accept: str,
    timeout: float,
    retries: int,
    max_bytes: int,
) -> Answer:
    """POST /invocations; a 5xx answer or a broken connection is tried again up to `retries`
    times (InvocationsMaxRetries). A connection that fails every time is a 503 whose body
    says why; an answer longer than `max_bytes` raises AnswerTooLarge (a hostile container
    could otherwise fill the worker's memory)."""
    headers = {"Content-Type": content_type} if content_type else {}
    if accept:
        headers["Accept"] = accept
    answer = Answer(503, "", b"")
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(RETRY_PAUSE_S)
        try:
            answer = _post(server, body, headers, timeout, max_bytes)
        except TimeoutError:
            answer = Answer(504, "", f"no answer within {timeout:g} s".encode())
        except (OSError, http.client.HTTPException) as error:
            answer = Answer(503, "", f"the model server did not answer: {error}".encode())
        if answer.status < 500:
            return answer
    return answer
