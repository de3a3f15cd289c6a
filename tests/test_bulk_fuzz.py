"""Fuzz every batch entry point's arguments: a result or a clean typed error, nothing else.

Issue 10 (section 3.5) counted 597 of 4000 fuzzed calls ending in NotImplementedError, ValueError
or TypeError straight from memoryview or array. Each test below draws every argument of one entry
point from valid values, odd numbers, numpy arrays of every dtype family and byte order,
``array.array`` of every type, memoryviews, sequences, iterators and junk; whatever is raised must
be one of the project's errors, holding no secret (tests/typed_errors.py).
"""

from __future__ import annotations

import datetime as dt
import decimal
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw import bulk
from pyotp_hw.errors import OTPError

from .typed_errors import assert_clean_error, fuzz

KEY = b"12345678901234567890"
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
TABLE = bulk.KeyTable([KEY, KEY[::-1], b"another key 0123"])

# Values hypothesis could not even print (a 5000-digit int has no repr), built on demand.
ODD: dict[str, Callable[[], Any]] = {
    "huge": lambda: 10**5000, "-huge": lambda: -(10**5000),
    "decimal 1e999999999": lambda: decimal.Decimal("1e999999999"),
    "decimal sNaN": lambda: decimal.Decimal("sNaN"), "inf": lambda: float("inf"),
    "float16": lambda: np.float16(3.5), "uint64 max": lambda: np.uint64(2**64 - 1),
    "int8 -1": lambda: np.int8(-1), "datetime max": lambda: dt.datetime.max,
}
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.integers(-3, 40), st.floats(),
    st.decimals(), st.fractions(), st.complex_numbers(), st.text(max_size=8),
    st.binary(max_size=24), st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.dates(), st.sampled_from(sorted(ODD)).map(lambda name: ODD[name]()),
)
# Every dtype family numpy has, in both byte orders (hypothesis.extra.numpy drew the same set
# but cost 20x the time per example).
DTYPES: list[Any] = [
    "<i1", ">i2", "<i4", ">i8", "=i8", "<u1", ">u2", "=u4", "<u8", ">u8", "=u8", "<f2", ">f2",
    "<f4", ">f8", "=f8", "<c8", ">c16", "=M8[s]", ">M8[ns]", "<m8[s]", "?", "S2", "U2", "O",
    [("a", "<i4"), ("b", ">u2")],
]


def _np_array(dtype: Any, start: int, size: int, shape: str) -> Any:
    values = np.arange(start, start + size)
    try:
        arr = values.astype(dtype)
    except (TypeError, ValueError):
        arr = np.zeros(size, dtype=dtype)
    if shape == "0-d":
        return arr[:1].reshape(()) if size else np.zeros((), dtype=dtype)
    if shape == "2-d" and size == 4:
        return arr.reshape(2, 2)
    if shape == "strided":
        return arr[::-1]
    return arr


np_arrays = st.builds(_np_array, st.sampled_from(DTYPES), st.integers(-2, 90),
                      st.integers(0, 4), st.sampled_from(["1-d", "0-d", "2-d", "strided"]))
py_arrays = st.builds(
    lambda code, items: array(code, items),
    st.sampled_from("bBhHiIlLqQfd"), st.lists(st.integers(0, 120), max_size=3),
) | st.just(array("u", "abc"))
views = st.one_of(
    np_arrays.filter(lambda a: a.dtype.kind not in "MmO").map(memoryview),
    st.binary(max_size=24).map(memoryview),
    st.binary(min_size=8, max_size=24).map(lambda b: memoryview(b[: len(b) // 8 * 8]).cast("q")),
)
numbers = st.one_of(
    scalars, np_arrays, py_arrays, views,
    st.lists(scalars, max_size=3), st.lists(st.integers(0, 99), min_size=1, max_size=3),
    st.lists(scalars, max_size=3).map(tuple), st.lists(scalars, max_size=3).map(iter),
    st.sets(st.integers(0, 5), max_size=3), st.builds(range, st.integers(0, 4)),
)
keys = st.one_of(
    st.sampled_from([KEY, SECRET, [KEY], [KEY, SECRET, KEY], TABLE, [b""], "bad*base32"]),
    scalars, st.lists(st.one_of(st.binary(max_size=20), st.text(max_size=20)), max_size=3),
)
options = st.one_of(st.integers(-3, 12), scalars)
threads = st.one_of(st.none(), st.integers(-1, 4), scalars)
outs = st.one_of(st.none(), st.integers(0, 4).map(lambda n: np.zeros(n, dtype=np.uint32)),
                 np_arrays, py_arrays, st.binary(max_size=8), scalars)
windows = st.one_of(st.integers(-2, 3), st.tuples(st.integers(-2, 3), st.integers(-2, 3)),
                    st.lists(options, max_size=3), scalars)
digests = st.one_of(st.none(), st.sampled_from(["sha1", "SHA256", "sha512", "md5"]), scalars)
rows = st.one_of(st.none(), numbers)


def attempt(call: Callable[[], Any]) -> None:
    try:
        call()
    except OTPError as exc:
        assert_clean_error(exc, [SECRET, KEY])
    # Anything else propagates and fails the test: only typed errors may come out.


@fuzz
@given(k=keys, counters=numbers, digits=options, digest=digests, n=threads, out=outs, r=rows)
def test_hotp_fuzz(k: Any, counters: Any, digits: Any, digest: Any, n: Any, out: Any,
                   r: Any) -> None:
    attempt(lambda: bulk.hotp(k, counters, digits=digits, digest=digest, threads=n, out=out,
                              rows=r))


@fuzz
@given(k=keys, times=numbers, interval=options, t0=numbers, digits=options, n=threads, out=outs,
       r=rows)
def test_totp_fuzz(k: Any, times: Any, interval: Any, t0: Any, digits: Any, n: Any, out: Any,
                   r: Any) -> None:
    attempt(lambda: bulk.totp(k, times, interval=interval, t0=t0, digits=digits, threads=n,
                              out=out, rows=r))


@fuzz
@given(k=keys, codes=numbers, times=numbers, interval=options, window=windows, last=numbers,
       digest=digests, n=threads, r=rows)
def test_verify_totp_fuzz(k: Any, codes: Any, times: Any, interval: Any, window: Any, last: Any,
                          digest: Any, n: Any, r: Any) -> None:
    attempt(lambda: bulk.verify_totp(k, codes, times, interval=interval, window=window,
                                     last_steps=last, digest=digest, threads=n, rows=r))


@fuzz
@given(k=keys, codes=numbers, counters=numbers, look_ahead=options, digits=options, n=threads,
       r=rows)
def test_verify_hotp_fuzz(k: Any, codes: Any, counters: Any, look_ahead: Any, digits: Any,
                          n: Any, r: Any) -> None:
    attempt(lambda: bulk.verify_hotp(k, codes, counters, look_ahead=look_ahead, digits=digits,
                                     threads=n, rows=r))


@fuzz
@given(secrets=keys, digest=digests, picked=numbers, parts=st.lists(
    st.tuples(st.one_of(st.just(TABLE), scalars), numbers), max_size=2))
def test_keytable_select_gather_fuzz(secrets: Any, digest: Any, picked: Any, parts: Any) -> None:
    attempt(lambda: bulk.KeyTable(secrets, digest=digest if digest is not None else "sha1"))
    attempt(lambda: TABLE.select(picked))
    attempt(lambda: bulk.KeyTable.gather(parts))
