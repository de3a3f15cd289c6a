"""Fuzz pyotp_hw.pyotp with arguments of any type: a result or a clean typed error, nothing else.

pyotp itself lets TypeError, IndexError and the like out for some of these; the drop-in keeps
pyotp's error categories (ValueError, TypeError) but as the project's typed errors, with no
secret in them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw import pyotp as hw
from pyotp_hw.errors import OTPError

from .typed_errors import assert_clean_error, fuzz

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
    st.text(max_size=20), st.binary(max_size=20), st.lists(st.integers(), max_size=3),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.dates(), st.complex_numbers(), st.dictionaries(st.text(max_size=3), st.integers(),
                                                      max_size=2),
    st.sampled_from([SECRET, SECRET.lower(), "", "=", "a" * 2000, "\u0301" * 1500, 30, 6, 0,
                     dt.datetime.max, dt.datetime.min]),
)
# Lengths of generated secrets: any type, but ints small enough to build a string from.
small = st.one_of(anything.filter(lambda v: not isinstance(v, int) or v < 100),
                  st.integers(-3, 80))
# Windows: any type, but ints small enough to finish (pyotp's windows are unbounded, and so are
# these: a window of 2**40 steps is 2**41 codes in either).
windows = st.one_of(anything.filter(lambda v: not isinstance(v, int) or abs(v) < 50),
                    st.integers(-3, 20))


def attempt(call: Callable[[], Any]) -> None:
    try:
        call()
    except OTPError as exc:
        assert_clean_error(exc, [SECRET])


@fuzz
@given(secret=anything, digits=anything, interval=anything, name=anything, issuer=anything,
       initial=anything)
def test_constructors(secret: Any, digits: Any, interval: Any, name: Any, issuer: Any,
                      initial: Any) -> None:
    attempt(lambda: hw.OTP(secret, digits=digits, name=name, issuer=issuer))
    attempt(lambda: hw.TOTP(secret, interval=interval, name=name, issuer=issuer))
    attempt(lambda: hw.HOTP(SECRET, initial_count=initial, digits=digits).at(0))
    attempt(lambda: hw.contrib.Steam(secret, interval=interval, digits=digits))


@fuzz
@given(code=anything, when=anything, window=windows, counter=anything, extra=anything,
       key=st.sampled_from(["image", "issuer", "secret", "digits", "period", "x"]))
def test_methods(code: Any, when: Any, window: Any, counter: Any, extra: Any, key: str) -> None:
    totp, hotp, steam = hw.TOTP(SECRET), hw.HOTP(SECRET), hw.contrib.Steam(SECRET)
    for otp in (totp, steam):
        attempt(lambda o=otp: o.timecode(when))
        attempt(lambda o=otp: o.at(when, counter_offset=counter))
        attempt(lambda o=otp: o.verify(code, for_time=when, valid_window=window))
        attempt(lambda o=otp: o.verify_and_get_timecode(code, for_time=when, valid_window=window))
        attempt(lambda o=otp: o.provisioning_uri(name=code, issuer_name=when, **{key: extra}))
    attempt(lambda: hotp.at(counter))
    attempt(lambda: hotp.generate_otp(counter))
    attempt(lambda: hotp.verify(code, counter))
    attempt(lambda: hotp.provisioning_uri(name=code, initial_count=counter, **{key: extra}))
    attempt(lambda: hw.OTP.int_to_bytestring(counter))


@fuzz
@given(uri=st.one_of(anything, st.text(max_size=80).map(lambda t: "otpauth://" + t),
                     st.text(max_size=40).map(lambda t: f"otpauth://totp/x?secret={SECRET}&" + t)))
def test_parse_uri(uri: Any) -> None:
    attempt(lambda: hw.parse_uri(uri))


@fuzz
@given(a=anything, b=anything, length=small, chars=anything)
def test_helpers(a: Any, b: Any, length: Any, chars: Any) -> None:
    attempt(lambda: hw.utils.strings_equal(a, b))
    attempt(lambda: hw.utils.build_uri(SECRET, a, issuer=b))
    attempt(lambda: hw.random_base32(length))
    attempt(lambda: hw.random_hex(length, chars))
    attempt(lambda: hw.random_base32(40, chars))
