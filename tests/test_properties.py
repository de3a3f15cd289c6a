"""Property tests: every entry point against Python's hmac (tests/oracle.py) and pyotp."""

from __future__ import annotations

import base64
import hashlib
from array import array

import pyotp
from hypothesis import assume, given
from hypothesis import strategies as st

import pyotp_hw
from pyotp_hw import bulk

from . import oracle

U64_MAX = (1 << 64) - 1
YEAR_9999_END = 253402300799

keys = st.binary(min_size=1, max_size=300)
digests = st.sampled_from(["sha1", "sha256", "sha512"])
digits = st.integers(min_value=6, max_value=10)
counters = st.one_of(
    st.integers(min_value=0, max_value=U64_MAX),
    st.integers(min_value=(1 << 32) - 3, max_value=(1 << 32) + 3),  # the 2^32 boundary
    st.sampled_from([0, 1, (1 << 63) - 1, 1 << 63, U64_MAX - 1, U64_MAX]),
)
times = st.integers(min_value=0, max_value=YEAR_9999_END)
periods = st.integers(min_value=1, max_value=600)


@given(key=keys, counter=counters, d=digits, digest=digests)
def test_hotp_at_matches_hmac(key: bytes, counter: int, d: int, digest: str) -> None:
    assert pyotp_hw.HOTP(key, digits=d, digest=digest).at(counter) == oracle.hotp(
        key, counter, d, digest)


@given(key=keys, t=times, d=digits, digest=digests, period=periods)
def test_totp_at_matches_hmac(key: bytes, t: int, d: int, digest: str, period: int) -> None:
    otp = pyotp_hw.TOTP(key, digits=d, digest=digest, interval=period)
    assert otp.at(t) == oracle.totp(key, t, d, digest, period)
    assert otp.timecode(t) == t // period


@given(key=st.binary(min_size=16, max_size=200), counter=counters, d=digits, digest=digests)
def test_hotp_matches_pyotp(key: bytes, counter: int, d: int, digest: str) -> None:
    secret = base64.b32encode(key).decode()
    ref = pyotp.HOTP(secret, digits=d, digest=getattr(hashlib, digest))
    ours = pyotp_hw.HOTP(secret, digits=d, digest=digest)
    assert ours.at(counter) == ref.at(counter)


@given(key=st.binary(min_size=16, max_size=200), t=times, d=digits, digest=digests,
       period=st.integers(min_value=1, max_value=120))
def test_totp_matches_pyotp(key: bytes, t: int, d: int, digest: str, period: int) -> None:
    secret = base64.b32encode(key).decode().rstrip("=")
    ref = pyotp.TOTP(secret, digits=d, digest=getattr(hashlib, digest), interval=period)
    ours = pyotp_hw.TOTP(secret, digits=d, digest=digest, interval=period)
    assert ours.at(t) == ref.at(t)
    assert ours.verify(ref.at(t), t)


@given(key=keys, start=counters, n=st.integers(min_value=1, max_value=300), d=digits,
       digest=digests)
def test_bulk_hotp_one_key_many_counters(key: bytes, start: int, n: int, d: int,
                                         digest: str) -> None:
    ctrs = [min(start + i, U64_MAX) for i in range(n)]
    got = bulk.hotp(key, array("Q", ctrs), digits=d, digest=digest)
    assert list(got) == [int(oracle.hotp(key, c, d, digest)) for c in ctrs]


@given(ks=st.lists(keys, min_size=1, max_size=40), cs=st.data(), d=digits, digest=digests)
def test_bulk_forms_agree_with_scalar(ks: list[bytes], cs: st.DataObject, d: int,
                                      digest: str) -> None:
    ctrs = cs.draw(st.lists(counters, min_size=len(ks), max_size=len(ks)))
    one = ctrs[0]
    expected = [
        pyotp_hw.HOTP(k, digits=d, digest=digest).at(c) for k, c in zip(ks, ctrs, strict=True)
    ]
    # One counter per key, through a list, an array and a KeyTable.
    assert [str(c).zfill(d) for c in bulk.hotp(ks, ctrs, digits=d, digest=digest)] == expected
    with bulk.KeyTable(ks, digest=digest) as table:
        assert [str(c).zfill(d) for c in bulk.hotp(table, array("Q", ctrs), digits=d)] == expected
        # One counter broadcast to every key.
        assert list(bulk.hotp(table, one, digits=d)) == [
            int(oracle.hotp(k, one, d, digest)) for k in ks]
        # Rows: every key reversed.
        rows = list(reversed(range(len(ks))))
        assert list(bulk.hotp(table, ctrs, digits=d, rows=rows)) == [
            int(oracle.hotp(ks[r], c, d, digest)) for r, c in zip(rows, ctrs, strict=True)]


