"""Wrappers over the C calls for one code: a code, a check, bound per-object calls.

The layers above pass a kernel pointer and a :class:`NativeKeyTable` (or a key) and get ints
back; C status codes come back as the project's exceptions.
"""

from __future__ import annotations

from collections.abc import Callable

from .._core import ffi, lib
from ..errors import InvalidArgument, InvalidSecret
from ._codes import CData, check_status
from ._keytable import NativeKeyTable, _closed_or

__all__ = [
    "hotp_at_call",
    "hotp_code",
    "hotp_key_code",
    "hotp_verify_call",
    "totp_now_call",
    "totp_verify_call",
    "verify_hotp_key",
    "verify_hotp_one",
    "verify_totp_key",
    "verify_totp_one",
]


def hotp_code(kernel: CData, table: NativeKeyTable, counter: int, digits: int) -> int:
    """The code of row 0 of ``table`` at ``counter``: one C call (``digits`` 0 gives 31 bits).

    ``kernel`` is a :class:`Kernel`'s ``ptr`` of the table's digest.
    """
    value: int = lib.otp_hotp_one(kernel, table._ptr, 0, counter, digits)
    if value < 0:
        _closed_or(value, table)
    return value


def _scalar_spec(kernel: CData, digits: int, t0: int = 0, interval: int = 1) -> CData:
    """An ``otp_scalar`` of an object's fixed parameters (checked by the caller)."""
    return ffi.new("otp_scalar *", {"kernel": kernel, "t0": t0, "interval": interval,
                                    "digits": digits})


def _totp_failed(value: int, t0: int, table: NativeKeyTable | None) -> None:
    if value == lib.OTP_E_TIME:
        raise InvalidArgument(f"the time is before t0 ({t0})")
    _closed_or(value, table)


# The per-object calls below bind an object's kernel, parameters and table once, so that each
# call passes two or three arguments to C (cffi converts each one on every call) and reads no
# attribute but the table's pointer. That pointer is read at every call, as the other wrappers
# do, so a closed table (its pointer None, which cffi refuses with TypeError: the one argument
# that can be refused) is "the key table is closed", never a freed pointer; the objects' own
# tables are never closed while an object holds them, they are freed as garbage. Every one is
# immutable once made, so threads share it.

_CLOSED = "the key table is closed"


def totp_now_call(kernel: CData, table: NativeKeyTable, t0: int, interval: int,
                  digits: int) -> Callable[[], str]:
    """A function returning the zero-padded TOTP code of row 0 of ``table`` now: one C call.

    The C side reads the clock (the realtime clock, as ``time.time()``); a chosen time goes
    through the step and :func:`hotp_code` (``TOTP.at``). The function raises
    :class:`InvalidArgument` when the current time is before ``t0``.
    """
    spec = _scalar_spec(kernel, digits, t0, interval)
    now_c = lib.otp_totp_now

    def now() -> str:
        try:
            value: int = now_c(spec, table._ptr)
        except TypeError:
            raise InvalidArgument(_CLOSED) from None
        if value < 0:
            _totp_failed(value, t0, table)
        # str().zfill() measured faster than "%06d" % value and than C writing text for
        # ffi.string().decode() (bench/README.md, "TOTP.now() in one C call").
        return str(value).zfill(digits)

    return now


def hotp_at_call(kernel: CData, table: NativeKeyTable, digits: int) -> Callable[[int], str]:
    """A function returning the zero-padded HOTP code of row 0 of ``table`` at a counter.

    The counter must be an int in ``[0, 2**64)``, checked by the caller.
    """
    spec = _scalar_spec(kernel, digits)
    at_c = lib.otp_hotp_at

    def at(counter: int) -> str:
        try:
            value: int = at_c(spec, table._ptr, counter)
        except TypeError:
            raise InvalidArgument(_CLOSED) from None
        if value < 0:
            _closed_or(value, table)
        return str(value).zfill(digits)

    return at


def totp_verify_call(kernel: CData, t0: int, interval: int,
                     digits: int) -> Callable[[NativeKeyTable | None, bytes, int, int, int], int]:
    """A function ``(table, key, code, t, window)`` -> the lowest matching step, or -1.

    It checks ``code`` against the steps within ``window`` of time ``t`` (``t >= t0``) in one C
    call, against row 0 of ``table`` or, when ``table`` is None, against ``key``. The step comes
    back as the C call's value, so no output slot is allocated or shared between threads.
    """
    spec = _scalar_spec(kernel, digits, t0, interval)
    verify_c = lib.otp_verify_totp_step
    no_match = lib.OTP_NO_MATCH
    null = ffi.NULL

    def verify(table: NativeKeyTable | None, key: bytes, code: int, t: int, window: int) -> int:
        try:
            step: int = verify_c(spec, null if table is None else table._ptr, key, len(key),
                                 code, t, window)
        except TypeError:
            raise InvalidArgument(_CLOSED) from None
        if step < 0:
            if step == no_match:
                return -1
            _totp_failed(step, t0, table)
        return step

    return verify


