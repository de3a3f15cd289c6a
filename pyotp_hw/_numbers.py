"""The one rule for number arguments of the batch API: counters, times, codes, steps and rows.

Every bulk entry point reads its number arguments through :func:`read` (and one scalar through
:func:`scalar`), so they all accept the same forms and fail with the same typed errors:

* **One number** (broadcast to every item): an ``int`` or anything with ``__index__`` (a numpy
  integer); for *times* also a real number (``float``, ``Fraction``, ``Decimal``, numpy floats:
  floored to whole seconds; it must be finite) and an aware ``datetime``. ``bool`` is refused.
* **A buffer** (``array.array``, ``memoryview``, a numpy array): one-dimensional (a
  zero-dimensional one is one number); its items are read by their format: any integer type in
  either byte order, and for times also float types. A buffer whose items already are the C type
  is passed to C without a copy; any other is converted (a copy), value by value. Bool, complex,
  character, structured, object and datetime64 arrays are refused, with how to convert them.
* **A sequence** (``list``, ``tuple``, ``range``, ...): every item is one number as above.
* ``bytes``, ``bytearray`` and ``str`` are refused: they read either as raw machine words or as
  one number per byte, and neither is what most callers meant. Say which with
  ``memoryview(data).cast("q")`` (raw 8-byte words) or ``list(data)`` (one number per byte).
  Iterators, sets and mappings are refused too (no length or no order): pass ``list(...)``.

Every value must fit its kind (counters 0..2**64-1, times and steps signed 64-bit, codes and rows
0..2**32-1). Errors are :class:`~pyotp_hw.errors.InvalidType` (a form that is never a number) or
:class:`~pyotp_hw.errors.InvalidArgument` (a value out of range), naming the argument, the item
index and how to fix it. This module only reads Python objects; ``_native`` hands the result to C.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import numbers
import operator
import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import SupportsFloat, cast

from ._types import BufferProtocol
from .errors import InvalidArgument, InvalidType, OTPError

__all__ = ["COUNTER", "TIME", "STEP", "CODE", "ROW", "Kind", "Numbers", "read", "scalar",
           "whole", "option", "real_option", "buffer_view"]

_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"
_INT_CODES = frozenset("bBhHiIlLqQnN")
_FLOAT_CODES = frozenset("efd")
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


@dataclass(frozen=True)
class Kind:
    """What one item of an argument is: its C type (an ``array`` typecode) and range."""

    code: str
    lo: int
    hi: int
    reals: bool  # floats (floored) and aware datetimes are accepted: times
    what: str    # "a counter", for messages
    range_text: str

    @property
    def signed(self) -> bool:
        """True when the C type is signed."""
        return self.code.islower()


COUNTER = Kind("Q", 0, (1 << 64) - 1, False, "a counter", "0 and 2**64-1")
TIME = Kind("q", -(1 << 63), (1 << 63) - 1, True, "a time", "-2**63 and 2**63-1 seconds")
STEP = Kind("q", -(1 << 63), (1 << 63) - 1, False, "a step", "-2**63 and 2**63-1")
CODE = Kind("I", 0, (1 << 32) - 1, False, "a code", "0 and 2**32-1")
ROW = Kind("I", 0, (1 << 32) - 1, False, "a row index", "0 and 2**32-1")


@dataclass
class Numbers:
    """An argument read by :func:`read`: one number, or a C-ready buffer of ``length`` items.

    ``items`` is C-contiguous with items of exactly the kind's C type, except when
    ``unchecked_signed`` is set: then it holds signed 64-bit integers for an unsigned kind, passed
    without a copy, and the caller must still refuse negative ones (``_native`` does it in C).
    """

    value: int | None
    items: memoryview | array[int] | None = None
    length: int | None = None
    unchecked_signed: bool = False


def _shown(v: int) -> str:
    # Huge ints cannot even be printed (int max str digits): name their size instead.
    bits = v.bit_length()
    return str(v) if bits <= 128 else f"a {'negative ' if v < 0 else ''}{bits}-bit number"


def _in_range(v: int, label: str, kind: Kind) -> int:
    if not kind.lo <= v <= kind.hi:
        raise InvalidArgument(f"{label} must be between {kind.range_text}, got {_shown(v)}")
    return v


def _forms(kind: Kind) -> str:
    extra = ", a float or an aware datetime" if kind.reals else ""
    return f"an int{extra}, a sequence of them or a 1-D array of numbers"


def _floor_real(value: SupportsFloat, label: str) -> int:
    if isinstance(value, decimal.Decimal) and value.is_finite() and value.adjusted() > 40:
        # Flooring 1e999999999 would build a billion-digit int: it is out of range anyway.
        raise InvalidArgument(f"{label} must be between -2**63 and 2**63-1 seconds")
    try:
        floored: int = math.floor(value)
        return floored
    except (ValueError, OverflowError, decimal.InvalidOperation):
        raise InvalidArgument(f"{label} must be a finite number of seconds") from None


def _datetime_seconds(value: _dt.datetime, label: str) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(
            f"{label} is a naive datetime; give an aware one (naive local time is ambiguous)"
        )
    delta = value - _EPOCH
    return delta.days * 86400 + delta.seconds


def _one(value: object, label: str, kind: Kind) -> int:
    """One number (not a buffer or sequence) by the rule above."""
    if isinstance(value, bool):
        raise InvalidType(f"{label} must be {kind.what} (a number), not bool")
    if isinstance(value, int):
        return _in_range(value, label, kind)
    if kind.reals:
        if isinstance(value, _dt.datetime):
            return _in_range(_datetime_seconds(value, label), label, kind)
        if isinstance(value, (numbers.Real, decimal.Decimal)) and not hasattr(value, "__index__"):
            return _in_range(_floor_real(value, label), label, kind)
    if hasattr(value, "__index__") and not hasattr(value, "__len__"):
        try:
            v = value.__index__()
        except Exception as exc:  # a foreign __index__ may raise anything; report it typed
            raise InvalidType(f"{label} could not be read as an int ({type(exc).__name__})") \
                from None
        if isinstance(v, int) and not isinstance(v, bool):
            return _in_range(v, label, kind)
    if kind.reals:
        raise InvalidType(f"{label} must be Unix seconds (a number) or an aware datetime, "
                          f"not {type(value).__name__}")
    hint = "" if not isinstance(value, (float, numbers.Real)) else (
        "; round it first (only times take fractions)")
    raise InvalidType(f"{label} must be {kind.what} as an int, not {type(value).__name__}{hint}")


def _refuse_text(value: object, name: str, kind: Kind) -> None:
    if isinstance(value, str):
        what = "Unix seconds (numbers) or aware datetimes" if kind.reals else "numbers"
        raise InvalidType(f"{name} must be {what}, not str; convert the text with int()")
    if isinstance(value, (bytes, bytearray)):
        raise InvalidType(
            f"{name} must be numbers, not {type(value).__name__} (ambiguous): pass "
            "memoryview(data).cast('q') for raw 8-byte words or list(data) for one per byte"
        )


def buffer_view(value: object, name: str) -> memoryview | None:
    """``memoryview(value)`` for a buffer (None for a non-buffer), typed errors for the rest."""
    if isinstance(value, (str, bytes, bytearray, int, float, list, tuple, range)):
        return None
    try:
        # memoryview() is the check itself: it raises TypeError for anything but a buffer.
        return memoryview(cast(BufferProtocol, value))
    except TypeError:
        return None
    except (ValueError, NotImplementedError, BufferError) as exc:
        dtype = getattr(value, "dtype", None)
        what = f"dtype {dtype}" if dtype is not None else type(value).__name__
        hint = ""
        if getattr(dtype, "kind", "") in ("M", "m"):
            hint = "; convert datetimes with .astype('datetime64[s]').astype('int64')"
        raise InvalidType(f"{name}: an array of {what} cannot be read as numbers "
                          f"({type(exc).__name__}){hint}") from None


def _item_code(view: memoryview, name: str, kind: Kind) -> tuple[str, str]:
    """(byte order, struct code) of a buffer's items, or a typed refusal."""
    fmt = view.format
    order = "@"
    if fmt[:1] in "@=<>!" and fmt:
        order, fmt = fmt[0], fmt[1:]
    if len(fmt) != 1 or not (fmt in _INT_CODES or (kind.reals and fmt in _FLOAT_CODES)):
        wanted = "integer or float" if kind.reals else "integer"
        hint = "" if kind.reals or fmt not in _FLOAT_CODES else (
            "; round and convert it first (only times take fractions)")
        raise InvalidType(
            f"{name}: items of format {view.format!r} are not {kind.what}; pass an array of an "
            f"{wanted} type{hint}"
        )
    return order, fmt


