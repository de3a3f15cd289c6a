"""The CBOR subset CTAP2 speaks, in its canonical form (CTAP 2.1 section 8).

Values: unsigned and negative integers (64-bit), byte strings, text strings, arrays, maps,
``false``, ``true`` and ``null``. Encoding writes every length in its shortest form and sorts map
keys by their encoded bytes, shortest first (the "CTAP2 canonical CBOR encoding form"). Decoding
refuses what CTAP2 forbids (indefinite lengths, tags, floating point numbers, other simple
values, duplicate map keys, more than :data:`MAX_DEPTH` levels of nesting, text that is not
UTF-8) and trailing bytes; it never allocates more than the input holds. Every refusal is a
:class:`CborError` (a :class:`~pyotp_hw.token.errors.ProtocolError`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from ...._types import CBORValue
from ....errors import InvalidArgument, InvalidType
from ...errors import ProtocolError

__all__ = ["CborError", "MAX_DEPTH", "encode", "decode", "decode_prefix"]

#: CTAP2 messages nest at most four levels deep (a map inside a map inside a map inside a map).
MAX_DEPTH = 4

_UINT, _NEGINT, _BYTES, _TEXT, _ARRAY, _MAP, _TAG, _SIMPLE = range(8)
_FALSE, _TRUE, _NULL = 20, 21, 22


class CborError(ProtocolError):
    """The bytes are not CTAP2 CBOR (the authenticator answers CTAP2_ERR_INVALID_CBOR)."""


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise InvalidArgument("a CBOR integer or length must fit in 64 bits")


def encode(value: object) -> bytes:
    """Return the canonical CTAP2 encoding of ``value``.

    Accepts bool, int (within 64 bits), bytes, str, None, sequences (lists, tuples) and mappings
    with keys of those scalar types. Raises :class:`~pyotp_hw.errors.InvalidArgument` (a
    ``ValueError``) or :class:`~pyotp_hw.errors.InvalidType` (a ``TypeError``) for anything else:
    the encoder serves the authenticator's own answers, so a refusal is a bug in the caller.
    """
    if value is None:
        return bytes([_SIMPLE << 5 | _NULL])
    if isinstance(value, bool):
        return bytes([_SIMPLE << 5 | (_TRUE if value else _FALSE)])
    if isinstance(value, int):
        if value >= 0:
            return _head(_UINT, value)
        return _head(_NEGINT, -1 - value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return _head(_BYTES, len(data)) + data
    if isinstance(value, str):
        text = value.encode("utf-8")
        return _head(_TEXT, len(text)) + text
    if isinstance(value, Mapping):
        items = sorted(
            ((encode(k), encode(v)) for k, v in value.items()),
            key=lambda kv: (len(kv[0]), kv[0]),
        )
        for (a, _), (b, _) in itertools.pairwise(items):
            if a == b:
                raise InvalidArgument("a CBOR map has the same key twice")
        return _head(_MAP, len(items)) + b"".join(k + v for k, v in items)
    if isinstance(value, Sequence):
        return _head(_ARRAY, len(value)) + b"".join(encode(v) for v in value)
    raise InvalidType(f"CTAP2 CBOR cannot encode a {type(value).__name__}")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise CborError("CBOR item runs past the end of the message")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def head(self) -> tuple[int, int]:
        first = self.take(1)[0]
        major, info = first >> 5, first & 0x1F
        if major == _SIMPLE:
            return major, info
        if info < 24:
            return major, info
        if info > 27:
            # 28-30 are reserved, 31 is an indefinite length: CTAP2 allows neither.
            raise CborError("CBOR indefinite lengths and reserved encodings are not allowed")
        return major, int.from_bytes(self.take(1 << (info - 24)), "big")

    def item(self, depth: int) -> CBORValue:
        major, arg = self.head()
        if major == _UINT:
            return arg
        if major == _NEGINT:
            return -1 - arg
        if major == _BYTES:
            return self.take(arg)
        if major == _TEXT:
            try:
                return self.take(arg).decode("utf-8")
            except UnicodeDecodeError:
                raise CborError("CBOR text string is not UTF-8") from None
        if major in (_ARRAY, _MAP):
            if depth >= MAX_DEPTH:
                raise CborError(f"CBOR nests deeper than {MAX_DEPTH} levels")
            # Every element takes at least one byte: a count beyond the input is a lie.
            if arg > len(self.data) - self.pos:
                raise CborError("CBOR container claims more items than the message holds")
            if major == _ARRAY:
                return [self.item(depth + 1) for _ in range(arg)]
            out: dict[CBORValue, CBORValue] = {}
            for _ in range(arg):
                key = self.item(depth + 1)
                if isinstance(key, bool) or not isinstance(key, (int, str, bytes)):
                    raise CborError("a CBOR map key must be an integer or a string")
                if key in out:
                    raise CborError("a CBOR map has the same key twice")
                out[key] = self.item(depth + 1)
            return out
        if major == _TAG:
            raise CborError("CBOR tags are not allowed in CTAP2")
        if arg == _FALSE:
            return False
        if arg == _TRUE:
            return True
        if arg == _NULL:
            return None
        raise CborError("CBOR floats and simple values other than true/false/null are not allowed")


def decode_prefix(data: bytes) -> tuple[CBORValue, int]:
    """Decode one item at the start of ``data``; return it and the number of bytes it took."""
    reader = _Reader(bytes(data))
    value = reader.item(0)
    return value, reader.pos


def decode(data: bytes) -> CBORValue:
    """Decode exactly one CTAP2 CBOR item; trailing bytes are an error."""
    value, used = decode_prefix(data)
    if used != len(data):
        raise CborError("bytes left over after the CBOR item")
    return value
