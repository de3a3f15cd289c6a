"""Checklist 1 and 14: exact RFC answers through the verifier, and 64-bit edges."""

from __future__ import annotations

import pytest

from pyotp_hw.verifier import Reason

from .conftest import SECRET, T
from .helpers import hotp, totp

RFC6238_SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}


def test_rfc6238_appendix_b(vectors, open_verifier) -> None:
    # Each hash with its own seed (erratum 2866), 8 digits, window 0, including t = 20000000000.
    v = open_verifier("memory:", window=0, digits=8)
    for i, vec in enumerate(vectors["rfc6238_totp_8digits"]):
        digest = vec["algorithm"]
        seed = vec["secret_ascii"].encode()
        assert seed == RFC6238_SEEDS[digest]
        user = f"rfc{i}"
        v.enroll(user, seed, digest=digest, digits=8, now=T)
        t = vec["unix_time"]
        result = v.verify(user, vec["code"], now=t)
        assert result.ok and result.step == t // 30, vec
        assert not v.verify(user, vec["code"], now=t).ok
    assert {vec["unix_time"] for vec in vectors["rfc6238_totp_8digits"]} >= {20000000000}


def test_rfc4226_appendix_d(vectors, store_url, open_verifier) -> None:
    v = open_verifier(store_url, look_ahead=0)
    data = vectors["rfc4226_hotp_sha1_6digits"]
    v.enroll("h", data["secret_base32"], kind="hotp", now=T)
    for counter, code in enumerate(data["codes_by_counter"]):
        assert code == hotp(SECRET, counter)  # the independent oracle agrees with the RFC
        result = v.verify("h", code, now=T)
        assert result.ok and result.step == counter


@pytest.mark.parametrize("t", [2**31 - 1, 2**31, 2**32, 2**33 + 17, 20_000_000_000])
def test_times_beyond_32_bit_time_t(store_url, open_verifier, t) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    result = v.verify("alice", totp(SECRET, t), now=t)
    assert result.ok and result.step == t // 30
    # A 32-bit truncation of the time would have matched this code instead.
    truncated = t & 0xFFFFFFFF
    if truncated // 30 != t // 30:
        assert not v.verify("alice", totp(SECRET, truncated), now=t + 30).ok


def test_window_at_step_zero(store_url, open_verifier) -> None:
    # The window's past edge would go below 0: those steps do not exist and match nothing.
    v = open_verifier(store_url, window=2)
    v.enroll_many([("a", SECRET), ("b", SECRET)], now=T)
    assert v.verify("a", totp(SECRET, 0), now=0).step == 0
    assert v.verify("b", totp(SECRET, 0, step_offset=2), now=5).step == 2


def test_time_before_t0(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", SECRET, t0=1_000_000, now=T)
    assert v.verify("alice", "123456", now=999_999).reason is Reason.OUT_OF_RANGE
    code = totp(SECRET, 1_000_000, t0=1_000_000)
    result = v.verify("alice", code, now=1_000_000)
    assert result.ok and result.step == 0


def test_time_near_the_int64_limit(open_verifier) -> None:
    v = open_verifier("memory:")
    v.enroll("alice", SECRET, now=T)
    t = 2**62 + 12345
    result = v.verify("alice", totp(SECRET, t), now=t)
    assert result.ok and result.step == t // 30


def test_hotp_counters_at_the_top_of_the_64_bit_range(store_url, open_verifier) -> None:
    v = open_verifier(store_url, look_ahead=2)
    top = 2**64 - 1
    v.enroll("h", SECRET, kind="hotp", counter=top - 3, now=T)
    assert v.verify("h", hotp(SECRET, top - 3), now=T).step == top - 3
    assert v.verify("h", hotp(SECRET, top - 3), now=T).reason is Reason.REPLAY
    assert v.verify("h", hotp(SECRET, top - 1), now=T).step == top - 1
    assert v.verify("h", hotp(SECRET, top), now=T).step == top
    info = v.credential("h")
    assert info is not None and info.last_used == top
    # Every counter is used: nothing can verify any more.
    assert v.verify("h", hotp(SECRET, top), now=T).reason is Reason.OUT_OF_RANGE


def test_hotp_across_2_to_the_63(store_url, open_verifier) -> None:
    # Counters around 2**63, where a signed 64-bit column or result would turn negative.
    v = open_verifier(store_url, look_ahead=3)
    start = 2**63 - 2
    v.enroll("h", SECRET, kind="hotp", counter=start, now=T)
    for counter in (start, start + 1, start + 2, start + 4):
        assert v.verify("h", hotp(SECRET, counter), now=T).step == counter
    assert v.verify("h", hotp(SECRET, start + 3), now=T).reason is Reason.REPLAY
