"""The C calls for one code: the scalar objects' handles, and one-key codes and checks.

A warm HOTP/TOTP object holds a :func:`scalar_key` handle (its key's table and its fixed
parameters, owned and freed together by C) and calls the raw entry points below with it, one
cffi call per code; they return the code (or step, or offset) or a negative C status, which
:func:`scalar_failed` turns into the project's exception. The one-key calls for an object's
first use compute from the key with the HMAC states on the C stack.
"""

from __future__ import annotations

from collections.abc import Callable

from .._core import ffi, lib
from ..errors import InvalidArgument, InvalidSecret
from ._codes import CData, check_status

__all__ = [
    "NO_MATCH",
    "hotp_key_code",
    "scalar_failed",
    "scalar_hotp",
    "scalar_key",
    "scalar_now",
    "scalar_totp",
    "scalar_verify_hotp",
    "scalar_verify_totp",
    "verify_hotp_key",
    "verify_hotp_one",
    "verify_totp_key",
    "verify_totp_one",
]

NO_MATCH: int = lib.OTP_NO_MATCH
"""What the verifying handle calls return when nothing matched (not an error)."""

# The raw entry points over a handle, bound once here: a caller looks up one module global and
# passes the handle (and a counter or time), the least cffi converts per call. Each returns a
# value >= 0 or a negative status for scalar_failed; a number argument outside its C type raises
# OverflowError, which callers answer with their checked path.
scalar_now: Callable[[CData], int] = lib.otp_scalar_now
"""``scalar_now(handle)``: the TOTP code now (the C realtime clock, as ``time.time()``)."""
scalar_hotp: Callable[[CData, int], int] = lib.otp_scalar_hotp
"""``scalar_hotp(handle, counter)``: the code at a counter (uint64)."""
scalar_totp: Callable[[CData, int, int], int] = lib.otp_scalar_totp
"""``scalar_totp(handle, t, offset)``: the code at time ``t``'s step plus ``offset`` (int64s)."""
scalar_verify_totp: Callable[[CData, int, int, int], int] = lib.otp_scalar_verify_totp
"""``scalar_verify_totp(handle, code, t, window)``: the lowest matching step, or NO_MATCH."""
scalar_verify_hotp: Callable[[CData, int, int, int], int] = lib.otp_scalar_verify_hotp
"""``scalar_verify_hotp(handle, code, counter, look_ahead)``: the match's offset, or NO_MATCH."""


def scalar_key(kernel: CData, key: bytes, t0: int, interval: int, digits: int) -> CData:
    """A new handle: ``key``'s one-row table scheduled by ``kernel`` and the parameters.

    The handle is wiped and freed when it is garbage; nothing else can free it, so a call
    holding it never reaches freed memory. ``digits`` may be ``RAW_DIGITS`` (31 bits).
    """
    holder = ffi.new("otp_scalar_key **")
    status = lib.otp_scalar_key_new(kernel, key, len(key), t0, interval, digits, holder)
    if status == lib.OTP_E_KEY:
        raise InvalidSecret("secret is empty")
    check_status(status)
    handle: CData = ffi.gc(holder[0], lib.otp_scalar_key_free)
    return handle


def scalar_failed(status: int, t0: int = 0) -> None:
    """Raise the exception of a handle call's negative status (not NO_MATCH)."""
    if status == lib.OTP_E_TIME:
        raise InvalidArgument(f"the time is before t0 ({t0})")
    check_status(status)


def hotp_key_code(kernel: CData, key: bytes, counter: int, digits: int) -> int:
    """The code of ``key`` at ``counter`` without a heap table (HMAC states on the C stack)."""
    value: int = lib.otp_hotp_key(kernel, key, len(key), counter, digits)
    if value < 0:
        if value == lib.OTP_E_KEY:
            raise InvalidSecret("secret is empty")
        check_status(value)
    return value


def verify_totp_one(kernel: CData, key: bytes, code: int, t: int, t0: int, interval: int,
                    window: int, digits: int) -> int:
    """The lowest step within ``window`` steps of time ``t`` whose code is ``code``, or -1.

    One C call against ``key`` (HMAC states on the C stack, wiped).
    """
    out = ffi.new("int64_t *")
    status = lib.otp_verify_totp_one(kernel, ffi.NULL, key, len(key), code, t, t0, interval,
                                     window, digits, out)
    if status:
        scalar_failed(status, t0)
    step: int = out[0]
    return step


def verify_hotp_one(kernel: CData, key: bytes, code: int, counter: int, look_ahead: int,
                    digits: int) -> int | None:
    """The lowest counter in ``[counter, counter + look_ahead]`` whose code is ``code``, or None.

    One C call against ``key`` (HMAC states on the C stack, wiped).
    """
    out = ffi.new("uint64_t *")
    found = ffi.new("uint8_t *")
    status = lib.otp_verify_hotp_one(kernel, ffi.NULL, key, len(key), code, counter,
                                     look_ahead, digits, out, found)
    if status:
        check_status(status)
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
