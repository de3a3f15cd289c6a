"""pyotp's ``OTP`` base class, computing every code with the project's C core.

The object keeps pyotp's public attributes (``secret``, ``digits``, ``digest``, ``name``,
``issuer``), which callers may reassign: the C key table is rebuilt from them when they change,
and a secret that became too short or invalid is refused at the next code, as pyotp refuses it.
The key table is a cache, left out of pickles and copies and rebuilt on first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import ClassVar

from .._types import Digest
from ..errors import InvalidArgument, InvalidType
from . import _engine

__all__ = ["OTP"]

_CACHE = "_pyotp_hw_core"


class OTP:
    """Base of HOTP, TOTP and Steam: a base32 secret, a digit count and an HMAC digest.

    The secret is validated at construction: strict base32 and at least
    :attr:`min_secret_length_bits` bits once decoded (subclasses may change the minimum).
    """

    #: The shortest decoded key accepted, in bits (NIST SP 800-63B-4 3.1.4.1 and 3.1.4.2).
    min_secret_length_bits: ClassVar[int] = 112

    def __init__(
        self,
        s: str | bytes,
        *,
        digits: int = 6,
        digest: Digest = hashlib.sha1,
        name: str | None = None,
        issuer: str | None = None,
    ) -> None:
        self.digits = _engine.check_digits(digits)
        self.digest = _engine.default_digest(digest)
        _engine.digest_name(self.digest)
        self.secret = s
        self.name = name or "Secret"
        self.issuer = issuer
        self._core()  # validates the secret and builds the key table

    def _core(self) -> _engine.CoreHOTP:
        """The C-core HOTP for the current secret, digest and digits (cached)."""
        own_decoder = type(self).byte_secret is not OTP.byte_secret
        # A subclass with its own byte_secret (raw keys, say) is asked each time, as pyotp does.
        source: str | bytes = self.byte_secret() if own_decoder else self.secret
        state = (source, self.digest, self.digits, self.min_secret_length_bits)
        cached = self.__dict__.get(_CACHE)
        if cached is not None and cached[0] == state:
            core: _engine.CoreHOTP = cached[1]
            return core
        key = source if own_decoder else self.byte_secret()
        if not isinstance(key, bytes):
            raise InvalidType("byte_secret() must return bytes")
        core = _engine.CoreHOTP(key, digits=self.digits, digest=_engine.digest_name(self.digest))
        self.__dict__[_CACHE] = (state, core)
        return core

    def generate_otp(self, input: int) -> str:
        """The code for the HMAC counter ``input`` (0 to 2**64-1), as ``digits`` digits."""
        counter = _engine.counter(input)
        return self._core().generate_otp(counter)

    def byte_secret(self) -> bytes:
        """The decoded key; refuses invalid base32 and keys under ``min_secret_length_bits``."""
        return _engine.decode_secret(self.secret, self.min_secret_length_bits)

    @staticmethod
    def int_to_bytestring(i: int, *, padding: int = 8) -> bytes:
        """``i`` big-endian in at least ``padding`` bytes: the HMAC message of a counter."""
        value = _engine.as_int(i, "i")
        if value < 0:
            raise InvalidArgument("i must not be negative")
        return value.to_bytes(max(padding, (value.bit_length() + 7) // 8), "big")

    def _counters_match(self, otp: object, first: int, span: int) -> int | None:
        """The lowest counter in ``[first, first + span]`` whose code equals ``otp``, or None.

        Every counter is computed and compared; a code that is not text of the right shape is
        simply not equal. A subclass that overrides ``generate_otp`` has its codes compared.
        """
        text = str(otp)
        if first < 0:
            raise InvalidArgument(
                "the window reaches before counter 0: input must be a positive integer"
            )
        if first + span > _engine.U64_MAX:
            raise InvalidArgument("the window reaches past counter 2**64-1")
        if type(self).generate_otp is OTP.generate_otp:
            return _engine.find_code(self._core(), text, self.digits, first, span)
        codes = _generated(self, first, span)
        index = _engine.first_equal(text, codes)
        return None if index is None else first + index

    def __getstate__(self) -> dict[str, object]:
        """The public attributes; the C key table is rebuilt after unpickling or copying."""
        state = dict(self.__dict__)
        state.pop(_CACHE, None)
        return state


def _generated(otp: OTP, first: int, span: int) -> Iterator[str]:
    for counter in range(first, first + span + 1):
        yield otp.generate_otp(counter)
