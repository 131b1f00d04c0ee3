"""Runs inside a notebook container, which has no network: relays TCP connections on
127.0.0.1:<port> to Studio's API socket mounted into the container, so boto3, which speaks
TCP, reaches Studio at the AWS_ENDPOINT_URL_SAGEMAKER the container's environment names.

The worker copies this file into the app's boot directory (mounted read-only at
/run/studio-boot); it uses the standard library only, so any image with a python3 can run it.

    python3 api_forwarder.py <port> <socket path>
"""

import asyncio
import contextlib
import sys

CHUNK = 65536
DRAIN_TIMEOUT_S = 2
UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 39\r\nConnection: close\r\n\r\n"
    b"Studio's web process is not answering.\n"
)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            # Half-close: the other side may still be answering.
            writer.write_eof()
    except OSError:
        writer.close()


async def relay(
    socket_path: str, client: asyncio.StreamReader, client_writer: asyncio.StreamWriter
) -> None:
    try:
        upstream, upstream_writer = await asyncio.open_unix_connection(socket_path)
    except OSError:
        client_writer.write(UNAVAILABLE)
        # Closing with the request unread would reset the connection, and the client would
        # see "connection reset" instead of this answer: let it finish first (briefly).
        client_writer.write_eof()
        # asyncio's own name: before Python 3.11 it is not the built-in TimeoutError, and
        # this runs on whatever python3 the image has.
        with contextlib.suppress(asyncio.TimeoutError, OSError):
            await asyncio.wait_for(client.read(), DRAIN_TIMEOUT_S)
        client_writer.close()
        return
    try:
        await asyncio.gather(pipe(client, upstream_writer), pipe(upstream, client_writer))
    finally:
        upstream_writer.close()
        client_writer.close()


async def serve(port: int, socket_path: str) -> None:
    server = await asyncio.start_server(
        lambda reader, writer: relay(socket_path, reader, writer), "127.0.0.1", port
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))