def _native_order(order: str) -> bool:
    return order in "@=" or order == _NATIVE_ORDER or (order == "!" and _NATIVE_ORDER == ">")


def _zero_copy(view: memoryview, order: str, code: str, kind: Kind) -> Numbers | None:
    """The buffer itself when its items already are the C type (or int64 for uint64)."""
    if not view.c_contiguous or not _native_order(order) or code not in _INT_CODES:
        return None
    size = struct.calcsize(kind.code)
    if view.itemsize != size:
        return None
    if code.isupper() == (not kind.signed):
        return Numbers(None, view, len(view))
    if kind.code == "Q":  # signed 64-bit for counters: C checks for negatives, no copy
        return Numbers(None, view, len(view), unchecked_signed=True)
    return None


def _from_buffer(view: memoryview, name: str, kind: Kind) -> Numbers:
    if view.ndim > 1:
        raise InvalidArgument(
            f"{name} must be one-dimensional, got {view.ndim} dimensions; flatten it first")
    order, code = _item_code(view, name, kind)
    if view.ndim == 0:
        (item,) = struct.unpack(order + code, view.tobytes())
        return Numbers(_one(item, name, kind))
    fast = _zero_copy(view, order, code, kind)
    if fast is not None:
        return fast
    values = [v for (v,) in struct.iter_unpack(order + code, view.tobytes())]
    return _packed(values, name, kind)


