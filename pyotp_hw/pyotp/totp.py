"""pyotp's ``TOTP``: time-based codes (RFC 6238) from the C core.

Times are Unix timestamps (int or float) or datetimes: aware ones are converted to UTC, naive
ones are read as local time honouring ``fold`` (the second of two repeated wall-clock times),
fractions of a second are dropped. Only times from the epoch to the end of year 9999 UTC are
accepted.
"""

from __future__ import annotations

import calendar
import datetime
import time
from typing import Any

from .._types import Digest
from ..errors import InvalidArgument, InvalidType
from . import _engine, utils
from .exceptions import OTPVerificationError
from .otp import OTP

__all__ = ["TOTP"]

_TIMESTAMP_LIMIT = 253_402_300_800  # 10000-01-01T00:00:00Z, the first second refused
_RANGE_MESSAGE = "for_time must be at or after the Unix epoch and before the year 10000 (UTC)"

Time = int | float | datetime.datetime


class TOTP(OTP):
    """Time-based one-time passwords: the HOTP code of ``timecode(t) = floor(t / interval)``."""

    def __init__(
        self,
        s: str | bytes,
        *,
        digits: int = 6,
        digest: Digest | None = None,
        name: str | None = None,
        issuer: str | None = None,
        interval: int = 30,
    ) -> None:
        """Take a base32 secret ``s``; ``interval`` in seconds, above 0 and at most 120."""
        digest = _engine.default_digest(digest)
        self.interval = _engine.check_interval(interval)
        super().__init__(s=s, digits=digits, digest=digest, name=name, issuer=issuer)

    def timecode(self, for_time: Time) -> int:
        """The time step of ``for_time``: whole seconds since the epoch divided by ``interval``."""
        stamp: float
        if isinstance(for_time, datetime.datetime):
            try:
                if for_time.tzinfo:
                    stamp = calendar.timegm(for_time.utctimetuple())
                else:
                    # datetime.timestamp() reads a naive time as local time and honours fold.
                    stamp = for_time.replace(microsecond=0).timestamp()
            except (OverflowError, OSError, ValueError):
                raise InvalidArgument(_RANGE_MESSAGE) from None
        else:
            stamp = for_time
        try:
            in_range = bool(0 <= stamp < _TIMESTAMP_LIMIT)
        except TypeError:
            raise InvalidType(
                "for_time must be a Unix timestamp (int or float) or a datetime, "
                f"not {type(for_time).__name__}"
            ) from None
        if not in_range:
            raise InvalidArgument(_RANGE_MESSAGE)
        # The same float division as pyotp, so that a fractional interval steps identically.
        return int(int(stamp) / self.interval)

    def at(self, for_time: Time, *, counter_offset: int = 0) -> str:
        """The code at ``for_time``, ``counter_offset`` steps later (or earlier when negative)."""
        return self.generate_otp(
            _engine.counter_sum(self.timecode(for_time), counter_offset, "counter_offset")
        )

    def now(self) -> str:
        """The code for the current time."""
        return self.generate_otp(self.timecode(time.time()))

    def verify(self, otp: object, *, for_time: Time | None = None, valid_window: int = 0) -> bool:
        """True when ``otp`` is the code of a step within ``valid_window`` steps of ``for_time``.

        ``for_time`` defaults to now. A malformed code is simply False; a negative window
        matches nothing. Codes are compared in constant time, every step of the window computed.
        """
        if for_time is None:
            for_time = time.time()
        step = self.timecode(for_time)
        window = _engine.window(valid_window)
        if window < 0:
            return False
        return self._counters_match(otp, step - window, 2 * window) is not None

    def verify_and_get_timecode(
        self, otp: object, *, for_time: Time | None = None, valid_window: int = 0
    ) -> int:
        """The time step that ``otp`` matches (the earliest in the window).

        Raises :class:`~pyotp_hw.pyotp.exceptions.OTPVerificationError` when no step matches
        (unlike :meth:`verify`, which returns False). Storing the returned step and refusing
        codes at or before it stops a code from being used twice.
        """
        if for_time is None:
            for_time = time.time()
        window = _engine.window(valid_window)
        if window < 0:
            raise InvalidArgument("valid_window cannot be negative")
        step = self.timecode(for_time)
        matched = self._counters_match(otp, step - window, 2 * window)
        if matched is None:
            raise OTPVerificationError("the code matches no time step in the window")
        return matched

    def provisioning_uri(
        self, *, name: str | None = None, issuer_name: str | None = None, **kwargs: Any
    ) -> str:
        """An ``otpauth://totp/...`` URI for authenticator apps (it contains the secret)."""
        utils.refuse_clashes(kwargs, ("secret", "issuer", "algorithm", "digits", "period"))
        return utils.build_uri(
            self.secret,
            name if name else self.name,
            issuer=issuer_name if issuer_name else self.issuer,
            algorithm=_engine.digest_name(self.digest),
            digits=self.digits,
            period=self.interval,
            **kwargs,
        )
