"""The pyotp-like scalar objects: canonical codes, argument checks, reprs without secrets."""

from __future__ import annotations

import datetime as dt
import time

import pyotp
import pytest

import pyotp_hw

from . import oracle

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
KEY = b"12345678901234567890"


@pytest.mark.parametrize(
    "code",
    [" 287082", "287082 ", "287 082", "+287082", "-287082", "28708", "2870820", "２８７０８２",
     "２87082", "28_082", "287082\n", "0x1234", "", "٢٨٧٠٨٢"],
)
def test_non_canonical_codes_raise(code: str) -> None:
    otp = pyotp_hw.HOTP(SECRET)
    with pytest.raises(pyotp_hw.InvalidCode) as info:
        otp.verify(code, 1)
    assert code.strip() not in str(info.value) or not code.strip()
    with pytest.raises(pyotp_hw.InvalidCode):
        pyotp_hw.TOTP(SECRET).verify(code, 59)


def test_int_codes_are_accepted_as_pyotp_does() -> None:
    otp = pyotp_hw.HOTP(SECRET)
    assert otp.verify(287082, 1)
    with pytest.raises(pyotp_hw.InvalidCode):
        otp.verify(1_000_000, 1)
    with pytest.raises(pyotp_hw.InvalidType):
        otp.verify(True, 1)
    with pytest.raises(pyotp_hw.InvalidType):
        otp.verify(287082.0, 1)


def test_now_matches_pyotp_and_oracle() -> None:
    ours, ref = pyotp_hw.TOTP(SECRET), pyotp.TOTP(SECRET)
    for _ in range(3):
        t = int(time.time())
        a, b = ours.now(), ref.now()
        if int(time.time()) // 30 == t // 30:
            assert a == b == oracle.totp(KEY, t)
            break


def test_aware_datetimes_and_t0() -> None:
    otp = pyotp_hw.TOTP(SECRET, digits=8)
    moment = dt.datetime(1970, 1, 1, 0, 0, 59, tzinfo=dt.timezone.utc)
    assert otp.at(moment) == "94287082"
    east = moment.astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert otp.at(east) == "94287082"
    shifted = pyotp_hw.TOTP(SECRET, digits=8, t0=100)
    assert shifted.at(159) == "94287082"
    with pytest.raises(pyotp_hw.InvalidArgument, match="before t0"):
        shifted.at(99)
    assert otp.at(59, counter_offset=1) == oracle.hotp(KEY, 2, 8)
    with pytest.raises(pyotp_hw.InvalidArgument):
        otp.at(0, counter_offset=-1)


def test_far_future_and_64bit_counters() -> None:
    otp = pyotp_hw.TOTP(SECRET, digits=8)
    assert otp.at(20000000000) == "65353130"
    assert otp.at(253402300799) == oracle.totp(KEY, 253402300799, 8)
    hotp = pyotp_hw.HOTP(SECRET)
    assert hotp.at((1 << 64) - 1) == oracle.hotp(KEY, (1 << 64) - 1)
    with pytest.raises(pyotp_hw.InvalidArgument):
        hotp.at(1 << 64)
    with pytest.raises(pyotp_hw.InvalidArgument):
        hotp.at(-1)
    assert pyotp_hw.HOTP(SECRET, initial_count=5).at(0) == oracle.hotp(KEY, 5)


@pytest.mark.parametrize("kwargs,match", [
    ({"digits": 5}, "digits"), ({"digits": 11}, "digits"), ({"digest": "md5"}, "digest"),
    ({"interval": 0}, "interval"), ({"interval": -30}, "interval"),
])
def test_constructor_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(pyotp_hw.InvalidArgument, match=match):
        pyotp_hw.TOTP(SECRET, **kwargs)  # type: ignore[arg-type]


def test_errors_subclass_builtins() -> None:
    assert issubclass(pyotp_hw.InvalidArgument, ValueError)
    assert issubclass(pyotp_hw.InvalidType, TypeError)
    assert issubclass(pyotp_hw.InvalidSecret, pyotp_hw.OTPError)
    with pytest.raises(TypeError):
        pyotp_hw.TOTP(SECRET, digits="6")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        pyotp_hw.TOTP("not base32!")


def test_repr_hides_the_secret() -> None:
    otp = pyotp_hw.TOTP(SECRET, name="alice", issuer="Example")
    text = repr(otp)
    assert SECRET not in text and "GEZD" not in text
    assert "alice" in text and "sha1" in text
    assert otp.secret == SECRET and otp.byte_secret() == KEY


def test_window_is_bounded() -> None:
    with pytest.raises(pyotp_hw.InvalidArgument):
        pyotp_hw.TOTP(SECRET).verify("123456", 59, valid_window=5000)
    with pytest.raises(pyotp_hw.InvalidArgument):
        pyotp_hw.TOTP(SECRET).verify("123456", 59, valid_window=-1)
