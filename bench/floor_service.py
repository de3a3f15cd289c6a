"""The stack's floor for the load benchmark: uvicorn (httptools, uvloop) serving an ASGI app that
reads each ``POST /v1/verify`` body and answers a fixed acceptance without verifying anything.

What it costs per request (HTTP parsing, the event loop, loopback TCP) is paid by every service
on this stack, so the naive service's CPU per request divided by this one's is the largest
throughput ratio any service built on it can reach over the naive one on a CPU-bound machine.

    python bench/floor_service.py --listen 127.0.0.1:8600
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]

_ANSWER = b'{"ok": true, "reason": "floor"}'
_HEADERS = [(b"content-type", b"application/json"),
            (b"content-length", str(len(_ANSWER)).encode())]


async def app(scope: Message, receive: Callable[[], Awaitable[Message]],
              send: Callable[[Message], Awaitable[None]]) -> None:
    """Read the request body whole, then answer the fixed acceptance."""
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _ANSWER})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", default="127.0.0.1:8600")
    args = p.parse_args()
    host, _, port = args.listen.rpartition(":")
    import uvicorn

    # The settings `pyotp-hw serve` runs uvicorn with.
    uvicorn.run(app, host=host, port=int(port), access_log=False, log_level="warning",
                server_header=False, proxy_headers=False)


if __name__ == "__main__":
    main()
