"""The connection abstraction and the APDU channel over it.

A :class:`Connection` moves one APDU: ``transmit(apdu) -> (data, sw)``. PC/SC readers, the
in-process virtual card and test doubles all implement it. :class:`ApduChannel` adds what every
applet needs on top: command chaining for long commands (CLA bit 0x10, or one extended APDU when
the card refuses chaining) and response chaining (``61xx`` answered by SEND REMAINING). Each
extra APDU this adds is logged at DEBUG level on ``pyotp_hw.token``: lengths and status words,
never data.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from ..errors import InvalidArgument
from .apdu import (
    CLA_CHAINING,
    EXTENDED_MAX_DATA,
    SHORT_MAX_DATA,
    SW,
    Command,
    sw_text,
)
from .errors import ProtocolError

__all__ = ["Connection", "ApduChannel", "INS_SEND_REMAINING", "INS_GET_RESPONSE"]

#: The OATH applet's own instruction for "send the rest of the response".
INS_SEND_REMAINING = 0xA5
#: ISO 7816-4 GET RESPONSE, used by most other applets.
INS_GET_RESPONSE = 0xC0
# A response longer than this is a card gone wrong, not a list of credentials.
_MAX_RESPONSE = 1 << 20
_log = logging.getLogger("pyotp_hw.token")


@runtime_checkable
class Connection(Protocol):
    """Something that carries one APDU to a card and brings back its answer."""

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one command APDU and return ``(response data, status word)``."""
        ...

    def close(self) -> None:
        """Release the card."""
        ...


class ApduChannel:
    """Sends commands with command and response chaining over a :class:`Connection`.

    ``send_remaining_ins`` is the instruction asked after a ``61xx`` status (0xA5 for OATH).
    ``extended`` makes long commands go as one extended APDU instead of a chain; the channel
    also switches to extended APDUs by itself when a card answers 6884 (chaining unsupported).
    """

    def __init__(
        self,
        connection: Connection,
        *,
        send_remaining_ins: int = INS_SEND_REMAINING,
        extended: bool = False,
    ) -> None:
        self.connection = connection
        self.send_remaining_ins = send_remaining_ins
        self.extended = extended

    def send(
        self, ins: int, p1: int = 0, p2: int = 0, data: bytes = b"", *, cla: int = 0
    ) -> tuple[bytes, int]:
        """Send one logical command and return its whole response data and final status word.

        Errors of the connection itself propagate; a status other than 9000 is returned, not
        raised, so that the caller can say what it means for this command.
        """
        if len(data) > SHORT_MAX_DATA and not self.extended:
            response, sw = self._send_chained(cla, ins, p1, p2, data)
            if sw == SW.CHAINING_NOT_SUPPORTED:
                _log.debug("chaining refused (SW 6884): %d bytes as one extended APDU", len(data))
                self.extended = True
                response, sw = self._exchange(Command(cla, ins, p1, p2, data), extended=True)
        else:
            if len(data) > EXTENDED_MAX_DATA:
                raise InvalidArgument(f"command data of {len(data)} bytes is too long")
            response, sw = self._exchange(Command(cla, ins, p1, p2, data), extended=False)
        return self._collect(response, sw)

    def _exchange(self, command: Command, *, extended: bool) -> tuple[bytes, int]:
        data, sw = self.connection.transmit(command.encode(extended=extended))
        if sw >> 8 == 0x6C:  # wrong Le: ask again with the length the card named
            retry = Command(command.cla, command.ins, command.p1, command.p2, command.data,
                            (sw & 0xFF) or 256)
            data, sw = self.connection.transmit(retry.encode(extended=extended))
        return data, sw

    def _send_chained(
        self, cla: int, ins: int, p1: int, p2: int, data: bytes
    ) -> tuple[bytes, int]:
        chunks = [data[i : i + SHORT_MAX_DATA] for i in range(0, len(data), SHORT_MAX_DATA)]
        _log.debug("%d bytes of data in a chain of %d APDUs", len(data), len(chunks))
        for chunk in chunks[:-1]:
            response, sw = self._exchange(
                Command(cla | CLA_CHAINING, ins, p1, p2, chunk), extended=False
            )
            if sw != SW.OK:
                return response, sw
        return self._exchange(Command(cla, ins, p1, p2, chunks[-1]), extended=False)

    def _collect(self, response: bytes, sw: int) -> tuple[bytes, int]:
        parts = [response]
        total = len(response)
        while sw >> 8 == 0x61:
            _log.debug("SW %04X: send remaining (INS %02X)", sw, self.send_remaining_ins)
            more, sw = self.connection.transmit(
                Command(0, self.send_remaining_ins, 0, 0).encode()
            )
            total += len(more)
            if total > _MAX_RESPONSE:
                raise ProtocolError(
                    f"the token keeps sending data ({total} bytes so far, last status "
                    f"{sw_text(sw)}): giving up"
                )
            if not more and sw >> 8 == 0x61:
                raise ProtocolError("the token announced more data but sent none")
            parts.append(more)
        return b"".join(parts), sw
