"""One rule for the batch API's number arguments (issue 10, section 3.5; pyotp_hw/_numbers.py).

Counters, times, codes, steps and rows accept the same forms in every entry point: a number, a
sequence, or a 1-D buffer read by its item format (any integer type, either byte order; times also
take floats). Everything else is a typed error that names the argument and how to fix it. The
expected codes come from Python's ``hmac`` (tests/oracle.py).
"""

from __future__ import annotations

import decimal
import fractions
from array import array
from typing import Any

import numpy as np
import pytest

from pyotp_hw import bulk
from pyotp_hw.errors import InvalidArgument, InvalidType, OTPError

from . import oracle

KEY = b"12345678901234567890"
RFC_CODES = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489]
T = 1_111_111_109


@pytest.mark.parametrize("dtype", [">u8", ">i8", "<u8", ">u4", ">i2", "u1", ">u2", "i1"])
def test_integer_arrays_of_any_byte_order_are_counters(dtype: str) -> None:
    assert list(bulk.hotp(KEY, np.arange(10, dtype=dtype))) == RFC_CODES


@pytest.mark.parametrize("dtype", [np.float16, np.float32, ">f8", "<f4", ">i8", np.int16])
def test_times_read_from_float_and_foreign_order_arrays(dtype: Any) -> None:
    times = np.array([59, 60, 89, 90], dtype=dtype)
    want = [int(oracle.totp(KEY, int(t), digits=8)) for t in [59, 60, 89, 90]]
    assert list(bulk.totp([KEY] * 4, times, digits=8)) == want


def test_codes_and_steps_from_foreign_order_arrays() -> None:
    codes = np.array([int(oracle.totp(KEY, T))], dtype=">u4")
    assert list(bulk.verify_totp([KEY], codes, T)) == [T // 30]
    last = np.array([T // 30], dtype=">i8")
    assert list(bulk.verify_totp([KEY], codes, T, last_steps=last)) == [-1]
    assert list(bulk.verify_hotp([KEY], np.array([RFC_CODES[4]], dtype=">i4"),
                                 np.array([3], dtype=">u8"), look_ahead=2)) == [4]


def test_real_numbers_as_times() -> None:
    want = int(oracle.totp(KEY, 59, digits=8))
    for t in (decimal.Decimal("59.9"), fractions.Fraction(119, 2), np.float16(59.5), 59.999):
        assert list(bulk.totp([KEY], t, digits=8)) == [want], t


@pytest.mark.parametrize(
    ("value", "kind", "words"),
    [
        (np.zeros(3, dtype=complex), InvalidType, "format 'Zd'"),
        (np.zeros(3, dtype=[("a", "<i4")]), InvalidType, "format"),
        (np.zeros(3, dtype="datetime64[s]"), InvalidType, r"astype\('datetime64\[s\]'\)"),
        (np.zeros(3, dtype="timedelta64[s]"), InvalidType, "datetime64"),
        (np.zeros(3, dtype=bool), InvalidType, "format '?'"),
        (np.zeros(3, dtype=object), InvalidType, "format 'O'"),
        (np.zeros(3, dtype="U2"), InvalidType, "format"),
        (np.zeros((2, 2), dtype=np.uint64), InvalidArgument, "one-dimensional"),
        (array("u", "abc"), InvalidType, "format"),
        (b"\x01\x02\x03", InvalidType, r"memoryview\(data\)\.cast\('q'\)"),
        (bytearray(16), InvalidType, r"list\(data\)"),
        ("123", InvalidType, r"int\(\)"),
        (iter([1, 2]), InvalidType, r"list\(\.\.\.\)"),
        ({1, 2}, InvalidType, r"list\(\.\.\.\)"),
        ({1: 2}, InvalidType, r"list\(\.\.\.\)"),
        (1 + 2j, InvalidType, "complex"),
        (True, InvalidType, "bool"),
        ([1, True], InvalidType, r"\[1\].*bool"),
        (10 ** 5000, InvalidArgument, "16610-bit number"),
        ([1, -(10 ** 5000)], InvalidArgument, r"\[1\]"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v[:12],
)
def test_every_entry_point_refuses_the_same_forms_the_same_way(
    value: Any, kind: type[OTPError], words: str
) -> None:
    calls = {
        "counters": lambda: bulk.hotp(KEY, value),
        "for_time": lambda: bulk.totp([KEY], value),
        "codes": lambda: bulk.verify_totp([KEY], value, T),
        "last_steps": lambda: bulk.verify_totp([KEY], [1], T, last_steps=value),
        "counters ": lambda: bulk.verify_hotp([KEY], [1], value),
        "rows": lambda: bulk.hotp(bulk.KeyTable([KEY]), 1, rows=value),
    }
    for name, call in calls.items():
        with pytest.raises(kind, match=words) as info:
            call()
        assert str(info.value).startswith(name.strip()), (name, str(info.value))


def test_bytes_mean_the_same_in_every_argument() -> None:
    # On main, bytes were raw int64 words as times but one counter per byte as counters. Now
    # both are refused, and the two ways to say which are accepted everywhere.
    raw = array("q", [59, 60]).tobytes()
    want = [int(oracle.totp(KEY, t, digits=8)) for t in (59, 60)]
    assert list(bulk.totp([KEY, KEY], memoryview(raw).cast("q"), digits=8)) == want
    assert list(bulk.hotp(KEY, memoryview(raw).cast("q"))) == [int(oracle.hotp(KEY, c))
                                                               for c in (59, 60)]
    per_byte = bytes([1, 2, 3])
    assert list(bulk.hotp(KEY, list(per_byte))) == RFC_CODES[1:4]
    assert list(bulk.hotp(KEY, memoryview(per_byte))) == RFC_CODES[1:4]


def test_fractions_are_refused_outside_times() -> None:
    with pytest.raises(InvalidType, match="only times take fractions"):
        bulk.hotp(KEY, 1.5)
    with pytest.raises(InvalidType, match="only times take fractions"):
        bulk.hotp(KEY, np.array([1.0, 2.0]))
    with pytest.raises(InvalidArgument, match="finite"):
        bulk.totp([KEY], float("nan"))
    with pytest.raises(InvalidArgument, match="for_time"):
        bulk.totp([KEY], decimal.Decimal("1e999999999"))


def test_zero_dimensional_arrays_are_one_number() -> None:
    assert list(bulk.hotp(KEY, np.array(4, dtype=">u8"))) == [RFC_CODES[4]]
    assert list(bulk.hotp(KEY, np.uint32(4))) == [RFC_CODES[4]]


def test_native_buffers_are_still_read_without_a_copy() -> None:
    counters = np.arange(10, dtype=np.uint64)
    out = np.zeros(10, dtype=np.uint32)
    bulk.hotp(KEY, counters, out=out)
    counters[3] = 0  # a copy taken by the call would not see this; the call already ran
    assert out.tolist() == RFC_CODES
    signed = np.array([1, -1], dtype=np.int64)
    with pytest.raises(InvalidArgument, match=r"counters\[1\] is negative"):
        bulk.hotp(KEY, signed)
