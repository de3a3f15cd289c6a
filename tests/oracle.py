"""Independent oracle for the tests: RFC 4226 written directly on Python's hmac module."""

from __future__ import annotations

import hashlib
import hmac
import struct

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
STEAM_ALPHABET = "23456789BCDFGHJKMNPQRTVWXY"


def truncated(key: bytes, counter: int, digest: str = "sha1") -> int:
    """The 31-bit dynamic truncation of HMAC(key, counter) (RFC 4226 section 5.3)."""
    mac = hmac.new(key, struct.pack(">Q", counter), DIGESTS[digest]).digest()
    offset = mac[-1] & 0x0F
    return int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF


def hotp(key: bytes, counter: int, digits: int = 6, digest: str = "sha1") -> str:
    """The zero-padded HOTP code."""
    return str(truncated(key, counter, digest) % 10**digits).zfill(digits)


def totp(key: bytes, t: int, digits: int = 6, digest: str = "sha1", period: int = 30,
         t0: int = 0) -> str:
    """The zero-padded TOTP code."""
    return hotp(key, (t - t0) // period, digits, digest)


def steam(key: bytes, t: int) -> str:
    """The 5-character Steam Guard code."""
    value = truncated(key, t // 30)
    out = []
    for _ in range(5):
        value, i = divmod(value, 26)
        out.append(STEAM_ALPHABET[i])
    return "".join(out)
