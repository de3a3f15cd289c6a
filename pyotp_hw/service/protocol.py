"""uvicorn's httptools protocol with one send per response instead of two.

uvicorn writes a response's status line and headers when the application sends
``http.response.start`` and the body when it sends ``http.response.body``: two ``write`` calls,
so two ``send`` system calls and two TCP segments on the wire for every small JSON answer. On
loopback under load those writes were a third of the service's CPU per request.

Here each connection's transport is wrapped so that what is written during one turn of the event
loop is joined and written once, at the end of that turn (one callback per turn for all
connections, not one per response). Closing or aborting a connection, and a full kernel
buffer, behave as before: ``close`` writes what is pending first, ``abort`` drops it, and flow
control sees the pending bytes in :meth:`CoalescingTransport.get_write_buffer_size`.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CoalescingHttpToolsProtocol", "CoalescingTransport", "PROTOCOL"]

#: What ``uvicorn.run(http=...)`` is given (an import string, so that worker processes load it).
PROTOCOL = "pyotp_hw.service.protocol:CoalescingHttpToolsProtocol"


class _Flusher:
    """The connections of one event loop with writes pending, flushed once per turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[CoalescingTransport] = []

    def mark(self, transport: CoalescingTransport) -> None:
        if not self._dirty:
            self._loop.call_soon(self._flush)
        self._dirty.append(transport)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for transport in dirty:
            transport.flush()


_FLUSHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Flusher] = (
    weakref.WeakKeyDictionary())


def _flusher_of(loop: asyncio.AbstractEventLoop) -> _Flusher:
    flusher = _FLUSHERS.get(loop)
    if flusher is None:
        flusher = _FLUSHERS[loop] = _Flusher(loop)
    return flusher


class CoalescingTransport:
    """A transport whose writes within one turn of the event loop leave as one write.

    Everything but writing, closing and the buffer size is the wrapped transport's own."""

    __slots__ = ("_flusher", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._flusher = _flusher_of(loop)
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the end of this turn of the loop."""
        if not data:
            return
        if not self._pending:
            self._flusher.mark(self)
        self._pending.append(data)

    def writelines(self, chunks: Any) -> None:
        """Queue each chunk (as :meth:`write`)."""
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Write what is pending now."""
        if not self._pending:
            return
        pending = self._pending
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        """Write what is pending, then close."""
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        """Drop what is pending and close at once."""
        self._pending = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        """Bytes not yet sent: pending here and buffered by the wrapped transport."""
        return sum(map(len, self._pending)) + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Wrap the connection's transport, then let uvicorn set the connection up."""
        wrapped = CoalescingTransport(transport, self.loop)
        super().connection_made(wrapped)  # type: ignore[arg-type]
