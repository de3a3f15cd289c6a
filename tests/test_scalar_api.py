"""The pyotp-like scalar objects: canonical codes, argument checks, reprs without secrets."""

from __future__ import annotations

import base64
import datetime as dt
import time
from typing import Any

import pyotp
import pytest

import pyotp_hw

from . import oracle

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
KEY = b"12345678901234567890"


P = pyotp_hw.Problem


@pytest.mark.parametrize(
    "code,problem",
    [(" 287082", P.WHITESPACE), ("287082 ", P.WHITESPACE), ("287 082", P.WHITESPACE),
     ("287082\n", P.WHITESPACE), ("\t287082", P.WHITESPACE), ("287\u3000082", P.WHITESPACE),
     ("+287082", P.NOT_DIGITS), ("-287082", P.NOT_DIGITS), ("28_082", P.NOT_DIGITS),
     ("0x1234", P.NOT_DIGITS), ("abc", P.NOT_DIGITS), ("２８７０８２", P.NOT_DIGITS),
     ("２87082", P.NOT_DIGITS), ("٢٨٧٠٨٢", P.NOT_DIGITS), ("28708²", P.NOT_DIGITS),
     ("28708", P.LENGTH), ("2870820", P.LENGTH), ("0287082", P.LENGTH), ("", P.EMPTY),
     (None, P.MISSING), (-1, P.NEGATIVE), (-287082, P.NEGATIVE), (1_000_000, P.TOO_LARGE),
     (10**100, P.TOO_LARGE)],
)
def test_malformed_codes_are_not_valid_and_never_raise(code: object, problem: P) -> None:
    # Counter 1 and time 59 are where "287082" is the right code: only the form is wrong.
    hotp, totp = pyotp_hw.HOTP(SECRET), pyotp_hw.TOTP(SECRET)
    assert hotp.verify("287082", 1) and totp.verify("287082", 59)
    assert hotp.verify(code, 1) is False
    assert hotp.verify(code, 0, look_ahead=3) is False
    assert totp.verify(code, 59) is False
    assert totp.verify(code, 59, valid_window=2) is False
    assert totp.verify_and_get_timecode(code, 59) is None
    for result in (hotp.check(code, 1), totp.check(code, 59)):
        assert result.reason is pyotp_hw.Reason.MALFORMED and result.problem is problem
        assert not result and not result.ok and result.step is None
        assert result.detail and result.detail in result.message
        assert "\n" not in result.message
        if isinstance(code, str) and code.strip():
            assert code.strip() not in result.message


@pytest.mark.parametrize("code,hint", [
    ("287 082", "remove it"), ("28 70 82", "remove them"), ("2870820", "exactly 6 digits"),
    ("", "empty"), (None, "no code"), ("28708a", "ASCII digits"),
])
def test_check_says_what_is_wrong(code: object, hint: str) -> None:
    assert hint in pyotp_hw.TOTP(SECRET).check(code, 59).message


def test_check_reports_the_match_and_the_wrong_code() -> None:
    hotp = pyotp_hw.HOTP(SECRET, initial_count=10)
    right = oracle.hotp(KEY, 13)
    result = hotp.check(right, 1, look_ahead=5)
    assert result and result.reason is pyotp_hw.Reason.OK and result.step == 13
    assert result.problem is None and result.detail is None
    wrong = str((int(right) + 1) % 10**6).zfill(6)
    if all(oracle.hotp(KEY, c) != wrong for c in range(11, 17)):
        miss = hotp.check(wrong, 1, look_ahead=5)
        assert miss.reason is pyotp_hw.Reason.WRONG and not miss and miss.step is None
        assert miss.message == "the code does not match"
    totp = pyotp_hw.TOTP(SECRET, digits=8)
    hit = totp.check(oracle.totp(KEY, 59 + 30, 8), 59, valid_window=1)
    assert hit.ok and hit.step == 2 and totp.verify_and_get_timecode(
        oracle.totp(KEY, 89, 8), 59, valid_window=1) == 2


def test_int_codes_are_accepted_as_pyotp_does() -> None:
    otp = pyotp_hw.HOTP(SECRET)
    assert otp.verify(287082, 1)
    assert otp.check(287082, 1).step == 1
    # 7 is the code 000007 (its leading zeros are implied), not a malformed code.
    assert otp.check(7, 1).reason is pyotp_hw.Reason.WRONG


