"""pyotp's ``Steam``: Steam Guard codes, five characters of Steam's alphabet.

As in pyotp 2.12, the object is a TOTP over 30-second steps with SHA-1 whose 10-digit value
(the whole 31-bit truncation) is written in base 26, least significant character first.
``interval`` and ``digits`` are checked or accepted, but pyotp uses 30 s and ``digits`` 10
whatever they say, and so does this (the codes then agree with Steam's app and with pyotp).
"""

from __future__ import annotations

import hashlib

from .. import _engine
from ..totp import TOTP

__all__ = ["Steam", "STEAM_CHARS", "STEAM_DEFAULT_DIGITS"]

STEAM_CHARS = "23456789BCDFGHJKMNPQRTVWXY"  # Steam's 26 characters
STEAM_DEFAULT_DIGITS = 5  # characters per Steam code


class Steam(TOTP):
    """Steam Guard's TOTP variant; a subclass of :class:`pyotp_hw.pyotp.totp.TOTP`."""

    def __init__(
        self,
        s: str | bytes,
        *,
        name: str | None = None,
        issuer: str | None = None,
        interval: int = 30,
        digits: int = 5,
    ) -> None:
        """Take a base32 secret ``s``; ``interval`` must be above 0 and at most 120."""
        _engine.check_interval(interval)
        super().__init__(s=s, digits=10, digest=hashlib.sha1, name=name, issuer=issuer)

    def generate_otp(self, input: int) -> str:
        """The five-character Steam code for the HMAC counter ``input``."""
        value = int(super().generate_otp(input))
        chars = []
        for _ in range(STEAM_DEFAULT_DIGITS):
            value, index = divmod(value, len(STEAM_CHARS))
            chars.append(STEAM_CHARS[index])
        return "".join(chars)
