"""The client against a peer that answers garbage: a typed ServiceError naming what was wrong.

A real HTTP server on loopback (the standard library's) answers each request with a body the test
chooses, so the client's own parsing is what is tested, not the service's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pyotp_hw.service import Client, ServiceError


class _Peer:
    """A loopback server whose every answer is ``status`` with ``body``."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                self.rfile.read(length)
                self.send_response(peer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(peer.body)))
                self.end_headers()
                self.wfile.write(peer.body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def peer() -> Iterator[_Peer]:
    p = _Peer()
    yield p
    p.server.shutdown()
    p.server.server_close()


@pytest.fixture
def client(peer: _Peer) -> Iterator[Client]:
    c = Client(peer.url, "k", timeout=5)
    yield c
    c.close()


CALLS = {
    "verify": lambda c: c.verify("alice", "123456"),
    "verify_batch": lambda c: c.verify_batch([("alice", "123456")]),
    "confirm": lambda c: c.confirm("alice", "123456"),
    "resync": lambda c: c.resync("alice", "123456", "654321"),
    "disable": lambda c: c.disable("alice"),
    "events": lambda c: c.events(),
    "user": lambda c: c.user("alice"),
    "validate_check": lambda c: c.validate_check("alice", "123456"),
}


@pytest.mark.parametrize("body, says", [
    (b"<html>not json</html>", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_an_answer_that_is_no_json_object_is_a_service_error(peer: _Peer, client: Client,
                                                             name: str, body: bytes,
                                                             says: str) -> None:
    peer.body = body
    with pytest.raises(ServiceError, match=says) as caught:
        CALLS[name](client)
    assert caught.value.status == 200
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name, body, says", [
    ("verify", b'{"ok": "yes", "reason": "ok"}', "boolean 'ok'"),
    ("verify", b'{"reason": "ok"}', "boolean 'ok'"),
    ("confirm", b'{"ok": true}', "text 'reason'"),
    ("verify_batch", b'{"results": {"ok": true}}', "no list 'results'"),
    ("verify_batch", b'{"results": [3]}', "not a JSON object"),
    ("events", b'{}', "no list 'events'"),
    ("events", b'{"events": ["x"]}', "event is not a JSON object"),
    ("disable", b'{"disabled": 1}', "boolean 'disabled'"),
])
def test_an_answer_without_its_fields_is_a_service_error(peer: _Peer, client: Client,
                                                         name: str, body: bytes,
                                                         says: str) -> None:
    peer.body = body
    with pytest.raises(ServiceError, match=says):
        CALLS[name](client)


def test_well_formed_answers_still_read(peer: _Peer, client: Client) -> None:
    peer.body = b'{"ok": false, "reason": "wrong code"}'
    answer = client.verify("alice", "123456")
    assert (answer.ok, answer.reason) == (False, "wrong code")
    peer.body = b'{"results": [{"ok": true, "reason": "ok"}]}'
    assert [a.ok for a in client.verify_batch([("alice", "1")])] == [True]
    peer.body = b'{"disabled": true}'
    assert client.disable("alice") is True


def test_a_refusal_whose_body_is_not_json_keeps_its_status(peer: _Peer, client: Client) -> None:
    peer.status, peer.body = 502, b"Bad Gateway"
    with pytest.raises(ServiceError) as caught:
        client.verify("alice", "123456")
    assert caught.value.status == 502
