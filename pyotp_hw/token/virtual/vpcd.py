"""Serve a :class:`~.card.VirtualCard` to pcscd through the vpcd reader driver.

vpcd (Debian's ``vsmartcard-vpcd``) is a reader driver inside pcscd that waits for a card to
connect to its TCP port. Every message in either direction is a two-byte big-endian length and
that many bytes. One-byte messages from the reader are control codes (0 power off, 1 power on,
2 reset, 4 "send your ATR"); longer ones are command APDUs, answered with the response APDU.

vpcd is the listening side, and it binds every interface (vsmartcard's ``opensock`` uses
``INADDR_ANY``; its reader configuration names only the port, and its "reverse" mode, where the
card would listen, aborts pcscd 1.9.9): a host on the network can connect as the card whenever
the reader has none. :func:`exposed_listeners` finds such listeners so that the command can say
so; :class:`~pyotp_hw.token.rig.PcscRig` avoids them with a private network namespace.

Debian's vpcd writes the length and the body with two separate sends, so Nagle's algorithm and
delayed ACKs would stall every exchange by about 40 ms: the card sets ``TCP_NODELAY`` once and
``TCP_QUICKACK`` after every receive.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from .card import VirtualCard

__all__ = ["serve", "exposed_listeners", "DEFAULT_PORT"]

#: The port of the first reader of Debian's default vpcd configuration.
DEFAULT_PORT = 35963
_POWER_OFF, _POWER_ON, _RESET, _ATR = 0, 1, 2, 4
_POLL = 0.2


_TCP_LISTEN = "0A"


def _address(hex_text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_text)
    # /proc/net/tcp* print each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def exposed_listeners(port: int, *, proc: Path = Path("/proc/net")) -> list[str]:
    """Addresses other than loopback that a TCP socket listens on at ``port`` (Linux only).

    An empty list means nothing listens there beyond loopback, or that this cannot be told
    (no ``/proc``): the answer is a warning's basis, not a guarantee.
    """
    found: list[str] = []
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4 or fields[3] != _TCP_LISTEN:
                continue
            local_hex, _, port_hex = fields[1].partition(":")
            try:
                if int(port_hex, 16) != port:
                    continue
                address = _address(local_hex)
            except ValueError:
                continue
            if not address.is_loopback:
                found.append(str(address))
    return found


class _Closed(Exception):
    """The reader side closed the connection."""


def _quickack(sock: socket.socket) -> None:
    option = getattr(socket, "TCP_QUICKACK", None)
    if option is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, option, 1)


def _recv_exact(sock: socket.socket, n: int, stop: threading.Event) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        if stop.is_set():
            raise _Closed
        try:
            chunk = sock.recv(n - len(buf))
        except TimeoutError:
            continue
        if not chunk:
            raise _Closed
        _quickack(sock)
        buf += chunk
    return bytes(buf)


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(len(payload).to_bytes(2, "big") + payload)


def _session(sock: socket.socket, card: VirtualCard, stop: threading.Event) -> None:
    while True:
        length = int.from_bytes(_recv_exact(sock, 2, stop), "big")
        message = _recv_exact(sock, length, stop)
        if length == 1:
            code = message[0]
            if code == _POWER_OFF:
                card.power_off()
            elif code == _POWER_ON:
                card.power_on()
            elif code == _RESET:
                card.reset()
            elif code == _ATR:
                _send(sock, card.atr)
            continue
        if length == 0:
            continue
        _send(sock, card.process(message))


def serve(
    card: VirtualCard,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    stop: threading.Event | None = None,
    on_connect: Callable[[], None] | None = None,
    on_disconnect: Callable[[], None] | None = None,
    reconnect: bool = True,
) -> None:
    """Connect ``card`` to vpcd at ``host:port`` and answer the reader until ``stop`` is set.

    While vpcd is not listening the card retries every fraction of a second; when the reader
    goes away (pcscd stopped) it powers the card off and, with ``reconnect``, waits for it again.
    """
    stop = stop if stop is not None else threading.Event()
    while not stop.is_set():
        try:
            sock = socket.create_connection((host, port), timeout=1.0)
        except OSError:
            stop.wait(_POLL)
            continue
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(_POLL)
            if on_connect is not None:
                on_connect()
            _session(sock, card, stop)
        except (_Closed, ConnectionError):
            pass
        finally:
            card.power_off()
            with contextlib.suppress(OSError):
                sock.close()
            if on_disconnect is not None:
                on_disconnect()
        if not reconnect:
            return
        stop.wait(_POLL)
