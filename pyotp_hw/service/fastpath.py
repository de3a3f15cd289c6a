"""``POST /v1/verify`` straight on ASGI: the one endpoint a sign-in storm hits.

Same checks and answers as every other route (:mod:`.validation`, the JSON error bodies), but
without the router, request and response objects around them, whose cost per request is what
limits a service whose verification itself is coalesced. The answers' bodies are made once per
reason.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from .._types import JSONValue
from ..errors import OTPError
from ..verifier import Result, StoreError
from .batcher import DeadlineExceeded, Overloaded
from .state import Service
from .validation import BadRequest, Fields, parse_json

__all__ = ["send_json", "verify"]

# An ASGI scope or event: what each key holds depends on its "type" (as starlette.types has it).
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]

_BODIES: dict[tuple[bool, str], bytes] = {}


async def send_json(send: Send, status: int, body: Mapping[str, JSONValue] | bytes,
                    headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """One complete JSON response."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


async def read_body(scope: Message, receive: Receive, limit: int) -> bytes:
    """The request body, refused (413) past ``limit`` bytes, before reading when it says so."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit():
                raise BadRequest("Content-Length is not a number")
            if int(value) > limit:
                raise BadRequest(f"the body is larger than {limit} bytes", status=413)
    chunks: list[bytes] = []
    size = 0
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


def _answer(result: Result) -> bytes:
    key = (result.ok, str(result.reason))
    body = _BODIES.get(key)
    if body is None:
        body = _BODIES[key] = json.dumps({"ok": key[0], "reason": key[1]}).encode()
    return body


async def verify(service: Service, scope: Message, receive: Receive,
                 send: Send) -> None:
    """Answer one ``POST /v1/verify`` ``{"user", "code"}``."""
    assert service.coalescer is not None
    try:
        f = Fields(parse_json(await read_body(scope, receive, service.config.max_body)))
        user, code = f.user(), f.code()
        f.done()
        result = await service.coalescer.verify(user, code, service.config.deadline)
    except BadRequest as exc:
        await send_json(send, exc.status, exc.body())
        return
    except Overloaded as exc:
        await send_json(send, 503, {"error": "overloaded, retry later"},
                        [(b"retry-after", str(exc.retry_after).encode())])
        return
    except DeadlineExceeded:
        await send_json(send, 503, {"error": "the verification did not finish in time"},
                        [(b"retry-after", b"1")])
        return
    except StoreError:
        await send_json(send, 503, {"error": "the store is unavailable"},
                        [(b"retry-after", b"1")])
        return
    except OTPError as exc:
        await send_json(send, 400, {"error": str(exc)})
        return
    service.metrics.outcome(result.ok, str(result.reason))
    await send_json(send, 200, _answer(result))