@given(ks=st.lists(keys, min_size=1, max_size=30), data=st.data(), d=digits, digest=digests,
       period=periods)
def test_bulk_totp_per_key_times(ks: list[bytes], data: st.DataObject, d: int, digest: str,
                                 period: int) -> None:
    ts = data.draw(st.lists(times, min_size=len(ks), max_size=len(ks)))
    got = bulk.totp(ks, ts, interval=period, digits=d, digest=digest)
    assert list(got) == [
        int(oracle.totp(k, t, d, digest, period)) for k, t in zip(ks, ts, strict=True)
    ]
    t = ts[0]
    assert list(bulk.totp(ks, t, interval=period, digits=d, digest=digest)) == [
        int(oracle.totp(k, t, d, digest, period)) for k in ks]


def _expected_step(key: bytes, code: int, t: int, period: int, past: int, future: int,
                   last: int, d: int, digest: str) -> int:
    s = t // period
    for cand in range(s - past, s + future + 1):
        if cand < 0 or cand <= last:
            continue
        if int(oracle.hotp(key, cand, d, digest)) == code:
            return cand
    return -1


@given(key=keys, t=times, offset=st.integers(min_value=-4, max_value=4),
       past=st.integers(min_value=0, max_value=3), future=st.integers(min_value=0, max_value=3),
       last_delta=st.one_of(st.none(), st.integers(min_value=-5, max_value=2)), d=digits,
       digest=digests, period=st.integers(min_value=1, max_value=90))
def test_verify_totp_window_and_replay(key: bytes, t: int, offset: int, past: int, future: int,
                                       last_delta: int | None, d: int, digest: str,
                                       period: int) -> None:
    s = t // period
    assume(s + offset >= 0)
    code = int(oracle.hotp(key, s + offset, d, digest))
    last = -1 if last_delta is None else max(-1, s + last_delta)
    expected = _expected_step(key, code, t, period, past, future, last, d, digest)
    got = bulk.verify_totp([key], [code], [t], interval=period, window=(past, future), digits=d,
                           digest=digest, last_steps=[last])
    assert list(got) == [expected]
    if last_delta is None and past == future:
        otp = pyotp_hw.TOTP(key, digits=d, digest=digest, interval=period)
        assert otp.verify_and_get_timecode(str(code).zfill(d), t, past) == (
            None if expected < 0 else expected)


@given(key=keys, counter=counters, offset=st.integers(min_value=0, max_value=6),
       look=st.integers(min_value=0, max_value=5), d=digits, digest=digests)
def test_hotp_verify_look_ahead_full_range(key: bytes, counter: int, offset: int, look: int,
                                           d: int, digest: str) -> None:
    target = counter + offset
    assume(target <= U64_MAX)
    code = oracle.hotp(key, target, d, digest)
    expected = None
    for cand in range(counter, min(counter + look, U64_MAX) + 1):
        if oracle.hotp(key, cand, d, digest) == code:
            expected = cand
            break
    otp = pyotp_hw.HOTP(key, digits=d, digest=digest)
    assert otp.find(int(code), counter, look) == expected
    assert otp.verify(code, counter, look_ahead=look) == (expected is not None)
    if counter + look < 1 << 63:
        got = bulk.verify_hotp([key], [int(code)], [counter], look_ahead=look, digits=d,
                               digest=digest)
        assert list(got) == [-1 if expected is None else expected]


@given(key=st.binary(min_size=1, max_size=64), t=times)
def test_steam_matches_oracle(key: bytes, t: int) -> None:
    assert pyotp_hw.Steam(key).at(t) == oracle.steam(key, t)
