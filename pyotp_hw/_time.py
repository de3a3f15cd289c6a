"""The one reader of times the package accepts: Unix seconds or an aware datetime.

Every layer that takes a time from a caller (``for_time`` of the OTP objects and the batch API,
the token's ``calculate``, the verifier's ``now``) reads it here, so the same values are accepted
everywhere with the same messages: an int (or anything with ``__index__``), a finite float, or a
datetime that carries a zone. Naive datetimes are refused (local time is ambiguous), as are
booleans. :func:`floor_seconds` gives whole seconds (what a time step is computed from);
:func:`exact_seconds` keeps fractions (delays and lock times).
"""

from __future__ import annotations

import datetime as _dt
import math

from .errors import InvalidArgument, InvalidType

__all__ = ["I64_MAX", "I64_MIN", "exact_seconds", "floor_seconds"]

I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _parts(value: object, name: str) -> tuple[int, float]:
    """``(whole seconds, fraction in [0, 1))`` of a caller's time, checked for type."""
    if isinstance(value, bool):
        raise InvalidType(f"{name} must be Unix seconds or an aware datetime, not bool")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidArgument(
                f"{name} is a naive datetime; give an aware one (naive local time is ambiguous)"
            )
        delta = value - _EPOCH
        return delta.days * 86400 + delta.seconds, delta.microseconds / 1e6
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"{name} must be a finite number of seconds")
        whole = math.floor(value)
        return whole, value - whole
    index = getattr(value, "__index__", None)
    if index is not None:
        return int(index()), 0.0
    raise InvalidType(
        f"{name} must be Unix seconds or an aware datetime, not {type(value).__name__}"
    )


def _check_range(whole: int, name: str, minimum: int, maximum: int) -> None:
    if whole < minimum:
        raise InvalidArgument(f"{name} must not be negative" if minimum == 0
                              else f"{name} must be at least {minimum} (Unix seconds)")
    if whole > maximum:
        raise InvalidArgument(f"{name} must be at most {maximum} (Unix seconds)")


def floor_seconds(value: object, name: str = "for_time", *, minimum: int = I64_MIN,
                  maximum: int = I64_MAX) -> int:
    """Whole Unix seconds (floored) of ``value``, within ``minimum .. maximum``."""
    if type(value) is int and minimum <= value <= maximum:
        return value  # the common case, without the general checks
    whole, _ = _parts(value, name)
    _check_range(whole, name, minimum, maximum)
    return whole


def exact_seconds(value: object, name: str = "now", *, minimum: int = I64_MIN,
                  maximum: int = I64_MAX) -> float:
    """Unix seconds of ``value`` with their fraction, within ``minimum .. maximum``."""
    whole, _ = _parts(value, name)
    _check_range(whole, name, minimum, maximum)
    if isinstance(value, float):
        return value
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return whole
