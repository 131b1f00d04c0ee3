"""The forwarder notebook containers run: TCP on loopback relayed to Studio's API socket, both
ways, a half-close passed on; a 503 that says why when Studio's web process is not there."""

import asyncio
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from domains.notebooks.api_forwarder import relay, serve


@pytest.fixture
def socket_path() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="fwd-", dir="/tmp"))
    yield directory / "api.sock"
    shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def echo_upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers, once the client has finished sending, with what it sent in upper case."""
    data = await reader.read()
    writer.write(data.upper())
    await writer.drain()
    writer.close()


async def through_forwarder(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    writer.write_eof()  # the half-close must reach the server, or it waits for more
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_bytes_go_both_ways_and_a_half_close_is_passed_on(socket_path):
    upstream = await asyncio.start_unix_server(echo_upper, str(socket_path))
    port = free_port()
    forwarder = asyncio.create_task(serve(port, str(socket_path)))
    try:
        for _ in range(50):
            try:
                answer = await through_forwarder(port, b"post / http/1.1\r\n\r\n" * 1000)
                break
            except ConnectionRefusedError:
                await asyncio.sleep(0.02)  # the forwarder is still binding
        assert answer == b"POST / HTTP/1.1\r\n\r\n" * 1000
    finally:
        forwarder.cancel()
        upstream.close()


async def test_no_web_process_answers_503_saying_so(socket_path):
    server = await asyncio.start_server(lambda r, w: relay(str(socket_path), r, w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        answer = await through_forwarder(port, b"GET /healthz HTTP/1.1\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ")
    assert int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]) == len(body)
    assert body == b"Studio's web process is not answering.\n"
