"""The C library's and liboath's conversions exactly as oathtool 2.6.7 applies them.

Integer wrap-around of C's fixed-width types, ``strtol``/``strtoull`` with base 0, truncating
division, liboath's hex and base32 key decoders (which accept what :mod:`pyotp_hw.keys` would
refuse and the other way round: oathtool's answers are the point here), and glibc's UTC time
format.
"""

from __future__ import annotations

from ._gnumktime import c_div, civil_from_days

__all__ = ["base32_decode", "c_div", "c_strtol", "hex_decode", "strftime_utc", "wrap32",
           "wrap64"]

_U64 = 1 << 64
_U32 = 1 << 32


def wrap64(value: int) -> int:
    value %= _U64
    return value - _U64 if value >= 1 << 63 else value


def wrap32(value: int) -> int:
    value %= _U32
    return value - _U32 if value >= 1 << 31 else value


_SPACE = frozenset(b" \t\n\v\f\r")


def c_strtol(text: bytes, unsigned: bool) -> tuple[int, bool]:
    """C ``strtol``/``strtoull`` with base 0: (value, whether the whole string was used).

    Overflow saturates as in C; a negative number given to strtoull wraps modulo 2**64.
    """
    i = 0
    while i < len(text) and text[i] in _SPACE:
        i += 1
    negative = False
    if i < len(text) and text[i] in b"+-":
        negative = text[i] == ord("-")
        i += 1
    base = 10
    digits = "0123456789"
    if text[i:i + 2] in (b"0x", b"0X") and i + 2 < len(text) and chr(text[i + 2]) in (
            "0123456789abcdefABCDEF"):
        base, digits, i = 16, "0123456789abcdefABCDEF", i + 2
    elif text[i:i + 1] == b"0":
        base, digits = 8, "01234567"
    start = i
    while i < len(text) and chr(text[i]) in digits:
        i += 1
    if i == start:
        return 0, len(text) == 0
    magnitude = int(text[start:i], base)
    whole = i == len(text)
    if unsigned:
        if magnitude >= _U64:
            return _U64 - 1, whole
        return (-magnitude) % _U64 if negative else magnitude, whole
    value = -magnitude if negative else magnitude
    return max(-(1 << 63), min((1 << 63) - 1, value)), whole


def hex_decode(text: bytes) -> bytes | None:
    if len(text) % 2 or any(c not in b"0123456789abcdefABCDEF" for c in text):
        return None
    return bytes.fromhex(text.decode("ascii"))


_B32 = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}


def base32_decode(text: bytes) -> bytes | None:
    """liboath's base32: spaces dropped, case folded, padding added, then gnulib's decoder.

    gnulib decodes 8-character blocks and accepts a padded block anywhere, not only last.
    """
    chars = bytearray(text.replace(b" ", b"").upper())
    chars += b"=" * {2: 6, 4: 4, 5: 3, 7: 1}.get(len(chars) % 8, 0)
    if len(chars) % 8:
        return None
    out = bytearray()
    for pos in range(0, len(chars), 8):
        block = chars[pos:pos + 8]
        data = block.rstrip(b"=")
        if len(data) not in (2, 4, 5, 7, 8) or any(c not in _B32 for c in data):
            return None
        bits = 0
        for c in data:
            bits = (bits << 5) | _B32[c]
        nbytes = {2: 1, 4: 2, 5: 3, 7: 4, 8: 5}[len(data)]
        bits >>= len(data) * 5 - nbytes * 8
        out += bits.to_bytes(nbytes, "big")
    return bytes(out)


def strftime_utc(t: int) -> bytes | None:
    """glibc ``gmtime_r`` + ``strftime("%Y-%m-%d %H:%M:%S UTC")``; None where gmtime_r fails."""
    days, secs = divmod(t, 86400)
    year, month, day = civil_from_days(days)
    if not -(1 << 31) <= year - 1900 <= (1 << 31) - 1:
        return None
    text = (f"{wrap32(year)}-{month:02d}-{day:02d} "
            f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d} UTC")
    return text.encode("ascii")
