"""Secrets: base32 decoding that forgives what users paste, and secret generation."""

from __future__ import annotations

import base64
import re
import secrets as _secrets

from ._numbers import whole
from .errors import InvalidSecret, InvalidType

__all__ = [
    "BASE32_ALPHABET",
    "decode_base32",
    "encode_base32",
    "decode_secret",
    "decode_letters",
    "secret_and_text",
    "random_base32",
    "random_secret",
]

BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_VALUE = {c: i for i, c in enumerate(BASE32_ALPHABET)}
# A group of 8 base32 characters carries 5 bytes; these remainders cannot end a valid encoding.
_IMPOSSIBLE_REMAINDERS = {1, 3, 6}
_LOOKALIKES = {
    "0": "the letter O",
    "1": "the letter I or L",
    "8": "the letter B",
    "9": "the letter G",
}
_IGNORED = {" ", "-", "\t", "\n", "\r"}
# What most secrets look like: base32 letters (any case) and optional trailing padding only.
_PLAIN = re.compile(r"[A-Za-z2-7]+=*")
_LETTERS = re.compile(r"[A-Za-z2-7]+")
# Already canonical and a whole number of 5-byte groups, so no trailing bits to normalise.
_CANONICAL = re.compile(r"(?:[A-Z2-7]{8})+")
# Base32 letters to the digits of int(..., 32), which reads 0-9 then a-v: A..Z2..7 is 0..31.
_AS_BASE32_INT = str.maketrans(
    BASE32_ALPHABET + BASE32_ALPHABET.lower(), "0123456789abcdefghijklmnopqrstuv" * 2
)


def _describe(ch: str) -> str:
    # Invalid characters carry no key bits, so naming them reveals nothing about the secret.
    if ch in _LOOKALIKES:
        return f"digit {ch!r} (did you mean {_LOOKALIKES[ch]}?)"
    if ch.isprintable() and len(ch.encode("utf-8")) == 1:
        return repr(ch)
    return f"U+{ord(ch):04X}"


def decode_base32(text: str) -> bytes:
    """Decode a base32 secret the way users paste it.

    Lowercase letters, spaces, tabs, line breaks and hyphens are accepted, and padding may be
    missing, complete or excessive. Anything else raises :class:`InvalidSecret` naming the first
    offending character and its position (never the secret itself).
    """
    if not isinstance(text, str):
        raise InvalidType(f"base32 secret must be str, not {type(text).__name__}")
    if _PLAIN.fullmatch(text):
        # The common shape, decoded at C speed; anything else (and every error) takes the loop.
        plain = decode_letters(text.rstrip("="))
        if plain is not None:
            return plain
    bits = 0
    nbits = 0
    out = bytearray()
    seen_padding = False
    count = 0
    for pos, ch in enumerate(text):
        if ch in _IGNORED:
            continue
        if ch == "=":
            seen_padding = True
            continue
        value = _VALUE.get(ch.upper()) if ch.isascii() else None
        if value is None:
            raise InvalidSecret(
                f"secret is not valid base32: character {pos + 1} is {_describe(ch)}; "
                "base32 uses the letters A-Z and the digits 2-7"
            )
        if seen_padding:
            raise InvalidSecret(
                f"secret is not valid base32: padding '=' before character {pos + 1}"
            )
        bits = (bits << 5) | value
        nbits += 5
        count += 1
        if nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)
            bits &= (1 << nbits) - 1
    if count == 0:
        raise InvalidSecret("secret is empty")
    if count % 8 in _IMPOSSIBLE_REMAINDERS:
        raise InvalidSecret(
            f"secret is not valid base32: {count} characters cannot end a base32 string "
            "(a character is missing or extra)"
        )
    result = bytes(out)
    out[:] = bytes(len(out))
    return result


def decode_letters(core: str) -> bytes | None:
    """The key of ``core`` when it is base32 letters only (either case, no padding, spaces or
    other characters) of a length base32 can end on; None otherwise.

    Decoded as one big number; trailing bits that do not fill a byte are dropped, as
    :func:`decode_base32` and :func:`base64.b32decode` drop them.
    """
    if len(core) % 8 in _IMPOSSIBLE_REMAINDERS or not _LETTERS.fullmatch(core):
        return None
    nbits = 5 * len(core)
    value = int(core.translate(_AS_BASE32_INT), 32) >> (nbits % 8)
    return value.to_bytes(nbits // 8, "big")


def encode_base32(data: bytes, *, padding: bool = False) -> str:
    """Encode raw bytes as uppercase base32, without padding unless asked for."""
    text = base64.b32encode(bytes(data)).decode("ascii")
    return text if padding else text.rstrip("=")


def decode_secret(secret: str | bytes | bytearray | memoryview) -> bytes:
    """Return the raw key bytes of a secret given as base32 text or as raw bytes."""
    if isinstance(secret, str):
        return decode_base32(secret)
    if isinstance(secret, (bytes, bytearray, memoryview)):
        raw = bytes(secret)
        if not raw:
            raise InvalidSecret("secret is empty")
        return raw
    raise InvalidType(f"secret must be a base32 str or bytes, not {type(secret).__name__}")


def secret_and_text(secret: str | bytes | bytearray | memoryview) -> tuple[bytes, str | None]:
    """The key bytes of a secret and, when it is one already, its canonical base32 text.

    The text (upper case, no padding) is the str given when it is in that form; None otherwise,
    for the caller to encode only if it is asked for (``encode_base32(key)``).
    """
    key = decode_secret(secret)
    if isinstance(secret, str) and _CANONICAL.fullmatch(secret):
        return key, secret
    return key, None


def random_secret(nbytes: int = 20) -> bytes:
    """Return ``nbytes`` random key bytes from the OS CSPRNG (16 or more; default 20: 160 bits)."""
    nbytes = whole(nbytes, "nbytes")
    if nbytes < 16:
        raise InvalidSecret(f"nbytes must be at least 16 (128 bits), got {nbytes}")
    return _secrets.token_bytes(nbytes)


def random_base32(length: int = 32) -> str:
    """Return a random base32 secret of ``length`` characters (default 32 = 160 bits).

    The length must be at least 26 (128 bits) and a length that base32 can end on.
    """
    length = whole(length, "length")
    if length < 26:
        raise InvalidSecret(f"length must be at least 26 characters (128 bits), got {length}")
    if length % 8 in _IMPOSSIBLE_REMAINDERS:
        raise InvalidSecret(f"length {length} cannot end a base32 string; use a multiple of 8")
    return "".join(_secrets.choice(BASE32_ALPHABET) for _ in range(length))
