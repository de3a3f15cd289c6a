"""The one reader of times the package accepts: Unix seconds or an aware datetime.

Every layer that takes a time from a caller (``for_time`` of the OTP objects and the batch API,
the token's ``calculate``, the verifier's ``now``) reads it here, and this module reads one time
by the batch API's rule for numbers (:mod:`pyotp_hw._numbers`, kind ``TIME``): an int (or
anything with ``__index__``), a finite real number (floored), or a datetime that carries a zone.
Naive datetimes are refused (local time is ambiguous), as are booleans. :func:`floor_seconds`
gives whole seconds (what a time step is computed from); :func:`exact_seconds` keeps fractions
(delays and lock times). Each caller gives its own range.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers

from . import _numbers
from .errors import InvalidArgument

__all__ = ["I64_MAX", "I64_MIN", "exact_seconds", "floor_seconds", "plain_seconds"]

I64_MIN: int = _numbers.TIME.lo
I64_MAX: int = _numbers.TIME.hi


def floor_seconds(value: object, name: str = "for_time", *, minimum: int = I64_MIN,
                  maximum: int = I64_MAX) -> int:
    """Whole Unix seconds (floored) of ``value``, within ``minimum .. maximum``."""
    if type(value) is int and minimum <= value <= maximum:
        return value  # the common case, without the general checks
    whole = plain_seconds(value)  # and time.time()'s float, floored
    if whole is not None and minimum <= whole <= maximum:
        return whole
    whole = _numbers.scalar(value, name, _numbers.TIME)
    if whole < minimum:
        raise InvalidArgument(f"{name} must not be negative" if minimum == 0
                              else f"{name} must be at least {minimum} (Unix seconds)")
    if whole > maximum:
        raise InvalidArgument(f"{name} must be at most {maximum} (Unix seconds)")
    return whole


def plain_seconds(value: object) -> int | None:
    """Whole seconds of an int, or of a float well inside int64 (floored); None for the rest.

    The quick reading of the common times, which never raises: None sends the caller to
    :func:`floor_seconds`' full checks (its errors, its other forms and its range).
    """
    if type(value) is int:
        return value
    if type(value) is float and -_FLOAT_SPAN < value < _FLOAT_SPAN:  # NaN is neither
        return math.floor(value)
    return None


# Floats below this magnitude floor to an int64 exactly (2**62: far from the type's edges).
_FLOAT_SPAN = float(1 << 62)


def exact_seconds(value: object, name: str = "now", *, minimum: int = I64_MIN,
                  maximum: int = I64_MAX) -> float:
    """Unix seconds of ``value`` with their fraction, within ``minimum .. maximum``."""
    whole = floor_seconds(value, name, minimum=minimum, maximum=maximum)
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return float(value)
    return whole