@pytest.mark.parametrize("code", [True, False, 287082.0, float("nan"), b"287082",
                                  bytearray(b"287082"), ["287082"], object()])
def test_other_code_types_are_programming_errors(code: object) -> None:
    for call in (lambda: pyotp_hw.HOTP(SECRET).verify(code, 1),
                 lambda: pyotp_hw.TOTP(SECRET).check(code, 59),
                 lambda: pyotp_hw.Steam(SECRET).verify(code, 59)):
        with pytest.raises(pyotp_hw.InvalidType, match="code must be"):
            call()


def test_ten_digit_codes_above_the_truncation_are_wrong_not_overflow() -> None:
    # A 10-digit code is the 31-bit truncation itself: values from 2**31 up never match, and
    # used to overflow the C call's uint32 (OverflowError) instead of answering False.
    hotp, totp = pyotp_hw.HOTP(SECRET, digits=10), pyotp_hw.TOTP(SECRET, digits=10)
    for code in ("4294967296", "9999999999", "2147483648", 4294967296, 9_999_999_999):
        assert hotp.verify(code, 0, look_ahead=10) is False
        assert hotp.check(code, 0).reason is pyotp_hw.Reason.WRONG
        assert totp.verify(code, 59, valid_window=3) is False
        assert hotp.find(int(code), 0, 10) is None
    right = oracle.hotp(KEY, 4, 10)
    assert hotp.check(right, 0, look_ahead=5).step == 4
    assert hotp.find(int(right), 0, 5) == 4
    assert totp.verify(oracle.totp(KEY, 10**9, 10), 10**9)


@pytest.mark.parametrize("args,error", [
    ((123456, -1, 0), pyotp_hw.InvalidArgument), ((123456, 1 << 64, 0), pyotp_hw.InvalidArgument),
    ((123456, 0, -1), pyotp_hw.InvalidArgument), ((123456, 0, 1 << 70), pyotp_hw.InvalidArgument),
    ((123456, 0, 1001), pyotp_hw.InvalidArgument), ((-1, 0, 0), pyotp_hw.InvalidCode),
    ((1 << 40, 0, 0), pyotp_hw.InvalidCode), (("123456", 0, 0), pyotp_hw.InvalidType),
    ((123456, 1.5, 0), pyotp_hw.InvalidType), ((123456, 0, 1.0), pyotp_hw.InvalidType),
])
def test_find_raises_typed_errors_not_overflow(args: tuple[object, object, object],
                                               error: type[Exception]) -> None:
    with pytest.raises(error):
        pyotp_hw.HOTP(SECRET).find(*args)  # type: ignore[arg-type]


def test_look_ahead_stops_at_the_last_counter() -> None:
    top = (1 << 64) - 1
    hotp = pyotp_hw.HOTP(SECRET)
    assert hotp.check(oracle.hotp(KEY, top), top - 2, look_ahead=5).step == top
    # No wrap-around to counter 0.
    same = oracle.hotp(KEY, 0) == oracle.hotp(KEY, top)
    assert hotp.find(int(oracle.hotp(KEY, 0)), top, 5) == (top if same else None)
    with pytest.raises(pyotp_hw.InvalidArgument, match="counter"):
        pyotp_hw.HOTP(SECRET, initial_count=top).check("123456", 1)


def test_bad_program_arguments_still_raise_even_with_a_malformed_code() -> None:
    with pytest.raises(pyotp_hw.InvalidArgument, match="counter"):
        pyotp_hw.HOTP(SECRET).verify("", -1)
    with pytest.raises(pyotp_hw.InvalidArgument, match="valid_window"):
        pyotp_hw.TOTP(SECRET).verify(None, 59, valid_window=-1)
    with pytest.raises(pyotp_hw.InvalidArgument, match="for_time"):
        pyotp_hw.TOTP(SECRET).verify("abc", float("inf"))


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