def _packed(values: list[object], name: str, kind: Kind) -> Numbers:
    """``values`` (numbers by the rule) as an array of the kind's C type."""
    if set(map(type, values)) <= {int}:
        ints = cast("list[int]", values)  # every item's type is int, checked just above
        try:
            items = array(kind.code, ints)
        except OverflowError:
            bad = next(i for i, v in enumerate(ints) if not kind.lo <= v <= kind.hi)
            _in_range(ints[bad], f"{name}[{bad}]", kind)
            raise  # pragma: no cover - the line above raised
        return Numbers(None, items, len(items))
    items = array(kind.code, (_one(v, f"{name}[{i}]", kind) for i, v in enumerate(values)))
    return Numbers(None, items, len(items))


def read(value: object, name: str, kind: Kind) -> Numbers:
    """Read a number argument by the module's rule (see its docstring)."""
    if type(value) is int:
        return Numbers(_in_range(value, name, kind))
    if type(value) is float and kind.reals:
        return Numbers(_in_range(_floor_real(value, name), name, kind))
    _refuse_text(value, name, kind)
    if isinstance(value, (list, tuple, range)):
        return _packed(list(value), name, kind)
    view = buffer_view(value, name)
    if view is not None:
        return _from_buffer(view, name, kind)
    if isinstance(value, Sequence):
        return _packed(list(value), name, kind)
    if hasattr(value, "__iter__") and not hasattr(value, "__index__"):
        raise InvalidType(f"{name} must be {_forms(kind)}, not {type(value).__name__}; "
                          "pass list(...) for an iterator")
    return Numbers(_one(value, name, kind))


def whole(value: object, name: str, what: str = "an int", *, index: bool = False,
          error: type[OTPError] = InvalidType) -> int:
    """``value`` as an int: a plain ``int`` (never ``bool``), or with ``index`` anything with
    ``__index__`` (a numpy integer). Refused as ``error``: "NAME must be WHAT, not TYPE"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if index and not isinstance(value, bool) and hasattr(value, "__index__"):
        try:
            return operator.index(value)
        except Exception as exc:  # a foreign __index__ may raise anything; report it typed
            raise error(f"{name} could not be read as an int ({type(exc).__name__})") from None
    raise error(f"{name} must be {what}, not {type(value).__name__}")


def option(value: object, name: str, lo: int, hi: int, what: str = "an int", *,
           index: bool = False, span: str | None = None,
           error: type[OTPError] | None = None) -> int:
    """An int option (digits, interval, window, counter, ...): :func:`whole`, in ``[lo, hi]``.

    Every int argument of the package is checked here, so all say the same: "NAME must be WHAT,
    not TYPE" (:class:`InvalidType`) and "NAME must be between SPAN, got VALUE"
    (:class:`InvalidArgument`); ``span`` shows the range (default "LO and HI"), and ``error``,
    when given, is raised for both (a layer's own subclass, such as ``InvalidURI``).
    """
    # A plain int (never a bool, whose type is bool) skips whole(): options sit on hot paths.
    number = value if type(value) is int else whole(value, name, what, index=index,
                                                      error=error or InvalidType)
    if not lo <= number <= hi:
        raise (error or InvalidArgument)(
            f"{name} must be between {span or f'{lo} and {hi}'}, got {_shown(number)}")
    return number


def real_option(value: object, name: str, lo: float, hi: float = math.inf,
                what: str = "a number", *, above: bool = False) -> float:
    """A real option (seconds, a rate): an ``int`` or ``float`` (never ``bool``), finite, at
    least ``lo`` (more than ``lo`` when ``above``) and at most ``hi``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidType(f"{name} must be {what}, not {type(value).__name__}")
    try:
        real = float(value)
    except OverflowError:  # an int too large for a float: no finite number of seconds
        real = math.inf
    if not math.isfinite(real):
        shown = _shown(value) if isinstance(value, int) else str(value)
        raise InvalidArgument(f"{name} must be a finite number, got {shown}")
    if real < lo or (above and real == lo) or real > hi:
        low = f"more than {lo}" if above else f"at least {lo}"
        if hi != math.inf:
            low = f"{low} and at most {hi}" if above else f"between {lo} and {hi}"
        raise InvalidArgument(f"{name} must be {low}, got {value}")
    return real


def scalar(value: object, name: str, kind: Kind) -> int:
    """One number by the rule (a zero-dimensional array counts); sequences are refused."""
    got = read(value, name, kind)
    if got.value is None:
        raise InvalidType(f"{name} must be one number, not a sequence")
    return got.value
