"""The quick reading of times (``_time.plain_seconds``) agrees with the full one, exactly.

The oracle is exact rational arithmetic: the floor of a float's :class:`fractions.Fraction`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw import _time
from pyotp_hw.errors import OTPError


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_floors_exactly_or_takes_the_full_way(value: float) -> None:
    quick = _time.plain_seconds(value)
    if quick is not None:
        assert math.isfinite(value)
        assert type(quick) is int and quick == math.floor(Fraction(value))
    try:
        full: int | None = _time.floor_seconds(value)
    except OTPError:
        full = None
        assert quick is None or not _time.I64_MIN <= quick <= _time.I64_MAX
    if full is not None:
        assert full == math.floor(Fraction(value))


@given(st.integers(min_value=-(1 << 70), max_value=1 << 70))
def test_an_int_is_itself(value: int) -> None:
    assert _time.plain_seconds(value) == value


@pytest.mark.parametrize("value", [True, "5", None, 5j, Fraction(7, 2)])
def test_other_forms_take_the_full_way(value: object) -> None:
    assert _time.plain_seconds(value) is None
