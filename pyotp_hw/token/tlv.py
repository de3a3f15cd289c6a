"""BER-TLV as the OATH applet uses it: one-byte tags, definite lengths up to 65535.

Both sides of the protocol use this codec: the client session to build commands and read
answers, the virtual card to read commands and build answers. A malformed or truncated
encoding raises :class:`TlvError` (a :class:`~pyotp_hw.token.errors.ProtocolError`); nothing
else escapes, whatever the bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from ..errors import InvalidArgument
from .errors import ProtocolError

__all__ = ["Tlv", "TlvError", "encode", "encode_many", "parse", "parse_dict", "first", "only"]

_MAX_LENGTH = 0xFFFF


class TlvError(ProtocolError):
    """Bytes that are not a well-formed sequence of TLVs."""


@dataclass(frozen=True)
class Tlv:
    """One tag and its value. The value stays out of ``repr``: it may be a key."""

    tag: int
    value: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Tlv(tag=0x{self.tag:02X}, length={len(self.value)})"

    def encode(self) -> bytes:
        """Return the encoded bytes of this TLV."""
        return encode(self.tag, self.value)


def _encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n <= 0xFF:
        return bytes([0x81, n])
    if n <= _MAX_LENGTH:
        return bytes([0x82, n >> 8, n & 0xFF])
    raise InvalidArgument(f"TLV value of {n} bytes is too long (at most {_MAX_LENGTH})")


def encode(tag: int, value: bytes = b"") -> bytes:
    """Encode one TLV with a one-byte ``tag``."""
    if not 0 <= tag <= 0xFF:
        raise InvalidArgument(f"TLV tag must be one byte, got {tag}")
    return bytes([tag]) + _encode_length(len(value)) + bytes(value)


def encode_many(items: Iterable[tuple[int, bytes]]) -> bytes:
    """Encode several ``(tag, value)`` pairs one after the other."""
    return b"".join(encode(tag, value) for tag, value in items)


def parse(data: bytes, *, bare: Collection[int] = ()) -> list[Tlv]:
    """Parse a sequence of TLVs.

    Tags listed in ``bare`` are followed directly by a one-byte value with no length: the OATH
    PUT command sends its property byte that way (``78 pp``).
    """
    out: list[Tlv] = []
    pos = 0
    end = len(data)
    while pos < end:
        tag = data[pos]
        pos += 1
        if tag in bare:
            if pos >= end:
                raise TlvError(f"TLV 0x{tag:02X} is missing its value byte")
            out.append(Tlv(tag, bytes(data[pos : pos + 1])))
            pos += 1
            continue
        if pos >= end:
            raise TlvError(f"TLV 0x{tag:02X} is missing its length")
        first_len = data[pos]
        pos += 1
        if first_len < 0x80:
            length = first_len
        elif first_len in (0x81, 0x82):
            nbytes = first_len - 0x80
            if pos + nbytes > end:
                raise TlvError(f"TLV 0x{tag:02X} has a truncated length")
            length = int.from_bytes(data[pos : pos + nbytes], "big")
            pos += nbytes
        else:
            raise TlvError(f"TLV 0x{tag:02X} has an unsupported length byte 0x{first_len:02X}")
        if pos + length > end:
            raise TlvError(
                f"TLV 0x{tag:02X} announces {length} bytes but only {end - pos} follow"
            )
        out.append(Tlv(tag, bytes(data[pos : pos + length])))
        pos += length
    return out


def parse_dict(data: bytes, *, bare: Collection[int] = ()) -> dict[int, bytes]:
    """Parse TLVs into a dict from tag to value (the first occurrence of a tag wins)."""
    result: dict[int, bytes] = {}
    for item in parse(data, bare=bare):
        result.setdefault(item.tag, item.value)
    return result


def first(items: Iterable[Tlv], tag: int) -> bytes | None:
    """Return the value of the first TLV with ``tag``, or None."""
    for item in items:
        if item.tag == tag:
            return item.value
    return None


def only(data: bytes, tag: int) -> bytes:
    """Parse ``data`` as exactly one TLV with ``tag`` and return its value."""
    items = parse(data)
    if len(items) != 1 or items[0].tag != tag:
        found = ", ".join(f"0x{i.tag:02X}" for i in items) or "nothing"
        raise TlvError(f"expected one TLV 0x{tag:02X}, got {found}")
    return items[0].value