def hotp_verify_call(kernel: CData, digits: int
                     ) -> Callable[[NativeKeyTable | None, bytes, int, int, int], int | None]:
    """A function ``(table, key, code, counter, look_ahead)`` -> the lowest matching counter.

    It checks ``code`` against ``[counter, counter + look_ahead]`` (never past 2**64-1) in one C
    call, against row 0 of ``table`` or, when ``table`` is None, against ``key``, and returns
    None when nothing matches. The C call returns the match's offset from ``counter``, so no
    output slot is allocated or shared between threads.
    """
    spec = _scalar_spec(kernel, digits)
    find_c = lib.otp_verify_hotp_offset
    no_match = lib.OTP_NO_MATCH
    null = ffi.NULL

    def find(table: NativeKeyTable | None, key: bytes, code: int, counter: int,
             look_ahead: int) -> int | None:
        try:
            offset: int = find_c(spec, null if table is None else table._ptr, key, len(key),
                                 code, counter, look_ahead)
        except TypeError:
            raise InvalidArgument(_CLOSED) from None
        if offset < 0:
            if offset == no_match:
                return None
            _closed_or(offset, table)
        return counter + offset

    return find


def hotp_key_code(kernel: CData, key: bytes, counter: int, digits: int) -> int:
    """The code of ``key`` at ``counter`` without a heap table (HMAC states on the C stack)."""
    value: int = lib.otp_hotp_key(kernel, key, len(key), counter, digits)
    if value < 0:
        if value == lib.OTP_E_KEY:
            raise InvalidSecret("secret is empty")
        check_status(value)
    return value


def verify_totp_one(kernel: CData, table: NativeKeyTable | None, key: bytes, code: int, t: int,
                    t0: int, interval: int, window: int, digits: int) -> int:
    """The lowest step within ``window`` steps of time ``t`` whose code is ``code``, or -1.

    One C call against row 0 of ``table``, or against ``key`` when ``table`` is None.
    """
    out = ffi.new("int64_t *")
    ptr = ffi.NULL if table is None else table.ptr
    status = lib.otp_verify_totp_one(kernel, ptr, key, len(key), code, t, t0, interval, window,
                                     digits, out)
    if status:
        _closed_or(status, table)
    step: int = out[0]
    return step


def verify_hotp_one(kernel: CData, table: NativeKeyTable | None, key: bytes, code: int,
                    counter: int, look_ahead: int, digits: int) -> int | None:
    """The lowest counter in ``[counter, counter + look_ahead]`` whose code is ``code``, or None.

    One C call against row 0 of ``table``, or against ``key`` when ``table`` is None.
    """
    out = ffi.new("uint64_t *")
    found = ffi.new("uint8_t *")
    ptr = ffi.NULL if table is None else table.ptr
    status = lib.otp_verify_hotp_one(kernel, ptr, key, len(key), code, counter, look_ahead,
                                     digits, out, found)
    if status:
        _closed_or(status, table)
    return int(out[0]) if found[0] else None


def verify_totp_key(kernel: CData, key: bytes | bytearray, code: int, t: int, t0: int,
                    interval: int, past: int, future: int, digits: int, last_step: int
                    ) -> tuple[int, int]:
    """One TOTP code against ``key`` (HMAC states on the C stack, wiped): the lowest step of the
    ``(past, future)`` window around time ``t`` above ``last_step`` (-1: none used) whose code it
    is, and the lowest step of the window whose code it is, used or not; -1 where none is.

    Both are computed whatever matches, so a match, a replay and a wrong code cost the same.
    """
    out = ffi.new("int64_t[2]")
    status = lib.otp_verify_totp_key(kernel, ffi.from_buffer(key), len(key), code, t, t0,
                                     interval, past, future, digits, last_step, out)
    if status:
        if status == lib.OTP_E_KEY:
            raise InvalidSecret("secret is empty")
        check_status(status)
    return int(out[0]), int(out[1])


def verify_hotp_key(kernel: CData, key: bytes | bytearray, code: int, counter: int,
                    replay_from: int, look_ahead: int, digits: int
                    ) -> tuple[int | None, int | None]:
    """One HOTP code against ``key``: the lowest matching counter in ``[counter, counter +
    look_ahead]`` and in ``[replay_from, replay_from + look_ahead]``, None where none matches.

    Both ranges are computed whatever matches.
    """
    out = ffi.new("uint64_t[2]")
    found = ffi.new("uint8_t[2]")
    status = lib.otp_verify_hotp_key(kernel, ffi.from_buffer(key), len(key), code, counter,
                                     replay_from, look_ahead, digits, out, found)
    if status:
        if status == lib.OTP_E_KEY:
            raise InvalidSecret("secret is empty")
        check_status(status)
    return (int(out[0]) if found[0] else None), (int(out[1]) if found[1] else None)
