"""The coalescing transport under uvicorn: writes of one turn of the loop leave as one write,
in order, flushed before a close and dropped by an abort; and real HTTP through uvicorn with
the service's protocol (keep-alive, pipelining, ``Connection: close``) on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from pyotp_hw.service.protocol import PROTOCOL, CoalescingTransport

pytestmark = pytest.mark.timeout(60)


class CountingProtocol(asyncio.Protocol):
    """A server side that writes through a CoalescingTransport wrapped around a recorder of
    the real transport's writes."""

    def __init__(self, script: str, writes: list[bytes]) -> None:
        self.script = script
        self.writes = writes

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        real_write = transport.write
        writes = self.writes

        def recording_write(data: Any) -> None:
            writes.append(bytes(data))
            real_write(data)

        transport.write = recording_write  # type: ignore[method-assign]
        t = CoalescingTransport(transport, asyncio.get_running_loop())
        if self.script == "three":
            t.write(b"one ")
            t.write(b"")
            t.write(b"two ")
            t.writelines([b"three"])
            assert t.get_write_buffer_size() >= len(b"one two three")
            t.close()
        elif self.script == "abort":
            t.write(b"never sent")
            t.abort()


async def serve_once(script: str) -> tuple[bytes, list[bytes]]:
    writes: list[bytes] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: CountingProtocol(script, writes), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    server.close()
    await server.wait_closed()
    return data, writes


def test_writes_of_one_turn_leave_as_one_and_close_flushes_first() -> None:
    data, writes = asyncio.run(serve_once("three"))
    assert data == b"one two three"
    assert writes == [b"one two three"]


def test_abort_drops_what_is_pending() -> None:
    data, writes = asyncio.run(serve_once("abort"))
    assert data == b"" and writes == []


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            pass
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def server_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(echo_app, host="127.0.0.1", port=port, http=PROTOCOL,
                            log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < end and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(20)


def request(body: bytes, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n%s"
            % (len(body), extra, body))


def read_all(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def test_uvicorn_with_the_protocol_answers_pipelined_requests_in_order(server_port: int
                                                                       ) -> None:
    bodies = [b"first", b"x" * 100_000, b"", b"last"]
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        sock.sendall(b"".join(request(b, close=(i == len(bodies) - 1))
                              for i, b in enumerate(bodies)))
        data = read_all(sock)  # the last request's Connection: close ends the stream
    answers = data.split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert len(answers) == len(bodies)
    for answer, body in zip(answers, bodies, strict=True):
        head, _, rest = answer.partition(b"\r\n\r\n")
        assert b"content-length: %d" % len(body) in head.lower()
        assert rest == body
