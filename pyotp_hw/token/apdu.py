"""ISO 7816-4 APDUs: command encoding and decoding, responses, and status words by name.

The client encodes commands and decodes responses; the virtual card does the reverse. Command
data never appears in ``repr`` (it may carry a key or a password hash).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from ..errors import InvalidArgument
from .errors import ProtocolError

__all__ = [
    "SW",
    "sw_text",
    "Command",
    "encode_response",
    "decode_response",
    "SHORT_MAX_DATA",
    "EXTENDED_MAX_DATA",
    "CLA_CHAINING",
]

SHORT_MAX_DATA = 255
EXTENDED_MAX_DATA = 65535
#: Bit set in CLA on every command of a chain but the last (ISO 7816-4 command chaining).
CLA_CHAINING = 0x10


class SW(IntEnum):
    """Status words the OATH applet and its clients use (``SW1 SW2`` as one integer)."""

    OK = 0x9000
    MORE_DATA = 0x6100  # SW1 0x61; SW2 is the number of bytes waiting (0 = 256 or more)
    VERIFY_FAILED = 0x63C0  # SW2 low nibble: retries left (Nitrokey PIN)
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    LAST_COMMAND_EXPECTED = 0x6883
    CHAINING_NOT_SUPPORTED = 0x6884
    SECURITY_NOT_SATISFIED = 0x6982  # authentication required, touch timeout
    AUTH_METHOD_BLOCKED = 0x6983  # Nitrokey: PIN blocked; PUT on an existing name
    NO_SUCH_OBJECT = 0x6984  # reference data not usable
    CONDITIONS_NOT_SATISFIED = 0x6985
    WRONG_DATA = 0x6A80  # wrong syntax; on VALIDATE: wrong password
    FILE_NOT_FOUND = 0x6A82  # applet (or, on a Nitrokey, credential) not found
    NO_SPACE = 0x6A84
    WRONG_P1P2 = 0x6A86
    WRONG_LE = 0x6C00  # SW1 0x6C; SW2 is the right Le
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    UNKNOWN_ERROR = 0x6F00


_TEXT = {
    SW.OK: "success",
    SW.MEMORY_FAILURE: "memory failure",
    SW.WRONG_LENGTH: "wrong length",
    SW.LAST_COMMAND_EXPECTED: "last command of the chain expected",
    SW.CHAINING_NOT_SUPPORTED: "command chaining not supported",
    SW.SECURITY_NOT_SATISFIED: "security status not satisfied",
    SW.AUTH_METHOD_BLOCKED: "authentication method blocked / conflict",
    SW.NO_SUCH_OBJECT: "no such object",
    SW.CONDITIONS_NOT_SATISFIED: "conditions of use not satisfied",
    SW.WRONG_DATA: "wrong data",
    SW.FILE_NOT_FOUND: "not found",
    SW.NO_SPACE: "not enough memory",
    SW.WRONG_P1P2: "wrong P1/P2",
    SW.INS_NOT_SUPPORTED: "instruction not supported",
    SW.CLA_NOT_SUPPORTED: "class not supported",
    SW.UNKNOWN_ERROR: "unknown error",
}


def sw_text(sw: int) -> str:
    """Return ``'6A84 (not enough memory)'`` style text for a status word."""
    if sw >> 8 == 0x61:
        meaning = "more data available"
    elif sw >> 8 == 0x6C:
        meaning = "wrong Le"
    elif sw & 0xFFF0 == 0x63C0:
        meaning = f"verification failed, {sw & 0x0F} tries left"
    else:
        try:
            meaning = _TEXT.get(SW(sw), "unknown status")
        except ValueError:
            meaning = "unknown status"
    return f"{sw:04X} ({meaning})"


@dataclass(frozen=True)
class Command:
    """A command APDU. ``le`` is None when no response length is given (0 means the maximum)."""

    cla: int
    ins: int
    p1: int = 0
    p2: int = 0
    data: bytes = field(default=b"", repr=False)
    le: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise InvalidArgument(f"APDU {name} must be one byte, got {value}")
        if len(self.data) > EXTENDED_MAX_DATA:
            raise InvalidArgument(f"APDU data of {len(self.data)} bytes is too long")
        if self.le is not None and not 0 <= self.le <= 0x10000:
            raise InvalidArgument(f"APDU Le must be between 0 and 65536, got {self.le}")

    def __repr__(self) -> str:
        return (
            f"Command(cla=0x{self.cla:02X}, ins=0x{self.ins:02X}, p1=0x{self.p1:02X}, "
            f"p2=0x{self.p2:02X}, data_length={len(self.data)}, le={self.le})"
        )

    def encode(self, *, extended: bool = False) -> bytes:
        """Encode as a short APDU, or as an extended one when ``extended`` or when needed."""
        header = bytes([self.cla, self.ins, self.p1, self.p2])
        need_ext = len(self.data) > SHORT_MAX_DATA or (self.le is not None and self.le > 256)
        if not (extended or need_ext):
            body = b""
            if self.data:
                body += bytes([len(self.data)]) + self.data
            if self.le is not None:
                body += bytes([self.le & 0xFF])
            return header + body
        body = b""
        if self.data:
            body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
        if self.le is not None:
            le = self.le & 0xFFFF
            body += le.to_bytes(2, "big") if self.data else b"\x00" + le.to_bytes(2, "big")
        return header + body

    @classmethod
    def decode(cls, raw: bytes) -> Command:
        """Decode a command APDU (cases 1 to 4, short or extended); raise ProtocolError if bad."""
        n = len(raw)
        if n < 4:
            raise ProtocolError(f"command APDU of {n} bytes is shorter than its header")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        if body[0] != 0:
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if len(body) == 2 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1 : 1 + lc]), body[1 + lc] or 256)
            raise ProtocolError("command APDU length does not match its Lc")
        # Extended: a zero byte then two-byte lengths.
        if len(body) == 3:
            return cls(cla, ins, p1, p2, le=int.from_bytes(body[1:3], "big") or 65536)
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise ProtocolError("extended command APDU has a zero Lc")
        rest = body[3:]
        if len(rest) == lc:
            return cls(cla, ins, p1, p2, bytes(rest))
        if len(rest) == lc + 2:
            le = int.from_bytes(rest[lc:], "big") or 65536
            return cls(cla, ins, p1, p2, bytes(rest[:lc]), le)
        raise ProtocolError("extended command APDU length does not match its Lc")


def encode_response(data: bytes, sw: int) -> bytes:
    """Return the response APDU bytes: data then SW1 SW2."""
    return bytes(data) + sw.to_bytes(2, "big")


def decode_response(raw: bytes) -> tuple[bytes, int]:
    """Split a response APDU into ``(data, sw)``."""
    if len(raw) < 2:
        raise ProtocolError(f"response APDU of {len(raw)} bytes has no status word")
    return bytes(raw[:-2]), int.from_bytes(raw[-2:], "big")
