"""A software smart card: applet selection, command chaining, response chaining, power states.

The card is the card side of ISO 7816-4 as the project's clients (and ykman) use it: it decodes
command APDUs with the same codec as the client, routes SELECT by AID to its applets and passes
other commands to the selected applet. It runs in-process (:meth:`VirtualCard.connect` gives a
:class:`~pyotp_hw.token.connection.Connection`) or behind vpcd (:mod:`.vpcd`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from ..apdu import CLA_CHAINING, SW, Command, decode_response, encode_response
from ..errors import ProtocolError, TokenConnectionError

__all__ = ["Applet", "VirtualCard", "VirtualConnection", "NFC_ATR"]

#: An ATR of the shape NFC readers report for a contactless YubiKey. ykman reads the second byte
#: to tell USB (high nibble 0xF) from NFC, and an NFC card needs no USB product id.
NFC_ATR = bytes.fromhex("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 03 00 00 00 00 68")

_INS_SELECT = 0xA4
_INS_GET_RESPONSE = 0xC0
_MAX_CHAIN = 0x10000


class Applet(Protocol):
    """One application on the card."""

    #: The applet id; a SELECT whose AID is a prefix of this one (5 bytes or more) picks it.
    aid: bytes
    #: The instruction this applet uses to ask for the rest of a long response (besides C0).
    send_remaining_ins: int

    def select(self) -> tuple[bytes, int]:
        """Answer a SELECT of this applet."""
        ...

    def deselect(self) -> None:
        """Forget session state (another applet was selected, or the card lost power)."""
        ...

    def process(self, command: Command) -> tuple[bytes, int]:
        """Answer one (already de-chained) command."""
        ...


class VirtualCard:
    """A card holding ``applets``.

    ``command_chaining=False`` answers chained commands with 6884, as a Nitrokey 3 does.
    ``max_response_chunk`` is the most data one response carries before ``61xx``.
    ``stall_on`` is a fault-injection hook for tests: when a command with one of these
    instructions arrives, ``on_stall(command)`` is called before the command is processed (the
    virtual-token command uses it to block until the process is killed mid-command).
    """

    def __init__(
        self,
        applets: Iterable[Applet],
        *,
        atr: bytes = NFC_ATR,
        command_chaining: bool = True,
        max_response_chunk: int = 255,
        stall_on: Iterable[int] = (),
        on_stall: Callable[[Command], None] | None = None,
    ) -> None:
        self.applets = list(applets)
        self.atr = atr
        self.command_chaining = command_chaining
        self.max_response_chunk = max_response_chunk
        self.stall_on = frozenset(stall_on)
        self.on_stall = on_stall
        self.powered = False
        self._selected: Applet | None = None
        self._remaining = b""
        self._chain: tuple[int, int, int, int] | None = None
        self._chain_data = bytearray()
        self._lock = threading.RLock()

    # --- power --------------------------------------------------------------------------------

    def power_on(self) -> bytes:
        """Power the card up and return its ATR.

        An applet with a ``power_up()`` method is told (the FIDO applet makes new PIN keys).
        """
        with self._lock:
            self._clear_session()
            self.powered = True
            for applet in self.applets:
                power_up = getattr(applet, "power_up", None)
                if power_up is not None:
                    power_up()
            return self.atr

    def power_off(self) -> None:
        """Remove power: every applet forgets its session state."""
        with self._lock:
            self._clear_session()
            self.powered = False

    def reset(self) -> bytes:
        """Warm reset; returns the ATR."""
        return self.power_on()

    def _clear_session(self) -> None:
        if self._selected is not None:
            self._selected.deselect()
        self._selected = None
        self._remaining = b""
        self._chain = None
        self._chain_data.clear()

    # --- commands -----------------------------------------------------------------------------

    def connect(self) -> VirtualConnection:
        """Power the card and return an in-process connection to it."""
        self.power_on()
        return VirtualConnection(self)

    def process(self, raw: bytes) -> bytes:
        """Answer one command APDU (bytes in, response APDU bytes out)."""
        with self._lock:
            data, sw = self._process(raw)
            return encode_response(data, sw)

    def _process(self, raw: bytes) -> tuple[bytes, int]:
        try:
            command = Command.decode(raw)
        except ProtocolError:
            return b"", SW.WRONG_LENGTH
        if command.ins in self.stall_on and self.on_stall is not None:
            self.on_stall(command)
        applet = self._selected
        continuation = command.cla & CLA_CHAINING == 0 and (
            command.ins == _INS_GET_RESPONSE
            or (applet is not None and command.ins == applet.send_remaining_ins)
        )
        if continuation and self._remaining:
            return self._chunk(self._remaining, command.le)
        self._remaining = b""

        command_or_status = self._dechain(command)
        if isinstance(command_or_status, int):
            return b"", command_or_status
        command = command_or_status

        if command.cla == 0 and command.ins == _INS_SELECT and command.p1 == 0x04:
            data, sw = self._select(command.data)
        elif applet is None:
            data, sw = b"", SW.INS_NOT_SUPPORTED
        else:
            data, sw = applet.process(command)
        if sw == SW.OK:
            return self._chunk(data, command.le)
        return data, sw

    def _dechain(self, command: Command) -> Command | int:
        header = (command.cla & ~CLA_CHAINING, command.ins, command.p1, command.p2)
        if command.cla & CLA_CHAINING:
            if not self.command_chaining:
                return SW.CHAINING_NOT_SUPPORTED
            if self._chain is not None and self._chain != header:
                self._chain = None
                self._chain_data.clear()
                return SW.LAST_COMMAND_EXPECTED
            if len(self._chain_data) + len(command.data) > _MAX_CHAIN:
                self._chain = None
                self._chain_data.clear()
                return SW.WRONG_LENGTH
            self._chain = header
            self._chain_data += command.data
            return SW.OK
        if self._chain is None:
            return command
        if self._chain != header:
            self._chain = None
            self._chain_data.clear()
            return SW.LAST_COMMAND_EXPECTED
        data = bytes(self._chain_data) + command.data
        self._chain = None
        self._chain_data.clear()
        return Command(header[0], command.ins, command.p1, command.p2, data, command.le)

    def _select(self, aid: bytes) -> tuple[bytes, int]:
        for applet in self.applets:
            if len(aid) >= 5 and applet.aid.startswith(aid):
                if self._selected is not None and self._selected is not applet:
                    self._selected.deselect()
                self._selected = applet
                return applet.select()
        if self._selected is not None:
            self._selected.deselect()
        self._selected = None
        return b"", SW.FILE_NOT_FOUND

    def _chunk(self, data: bytes, le: int | None) -> tuple[bytes, int]:
        size = self.max_response_chunk if le is None else min(le, self.max_response_chunk)
        if len(data) <= size:
            self._remaining = b""
            return data, SW.OK
        self._remaining = data[size:]
        left = len(self._remaining)
        return data[:size], 0x6100 | (left if left < 256 else 0)


class VirtualConnection:
    """An in-process :class:`~pyotp_hw.token.connection.Connection` to a :class:`VirtualCard`."""

    def __init__(self, card: VirtualCard) -> None:
        self.card = card
        self.closed = False

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one APDU to the card and return ``(data, sw)``."""
        if self.closed or not self.card.powered:
            raise TokenConnectionError("the virtual card is not connected")
        return decode_response(self.card.process(apdu))

    def close(self) -> None:
        """Disconnect, resetting the card as a PC/SC disconnect with SCARD_RESET_CARD does."""
        if not self.closed:
            self.closed = True
            self.card.reset()
