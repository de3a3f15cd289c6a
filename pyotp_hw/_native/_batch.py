"""One checked wrapper per C batch call.

The layers above pass :class:`Arg` views, a start and a count, and never see pointers, NULL or
the error slot.
"""

from __future__ import annotations

from .._core import ffi, lib
from ._args import Arg
from ._codes import _U64_MAX, CData, _err_slot, check_status

__all__ = ["ErrorSlot", "hotp_batch", "totp_batch", "verify_hotp_batch", "verify_totp_batch"]


class ErrorSlot:
    """Where a C batch call writes the index of the item it refused."""

    __slots__ = ("_slot",)

    def __init__(self) -> None:
        self._slot = _err_slot()

    def check(self, status: int, base: int = 0) -> None:
        """Raise for a failed ``status``, naming the item counted from ``base``."""
        if status == lib.OTP_OK:
            return
        if self._slot[0] != _U64_MAX:
            self._slot[0] += base
        check_status(status, self._slot)


def _rows_at(rows: Arg | None, start: int) -> CData:
    return ffi.NULL if rows is None else rows.ptr + start


def hotp_batch(kernel: CData, keys: CData, rows: Arg | None, key_stride: int, counters: Arg,
               start: int, count: int, digits: int, out: CData, err: ErrorSlot) -> int:
    """``otp_hotp`` over items ``start .. start+count-1`` (``keys`` already at ``start``)."""
    return int(lib.otp_hotp(kernel, keys, _rows_at(rows, start), key_stride, counters.at(start),
                            counters.stride, count, digits, out + start, err._slot))


def totp_batch(kernel: CData, keys: CData, rows: Arg | None, key_stride: int, times: Arg,
               start: int, count: int, t0: int, interval: int, digits: int, out: CData,
               err: ErrorSlot) -> int:
    """``otp_totp`` over items ``start .. start+count-1``."""
    return int(lib.otp_totp(kernel, keys, _rows_at(rows, start), key_stride, times.at(start),
                            times.stride, count, t0, interval, digits, out + start, err._slot))


def verify_totp_batch(kernel: CData, keys: CData, rows: Arg | None, key_stride: int, codes: Arg,
                      times: Arg, last: Arg | None, start: int, count: int, t0: int,
                      interval: int, past: int, future: int, digits: int, out: CData,
                      err: ErrorSlot) -> int:
    """``otp_verify_totp`` over items ``start .. start+count-1`` (``last``: replay floor)."""
    return int(lib.otp_verify_totp(
        kernel, keys, _rows_at(rows, start), key_stride, codes.at(start), codes.stride,
        times.at(start), times.stride, count, t0, interval, past, future, digits,
        ffi.NULL if last is None else last.at(start), 0 if last is None else last.stride,
        out + start, err._slot))


def verify_hotp_batch(kernel: CData, keys: CData, rows: Arg | None, key_stride: int, codes: Arg,
                      counters: Arg, start: int, count: int, look_ahead: int, digits: int,
                      out: CData, err: ErrorSlot) -> int:
    """``otp_verify_hotp`` over items ``start .. start+count-1``, into an int64 ``out``.

    Not-found is written as 2**64-1, which reads as -1 in the int64 result.
    """
    out_u64 = ffi.cast("uint64_t *", out)
    return int(lib.otp_verify_hotp(
        kernel, keys, _rows_at(rows, start), key_stride, codes.at(start), codes.stride,
        counters.at(start), counters.stride, count, look_ahead, digits, 1, out_u64 + start,
        ffi.NULL, err._slot))
