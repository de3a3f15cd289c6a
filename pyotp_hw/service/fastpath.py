"""``POST /v1/verify`` straight on ASGI: the one endpoint a sign-in storm hits; and the
admission (API key, rate limit) every request but ``/healthz`` passes first.

Same checks and answers as every other route (:mod:`.validation`, the JSON error bodies), but
without the router, request and response objects around them, whose cost per request is what
limits a service whose verification itself is coalesced. The answers (their ASGI messages,
headers and body) are made once per reason; a body in the plain form clients send is read
without the JSON decoder (:func:`.validation.plain_verify_body`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from .._types import JSONValue
from ..errors import OTPError
from ..verifier import Result, StoreError
from .batcher import DeadlineExceeded, Overloaded
from .state import Service
from .validation import BadRequest, Fields, parse_json, plain_verify_body

__all__ = ["admit", "send_json", "verify"]

# An ASGI scope or event: what each key holds depends on its "type" (as starlette.types has it).
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]

# The answer to a verification, per (ok, reason): its two ASGI messages and the reason's text.
_ANSWERS: dict[tuple[bool, object], tuple[Message, Message, str]] = {}


async def send_json(send: Send, status: int, body: Mapping[str, JSONValue] | bytes,
                    headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """One complete JSON response."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


async def admit(service: Service, authorization: bytes | None, send: Send) -> str | int:
    """The client's name when its API key is live and its rate allows a request now; else the
    refusal (401 or 429) is sent and its status returned."""
    client = None if service.keys is None else service.keys.check(
        None if authorization is None else authorization.decode("latin-1"))
    if client is None:
        await send_json(send, 401, {"error": "a valid API key is required"},
                        [(b"www-authenticate", b"Bearer")])
        return 401
    wait = service.allow(client)
    if wait:
        await send_json(send, 429, {"error": "rate limit exceeded"},
                        [(b"retry-after", str(max(1, round(wait))).encode())])
        return 429
    return client


async def read_body(receive: Receive, length: bytes | None, limit: int) -> bytes:
    """The request body, refused (413) past ``limit`` bytes, before reading when its
    Content-Length (``length``) says so."""
    if length is not None:
        if not length.isdigit():
            raise BadRequest("Content-Length is not a number")
        if int(length) > limit:
            raise BadRequest(f"the body is larger than {limit} bytes", status=413)
    message = await receive()
    if message["type"] == "http.disconnect":
        raise BadRequest("the client went away", status=499)
    body: bytes = message.get("body", b"")
    if len(body) > limit:
        raise BadRequest(f"the body is larger than {limit} bytes", status=413)
    if not message.get("more_body", False):
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("the client went away", status=499)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"the body is larger than {limit} bytes", status=413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _answer(result: Result) -> tuple[Message, Message, str]:
    key = (result.ok, result.reason)
    answer = _ANSWERS.get(key)
    if answer is None:
        reason = str(result.reason)
        data = json.dumps({"ok": result.ok, "reason": reason}).encode()
        answer = _ANSWERS[key] = (
            {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(data)).encode())]},
            {"type": "http.response.body", "body": data}, reason)
    return answer


async def verify(service: Service, scope: Message, receive: Receive, send: Send,
                 started: float) -> None:
    """Answer one ``POST /v1/verify`` ``{"user", "code"}``, admission first, and count it
    (``started``: when the request came, by ``time.perf_counter``)."""
    authorization = length = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
        elif name == b"content-length":
            length = value
    status = 500
    try:
        status = await _verify(service, receive, send, authorization, length, started)
    finally:
        if status:
            service.metrics.request("POST", "/v1/verify", status,
                                    time.perf_counter() - started)


async def _verify(service: Service, receive: Receive, send: Send, authorization: bytes | None,
                  length: bytes | None, started: float) -> int:
    """The status of a refusal, or 0 after an answer to the code (counted here)."""
    client = await admit(service, authorization, send)
    if isinstance(client, int):
        return client
    assert service.coalescer is not None
    try:
        body = await read_body(receive, length, service.config.max_body)
        plain = plain_verify_body(body)
        if plain is None:
            f = Fields(parse_json(body))
            plain = f.user(), f.code()
            f.done()
        result = await service.coalescer.verify(plain[0], plain[1], service.config.deadline)
    except BadRequest as exc:
        await send_json(send, exc.status, exc.body())
        return exc.status
    except Overloaded as exc:
        await send_json(send, 503, {"error": "overloaded, retry later"},
                        [(b"retry-after", str(exc.retry_after).encode())])
        return 503
    except DeadlineExceeded:
        await send_json(send, 503, {"error": "the verification did not finish in time"},
                        [(b"retry-after", b"1")])
        return 503
    except StoreError:
        await send_json(send, 503, {"error": "the store is unavailable"},
                        [(b"retry-after", b"1")])
        return 503
    except OTPError as exc:
        await send_json(send, 400, {"error": str(exc)})
        return 400
    start, answer, reason = _answer(result)
    await send(start)
    await send(answer)
    service.metrics.verified(time.perf_counter() - started, result.ok, reason)
    return 0
