"""Fuzz the scalar API (HOTP, TOTP, Steam): a result or a clean typed error, nothing else.

Every constructor and method gets arguments of any type and size: huge and negative counters,
windows past the limit, ``for_time`` of 1e30, inf, nan, naive and far-off datetimes. Whatever
escapes must be a :class:`~pyotp_hw.errors.OTPError` with no secret in its message, repr or
args (``tests/typed_errors.py``). Separately, a code that is a str, an int or None never makes
``verify``/``check`` raise, and what they answer agrees with the independent oracle.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import pyotp_hw
from pyotp_hw import HOTP, TOTP, Steam
from pyotp_hw.errors import OTPError

from . import oracle
from .typed_errors import assert_clean_error, fuzz

U64_MAX = (1 << 64) - 1
I64_MAX = (1 << 63) - 1

# Keys and secrets carry a marker prefix, so that finding one in a message is never chance.
keys = st.binary(min_size=0, max_size=40).map(lambda b: b"\xa5\x5aK\x17" + b)
secrets_b32 = keys.map(lambda k: base64.b32encode(k).decode().rstrip("="))
corrupt = st.sampled_from(["", "1", "0", "8", "!", "=", " ", "-", "é", "\ud800", "\x00", "a"])
secret_texts = st.builds(lambda s, c, at: s[:at] + c + s[at:], secrets_b32, corrupt,
                         st.integers(0, 64))
tz = st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59),
                                          max_value=dt.timedelta(hours=23, minutes=59)))
datetimes = st.one_of(st.datetimes(), st.datetimes(timezones=tz),
                      st.sampled_from([dt.datetime.max.replace(tzinfo=dt.timezone.utc),
                                       dt.datetime.min.replace(tzinfo=dt.timezone.utc)]))
big_ints = st.one_of(st.integers(), st.integers(-(2**70), 2**70),
                     st.sampled_from([U64_MAX, U64_MAX + 1, I64_MAX, I64_MAX + 1, -(2**63) - 1,
                                      10**5000, -(10**5000), 2**31, 2**32, 10**10]))
anything = st.one_of(
    st.none(), st.booleans(), big_ints, st.floats(),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e30, -1e30, 1e300, 0.5, 30.0, 6.0]),
    st.text(max_size=12), st.binary(max_size=12), st.lists(st.integers(), max_size=2),
    datetimes, st.dates(), st.complex_numbers(),
    st.sampled_from(["sha1", "SHA-256", "sha512", "md5", "", 6, 30, 0, object()]),
)
secret_values = st.one_of(secret_texts, secrets_b32, keys, anything)
# Plausible values next to arbitrary ones, so that calls get past the constructor often.
digits_values = st.one_of(st.integers(5, 11), anything)
counters = st.one_of(st.integers(0, U64_MAX), st.integers(U64_MAX - 3, U64_MAX), anything)
windows = st.one_of(st.integers(-2, 1002), anything)
times = st.one_of(st.integers(-5, I64_MAX), st.integers(I64_MAX - 100, I64_MAX), anything)
codes = st.one_of(st.text(max_size=12), st.from_regex(r"\A[0-9]{5,11}\Z"), big_ints, anything)


def needles(secret: Any) -> list[str | bytes]:
    """The secret in every form a message could leak it: as given, as raw key, as base32."""
    found: list[str | bytes] = []
    if isinstance(secret, (str, bytes)):
        found.append(secret)
    if isinstance(secret, bytes) and secret:
        found.append(base64.b32encode(secret).decode().rstrip("="))
    if isinstance(secret, str):
        try:
            found.append(pyotp_hw.keys.decode_secret(secret))
        except OTPError:
            pass
    return found


def attempt(call: Callable[[], Any], secret: Any) -> Any:
    try:
        return call()
    except OTPError as exc:
        assert_clean_error(exc, needles(secret))
        return None


@fuzz
@given(secret=secret_values, digits=digits_values, digest=anything, interval=anything,
       t0=anything, name=anything, issuer=anything, initial=counters)
def test_constructors(secret: Any, digits: Any, digest: Any, interval: Any, t0: Any, name: Any,
                      issuer: Any, initial: Any) -> None:
    attempt(lambda: repr(HOTP(secret, digits=digits, digest=digest, name=name, issuer=issuer,
                              initial_count=initial)), secret)
    attempt(lambda: repr(TOTP(secret, digits=digits, interval=interval, t0=t0, name=name,
                              issuer=issuer)), secret)
    attempt(lambda: repr(Steam(secret, name=name, issuer=issuer)), secret)


@fuzz
@given(secret=secret_values, digits=digits_values, initial=counters, count=counters,
       code=codes, look_ahead=windows)
def test_hotp_methods(secret: Any, digits: Any, initial: Any, count: Any, code: Any,
                      look_ahead: Any) -> None:
    otp = attempt(lambda: HOTP(secret, digits=digits, initial_count=initial), secret)
    if otp is None:
        return
    attempt(lambda: otp.at(count), secret)
    attempt(lambda: otp.generate_otp(count), secret)
    attempt(lambda: otp.verify(code, count, look_ahead=look_ahead), secret)
    attempt(lambda: otp.check(code, count, look_ahead=look_ahead), secret)
    attempt(lambda: otp.find(code, count, look_ahead), secret)
    attempt(lambda: otp.provisioning_uri(name=code, issuer_name="Example",
                                         initial_count=count), secret)


@fuzz
@given(secret=secret_values, digits=digits_values, interval=st.one_of(st.integers(-1, 10**20),
       anything), t0=times, for_time=times, code=codes, window=windows, offset=counters)
def test_totp_methods(secret: Any, digits: Any, interval: Any, t0: Any, for_time: Any, code: Any,
                      window: Any, offset: Any) -> None:
    otp = attempt(lambda: TOTP(secret, digits=digits, interval=interval, t0=t0), secret)
    if otp is None:
        return
    attempt(lambda: otp.at(for_time), secret)
    attempt(lambda: otp.at(for_time, counter_offset=offset), secret)
    attempt(otp.now, secret)
    attempt(lambda: otp.timecode(for_time), secret)
    attempt(lambda: otp.verify(code, for_time, valid_window=window), secret)
    attempt(lambda: otp.verify(code, valid_window=window), secret)
    attempt(lambda: otp.verify_and_get_timecode(code, for_time, window), secret)
    attempt(lambda: otp.check(code, for_time, window), secret)
    attempt(lambda: otp.generate_otp(offset), secret)


@fuzz
@given(secret=secret_values, for_time=times, code=codes, window=windows)
def test_steam_methods(secret: Any, for_time: Any, code: Any, window: Any) -> None:
    otp = attempt(lambda: Steam(secret), secret)
    if otp is None:
        return
    attempt(lambda: otp.at(for_time), secret)
    attempt(lambda: otp.verify(code, for_time, valid_window=window), secret)
    attempt(lambda: otp.check(code, for_time, window), secret)


# What a person or a form can send as a code: text of any kind, numbers, nothing.
user_codes = st.one_of(st.none(), st.text(max_size=14), big_ints,
                       st.from_regex(r"\A\s?[0-9]{6,10}\s?\Z"),
                       st.text(alphabet="0123456789 \t-+_٠١２", max_size=12))


@fuzz
@given(key=keys, digits=st.integers(6, 10), counter=st.integers(0, U64_MAX),
       look_ahead=st.integers(0, 20), code=user_codes)
def test_hotp_verify_never_raises_for_user_codes(key: bytes, digits: int, counter: int,
                                                 look_ahead: int, code: Any) -> None:
    otp = HOTP(key, digits=digits)
    result = otp.check(code, counter, look_ahead=look_ahead)
    assert otp.verify(code, counter, look_ahead=look_ahead) is result.ok is bool(result)
    last = min(counter + look_ahead, U64_MAX)
    expected = [oracle.hotp(key, c, digits) for c in range(counter, last + 1)]
    canonical = isinstance(code, str) and code.isascii() and code.isdigit() and len(code) == digits
    if isinstance(code, int) and 0 <= code < 10**digits:
        canonical, code = True, str(code).zfill(digits)
    if not canonical:
        assert result.reason is pyotp_hw.Reason.MALFORMED and result.detail
        return
    if code in expected:
        assert result.ok and result.step == counter + expected.index(code)
    else:
        assert result.reason is pyotp_hw.Reason.WRONG and result.step is None


@fuzz
@given(key=keys, digits=st.integers(6, 10), t=st.integers(0, I64_MAX),
       interval=st.sampled_from([1, 30, 60, 10**12]), window=st.integers(0, 3), code=user_codes,
       pick=st.integers(-3, 3))
def test_totp_verify_never_raises_and_agrees_with_the_oracle(
    key: bytes, digits: int, t: int, interval: int, window: int, code: Any, pick: int
) -> None:
    otp = TOTP(key, digits=digits, interval=interval)
    step = t // interval
    if 0 <= step + pick <= I64_MAX // interval and abs(pick) <= window:
        right = oracle.hotp(key, step + pick, digits)
        hit = otp.check(right, t, window)
        assert hit.ok and oracle.hotp(key, hit.step, digits) == right
        assert hit.step is not None and abs(hit.step - step) <= window
    result = otp.check(code, t, window)
    assert otp.verify(code, t, valid_window=window) is result.ok
    assert otp.verify_and_get_timecode(code, t, window) == result.step
    if result.ok:
        assert result.step is not None and oracle.hotp(key, result.step, digits) == (
            code if isinstance(code, str) else str(code).zfill(digits))
