"""The warm objects' one-call paths: TOTP.now() reading the clock in C, at(), verify().

From an object's second use on, it holds a C handle (its key's table and its parameters,
``pyotp_hw._native.scalar_key``) in ``_bound``, and ``now()``, ``at()`` and ``verify()`` make
one cffi call over it; ``now()`` takes the time from C (``otp_scalar_now``), not from
``time.time()``. Every code here is checked against the hmac oracle of tests/oracle.py or
against pyotp.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import pyotp
import pytest

import pyotp_hw

from . import oracle

KEY = bytes(range(1, 33))
DIGESTS = ["sha1", "sha256", "sha512"]
# A step this long makes the current step a chosen counter for days: t0 is set so that now is
# half a step past the start of step `counter`, whatever the clock reads within that margin.
LONG = 1_000_000


def _warm_totp(counter: int, digits: int, digest: str) -> pyotp_hw.TOTP:
    t0 = int(time.time()) - counter * LONG - LONG // 2
    otp = pyotp_hw.TOTP(KEY, digits=digits, digest=digest, interval=LONG, t0=t0)
    for _ in range(3):
        otp.now()
    assert otp._bound is not None  # the C clock path is what the assertions below exercise
    return otp


def _leading_zero_counter(digits: int, digest: str) -> int:
    """The first counter whose code (by the oracle) starts with 0."""
    return next(c for c in range(100_000) if oracle.hotp(KEY, c, digits, digest)[0] == "0")


@pytest.mark.parametrize("digest", DIGESTS)
@pytest.mark.parametrize("digits", [6, 7, 8, 9, 10])
def test_now_from_the_c_clock_pads_every_length(digits: int, digest: str) -> None:
    counter = _leading_zero_counter(digits, digest)
    otp = _warm_totp(counter, digits, digest)
    expected = oracle.hotp(KEY, counter, digits, digest)
    assert expected[0] == "0" and len(expected) == digits
    assert otp.now() == expected
    # And a code without leading zero, at another chosen step.
    other = next(c for c in range(100_000) if oracle.hotp(KEY, c, digits, digest)[0] != "0")
    assert _warm_totp(other, digits, digest).now() == oracle.hotp(KEY, other, digits, digest)


@pytest.mark.parametrize("digest", DIGESTS)
def test_now_from_the_c_clock_agrees_with_time_time(digest: str) -> None:
    # A 1-second step crosses a boundary at every second; a check is kept only when the clock
    # showed the same second before and after it.
    ours = pyotp_hw.TOTP(KEY, digest=digest, digits=8, interval=1, t0=1_000)
    for _ in range(3):
        ours.now()
    assert ours._bound is not None
    checked = 0
    for _ in range(200):
        before = int(time.time())
        code = ours.now()
        if int(time.time()) == before:
            assert code == oracle.totp(KEY, before, 8, digest, period=1, t0=1_000)
            checked += 1
        if checked >= 20:
            break
    assert checked >= 20


def test_now_from_the_c_clock_agrees_with_pyotp() -> None:
    secret = pyotp.random_base32()
    ours, theirs = pyotp_hw.TOTP(secret), pyotp.TOTP(secret)
    for _ in range(3):
        ours.now()
    for _ in range(5):
        step = int(time.time()) // 30
        a, b = ours.now(), theirs.now()
        if int(time.time()) // 30 == step:  # retry when the step changed during the check
            assert a == b
            return
    pytest.fail("the 30 s step changed during five checks in a row")


def test_bound_now_refuses_a_time_before_t0() -> None:
    future = pyotp_hw.TOTP(KEY, t0=int(time.time()) + 3_600)
    for _ in range(2):
        future.at(int(time.time()) + 7_200)  # builds the key table
    with pytest.raises(pyotp_hw.InvalidArgument, match=r"before t0"):
        future.now()
    assert future._bound is not None
    with pytest.raises(pyotp_hw.InvalidArgument, match=r"before t0"):
        future.now()


def test_changed_parameters_rebind_the_calls() -> None:
    otp = _warm_totp(5, 6, "sha1")
    otp.digits = 8
    assert otp._bound is None
    assert otp.now() == oracle.hotp(KEY, 5, 8)
    otp.interval = LONG * 2  # now is half a step into step 5 of LONG: step 2 of 2 * LONG
    assert otp.now() == oracle.hotp(KEY, 2, 8)
    otp.t0 = otp.t0 - 4 * LONG
    assert otp.now() == oracle.hotp(KEY, 4, 8)
    assert otp.verify(oracle.hotp(KEY, 4, 8))
    with pytest.raises(pyotp_hw.InvalidArgument):
        otp.digits = 5
    with pytest.raises(pyotp_hw.InvalidType):
        otp.digits = "8"  # type: ignore[assignment]
    with pytest.raises(pyotp_hw.InvalidArgument):
        otp.interval = 0
    with pytest.raises(pyotp_hw.InvalidType):
        otp.interval = 1.5  # type: ignore[assignment]
    assert (otp.digits, otp.interval) == (8, 2 * LONG)
    assert otp.now() == oracle.hotp(KEY, 4, 8)


@pytest.mark.parametrize("digest", DIGESTS)
@pytest.mark.parametrize("digits", [6, 8, 10])
def test_bound_hotp_at_matches_the_oracle(digits: int, digest: str) -> None:
    start = 7
    otp = pyotp_hw.HOTP(KEY, digits=digits, digest=digest, initial_count=start)
    for count in range(40):
        assert otp.at(count) == oracle.hotp(KEY, start + count, digits, digest)
    assert otp._bound is not None
    zero = _leading_zero_counter(digits, digest)
    if zero >= start:
        assert otp.at(zero - start) == oracle.hotp(KEY, zero, digits, digest)
    top = (1 << 64) - 1
    assert otp.at(top - start) == oracle.hotp(KEY, top, digits, digest)


def test_bound_hotp_at_keeps_every_check() -> None:
    otp = pyotp_hw.HOTP(KEY, initial_count=10)
    for count in range(3):
        otp.at(count)
    assert otp._bound is not None
    top = (1 << 64) - 1
    for bad in (-1, top - 9, 1 << 64, 10**30):
        with pytest.raises(pyotp_hw.InvalidArgument):
            otp.at(bad)
    for wrong in (1.0, "1", None, True):
        with pytest.raises(pyotp_hw.InvalidType):
            otp.at(wrong)  # type: ignore[arg-type]
    otp.initial_count = -20  # a program's own (bad) assignment is still refused, not wrapped
    with pytest.raises(pyotp_hw.InvalidArgument):
        otp.at(3)
    otp.initial_count = 0
    assert otp.at(3) == oracle.hotp(KEY, 3)
    otp.digits = 7
    assert otp.at(3) == oracle.hotp(KEY, 3, 7)


@pytest.mark.parametrize("digest", DIGESTS)
def test_bound_verify_returns_the_lowest_step(digest: str) -> None:
    otp = pyotp_hw.TOTP(KEY, digest=digest, digits=8, t0=60)
    t = 60 + 30 * 1_000 + 7
    for _ in range(3):
        otp.verify("00000000", t)
    assert otp._bound is not None
    for offset in (-2, -1, 0, 1, 2):
        code = oracle.hotp(KEY, 1_000 + offset, 8, digest)
        assert otp.verify_and_get_timecode(code, t, 2) == 1_000 + offset
        narrow = otp.verify_and_get_timecode(code, t, abs(offset) - 1 if offset else 0)
        assert narrow == (None if offset else 1_000)
    # Near t0 the window stops at step 0.
    assert otp.verify_and_get_timecode(oracle.hotp(KEY, 0, 8, digest), 61, 3) == 0
    wrong = next(str(c).zfill(8) for c in range(10**8)
                 if all(str(c).zfill(8) != oracle.hotp(KEY, 1_000 + o, 8, digest)
                        for o in (-1, 0, 1)))
    assert otp.verify_and_get_timecode(wrong, t, 1) is None
    with pytest.raises(pyotp_hw.InvalidArgument, match=r"before t0"):
        otp.verify("12345678", 59)


def test_bound_verify_from_threads_shares_no_output_slot() -> None:
    otp = pyotp_hw.TOTP(KEY)
    for _ in range(3):
        otp.verify("000000", 30)
    errors: list[str] = []

    def worker(first: int) -> None:
        for step in range(first, first + 300):
            got = otp.verify_and_get_timecode(oracle.hotp(KEY, step), step * 30 + 5, 1)
            if got is None or abs(got - step) > 1 or oracle.hotp(KEY, got) != oracle.hotp(
                    KEY, step):
                errors.append(f"step {step}: {got}")

    threads = [threading.Thread(target=worker, args=(i * 10_000,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_steam_keeps_its_own_path() -> None:
    steam = pyotp_hw.Steam(KEY)
    for _ in range(3):
        t = int(time.time())
        code = steam.now()
        if int(time.time()) // 30 == t // 30:
            assert code == oracle.steam(KEY, t)
    assert steam.digits == 5 and steam.check(oracle.steam(KEY, 1_000), 1_000).ok


def test_the_sanitizer_build_runs_these_tests() -> None:
    path = Path(__file__).resolve().parent.parent / "scripts" / "sanitize.py"
    spec = importlib.util.spec_from_file_location("sanitize", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "tests/test_scalar_bound.py" in module.CORE_TESTS


def test_rebinding_under_threads_never_mixes_handles_and_digits() -> None:
    # One thread changes digits back and forth (each change drops the handle, the next code
    # builds another) while others make codes: every code is the oracle's at 6 or at 8 digits,
    # never one handle's value padded to the other's length, and no call reaches a freed handle
    # (the handle owns its table; a call holds the handle it started with).
    totp, hotp = _warm_totp(3, 6, "sha1"), pyotp_hw.HOTP(KEY)
    for count in range(3):
        hotp.at(count)
    wanted = {oracle.hotp(KEY, 3, d) for d in (6, 8)}
    counted = {oracle.hotp(KEY, 9, d) for d in (6, 8)}
    errors: list[str] = []
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            for digits in (8, 6):
                totp.digits = hotp.digits = digits

    def use() -> None:
        for _ in range(3_000):
            if totp.now() not in wanted or totp.at(int(time.time())) not in wanted:
                errors.append("totp")
            if hotp.at(9) not in counted or hotp.generate_otp(9) not in counted:
                errors.append("hotp")

    flipper = threading.Thread(target=flip)
    users = [threading.Thread(target=use) for _ in range(3)]
    flipper.start()
    for thread in users:
        thread.start()
    for thread in users:
        thread.join()
    stop.set()
    flipper.join()
    assert errors == []


@pytest.mark.parametrize("digest", DIGESTS)
def test_bound_hotp_verify_returns_the_lowest_counter(digest: str) -> None:
    otp = pyotp_hw.HOTP(KEY, digits=8, digest=digest, initial_count=100)
    for _ in range(3):
        otp.verify("00000000", 0)
    assert otp._bound is not None
    for ahead in range(4):
        code = oracle.hotp(KEY, 100 + 50 + ahead, 8, digest)
        assert otp.check(code, 50, look_ahead=3).step == 150 + ahead
        assert otp.check(code, 50, look_ahead=ahead).step == 150 + ahead
        assert otp.check(code, 50, look_ahead=max(ahead - 1, 0)).step == (
            150 if ahead == 0 else None)
        assert otp.find(int(code), 150, 3) == 150 + ahead
    top = (1 << 64) - 1
    assert otp.find(int(oracle.hotp(KEY, top, 8, digest)), top - 2, 5) == top  # no wrap to 0
    otp.digits = 6
    assert otp._bound is None
    assert otp.check(oracle.hotp(KEY, 160, 6, digest), 59, look_ahead=2).step == 160