@pytest.mark.parametrize("kwargs,error", [
    ({"interval": 1 << 63}, pyotp_hw.InvalidArgument), ({"interval": 30.0}, pyotp_hw.InvalidType),
    ({"t0": 1e30}, pyotp_hw.InvalidArgument), ({"t0": float("nan")}, pyotp_hw.InvalidArgument),
    ({"t0": "0"}, pyotp_hw.InvalidType), ({"name": 5}, pyotp_hw.InvalidType),
    ({"issuer": b"Example"}, pyotp_hw.InvalidType), ({"digits": 6.0}, pyotp_hw.InvalidType),
    ({"digest": object()}, pyotp_hw.InvalidType),
])
def test_constructors_stay_strict(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
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


@pytest.mark.parametrize("call", [
    lambda: pyotp_hw.TOTP(SECRET, interval=10**5000),
    lambda: pyotp_hw.TOTP(SECRET, digits=-(10**5000)),
    lambda: pyotp_hw.TOTP(SECRET, t0=10**5000),
    lambda: pyotp_hw.TOTP(SECRET).at(10**5000),
    lambda: pyotp_hw.TOTP(SECRET).verify("123456", -(10**5000)),
    lambda: pyotp_hw.TOTP(SECRET).verify("123456", 59, valid_window=10**5000),
    lambda: pyotp_hw.HOTP(SECRET).at(10**5000),
    lambda: pyotp_hw.HOTP(SECRET).verify("123456", 10**5000),
    lambda: pyotp_hw.HOTP(SECRET).find(1, 0, 10**5000),
])
def test_numbers_of_thousands_of_digits_get_a_typed_error(call: Any) -> None:
    # str() of an int of 4300+ digits raises a bare ValueError: messages must not print it.
    with pytest.raises(pyotp_hw.InvalidArgument) as info:
        call()
    assert len(str(info.value)) < 200


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("key_len", [1, 20, 64, 65, 200])
def test_first_and_later_codes_agree_with_hmac(digest: str, key_len: int) -> None:
    # An object's first code comes from its key (states on the C stack), later ones from its
    # key table: both must be HMAC's, for short keys and for keys longer than the block.
    key = bytes((7 * i + key_len) % 256 for i in range(key_len))
    t = 1_700_000_000
    first = pyotp_hw.TOTP(key, digest=digest)
    assert first.at(t) == oracle.totp(key, t, digest=digest)
    assert [first.at(t + 30 * i) for i in range(3)] == [
        oracle.totp(key, t + 30 * i, digest=digest) for i in range(3)
    ]
    code = oracle.totp(key, t + 30, digest=digest)
    fresh = pyotp_hw.TOTP(key, digest=digest)
    assert fresh.check(code, t, 1).step == (t + 30) // 30
    assert fresh.check(code, t, 1).step == (t + 30) // 30
    assert not pyotp_hw.TOTP(key, digest=digest).verify(code, t, 0)
    counter_code = oracle.hotp(key, 9, digest=digest)
    for _ in range(2):
        hotp = pyotp_hw.HOTP(key, digest=digest)
        assert hotp.check(counter_code, 5, look_ahead=4).step == 9
        assert hotp.check(counter_code, 5, look_ahead=4).step == 9
        assert hotp.at(9) == counter_code


def test_secret_text_is_canonical_however_it_was_given() -> None:
    key = bytes(range(1, 21))
    canonical = base64.b32encode(key).decode("ascii").rstrip("=")
    for given_as in (key, canonical, canonical.lower(), canonical + "====", " ".join(canonical)):
        otp = pyotp_hw.TOTP(given_as)
        assert otp.secret == canonical
        assert otp.byte_secret() == key
        assert canonical not in repr(otp) and canonical.lower() not in repr(otp)


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_now_on_a_warm_object_matches_hmac(digest: str) -> None:
    # From the third call on, now() is one C call over the object's key table.
    key = bytes(range(40, 72))
    ours = pyotp_hw.TOTP(key, digits=8, digest=digest, interval=45, t0=1_000)
    checked = 0
    for _ in range(20):
        t = int(time.time())
        code = ours.now()
        if int(time.time()) == t:
            assert code == oracle.totp(key, t - 1_000, digits=8, digest=digest, period=45)
            checked += 1
    assert checked >= 5
    future = pyotp_hw.TOTP(key, t0=int(time.time()) + 3_600)
    for _ in range(3):
        with pytest.raises(pyotp_hw.InvalidArgument, match="before t0"):
            future.now()
        future.at(int(time.time()) + 7_200)  # warms the object
