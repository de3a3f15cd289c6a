"""Number arguments and output buffers as C views (read by the rule of :mod:`pyotp_hw._numbers`)."""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass

from .. import _numbers
from .._core import ffi, lib
from .._time import floor_seconds
from .._types import Buffer, Integers, Times
from ..errors import InvalidArgument, InvalidType
from ._codes import CData

__all__ = [
    "Arg",
    "i64_arg",
    "i64_out",
    "int_option",
    "step_arg",
    "time_to_int",
    "u32_arg",
    "u32_out",
    "u32_rows_arg",
    "u64_arg",
]

_LITTLE = sys.byteorder == "little"


@dataclass
class Arg:
    """A C view of an argument: pointer, element count (None for a broadcast scalar), owner."""

    ptr: CData
    length: int | None
    keep: memoryview | array[int] | None  # what owns the memory ptr points into

    @property
    def stride(self) -> int:
        """0 for a broadcast scalar, 1 for one value per item."""
        return 0 if self.length is None else 1

    def at(self, offset: int) -> CData:
        """The pointer advanced by ``offset`` items (unchanged for a broadcast scalar)."""
        return self.ptr if self.length is None else self.ptr + offset


_C_TYPES = {"Q": "uint64_t[]", "q": "int64_t[]", "I": "uint32_t[]"}


def _arg(value: object, name: str, kind: _numbers.Kind) -> Arg:
    """A number argument read by the one rule of :mod:`pyotp_hw._numbers`, as a C view."""
    got = _numbers.read(value, name, kind)
    ctype = _C_TYPES[kind.code]
    if got.value is not None:
        return Arg(ffi.new(ctype[:-2] + "[1]", [got.value]), None, None)
    if got.unchecked_signed:
        signed = ffi.from_buffer("int64_t[]", got.items)
        bad = lib.otp_find_negative(signed, got.length)
        if bad != got.length:
            raise InvalidArgument(f"{name}[{bad}] is negative; {kind.what} must be between "
                                  f"{kind.range_text}")
    return Arg(ffi.from_buffer(ctype, got.items), got.length, got.items)


def int_option(value: object, name: str, lo: int, hi: int, what: str = "an int") -> int:
    """An int option of a call (digits, interval, window, threads), range-checked."""
    return _numbers.option(value, name, lo, hi, what)


def u64_arg(value: Integers, name: str) -> Arg:
    """Counters (unsigned 64-bit): one, a sequence or a buffer (see :mod:`pyotp_hw._numbers`)."""
    return _arg(value, name, _numbers.COUNTER)


def time_to_int(value: object, name: str = "for_time") -> int:
    """Seconds since the epoch (floored) from an int, a float or an aware datetime."""
    return floor_seconds(value, name)


def i64_arg(value: Times, name: str) -> Arg:
    """Times (signed 64-bit seconds; reals floored, aware datetimes): one or many."""
    return _arg(value, name, _numbers.TIME)


def step_arg(value: Integers, name: str) -> Arg:
    """Time steps (signed 64-bit ints, no fractions): one or many."""
    return _arg(value, name, _numbers.STEP)


def u32_arg(value: Integers, name: str) -> Arg:
    """Codes (unsigned 32-bit): one, a sequence or a buffer (zero-copy for uint32)."""
    return _arg(value, name, _numbers.CODE)


def u32_rows_arg(value: Integers, size: int) -> Arg:
    """Row indices into a key table of ``size`` rows (checked in C as well)."""
    arg = _arg(value, "rows", _numbers.ROW)
    if arg.length is None:
        raise InvalidType("rows must be a sequence of row indices, not one number")
    return arg


def u32_out(out: Buffer | None, n: int) -> tuple[CData, array[int] | Buffer]:
    """A writable uint32 buffer of at least ``n`` items: ``out`` itself, or a new array('I')."""
    if out is None:
        result = array("I", bytes(4 * n))
        return ffi.from_buffer("uint32_t[]", result, require_writable=True), result
    view = _numbers.buffer_view(out, "out")
    if view is None or view.readonly or not view.c_contiguous or view.ndim != 1:
        raise InvalidArgument("out must be a writable, contiguous 1-D buffer of uint32")
    fmt = view.format.lstrip("@=" + ("<" if _LITTLE else ">!"))
    if fmt not in ("I", "L") or view.itemsize != 4:
        raise InvalidArgument(f"out must hold uint32 items, not format {view.format!r}")
    if len(view) < n:
        raise InvalidArgument(f"out holds {len(view)} items but {n} are needed")
    return ffi.from_buffer("uint32_t[]", view, require_writable=True), out


def i64_out(n: int) -> tuple[CData, array[int]]:
    """A new zeroed array('q') of ``n`` items and its C pointer."""
    result = array("q", bytes(8 * n))
    return ffi.from_buffer("int64_t[]", result, require_writable=True), result
