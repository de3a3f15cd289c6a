"""The one int check and the one real check every layer uses (``_numbers.whole``, ``option``,
``real_option``): the forms they take, the typed errors they raise, and what the messages say."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from pyotp_hw import _numbers
from pyotp_hw.errors import InvalidArgument, InvalidType, InvalidURI


def test_whole_takes_ints_and_with_index_numpy_ints() -> None:
    assert _numbers.whole(7, "n") == 7
    assert _numbers.whole(np.uint64(2**64 - 1), "n", index=True) == 2**64 - 1
    for bad in (True, 1.0, "1", None, np.uint64(3)):
        with pytest.raises(InvalidType, match=r"^n must be an int, not "):
            _numbers.whole(bad, "n")
    with pytest.raises(InvalidType, match="bool"):
        _numbers.whole(False, "n", index=True)


def test_a_foreign_index_that_raises_is_a_typed_error() -> None:
    class Odd:
        def __index__(self) -> int:
            raise ZeroDivisionError

    with pytest.raises(InvalidType, match=r"n could not be read as an int \(ZeroDivisionError\)"):
        _numbers.whole(Odd(), "n", index=True)
    with pytest.raises(InvalidType):
        _numbers.whole(np.array(5.5), "n", index=True)


def test_option_names_the_range_and_never_prints_a_huge_int() -> None:
    assert _numbers.option(10, "digits", 6, 10) == 10
    with pytest.raises(InvalidArgument, match=r"^digits must be between 6 and 10, got 11$"):
        _numbers.option(11, "digits", 6, 10)
    with pytest.raises(InvalidArgument, match=r"between 0 and 2\*\*64-1, got a 16610-bit"):
        _numbers.option(10**5000, "counter", 0, 2**64 - 1, span="0 and 2**64-1")
    with pytest.raises(InvalidArgument, match="a negative 16610-bit number"):
        _numbers.option(-(10**5000), "counter", 0, 1)
    with pytest.raises(InvalidType, match="must be an int number of seconds, not str"):
        _numbers.option("30", "interval", 1, 2**63 - 1, "an int number of seconds")


@pytest.mark.parametrize("value", [True, "6", 6.0, 99])
def test_option_raises_the_layers_own_error_for_both_kinds_of_fault(value: Any) -> None:
    with pytest.raises(InvalidURI, match=r"^digits must be"):
        _numbers.option(value, "digits", 6, 10, error=InvalidURI)


def test_real_option_bounds_and_forms() -> None:
    assert _numbers.real_option(0, "linger", 0, 1) == 0.0
    assert _numbers.real_option(0.5, "linger", 0, 1) == 0.5
    assert _numbers.real_option(10**6, "ttl", 0, what="a number of seconds") == 1e6
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (-1, {}, r"^x must be at least 0, got -1$"),
        (2, {"hi": 1}, r"^x must be between 0 and 1, got 2$"),
        (0, {"hi": 600, "above": True}, r"^x must be more than 0 and at most 600, got 0$"),
        (0.0, {"above": True}, r"^x must be more than 0, got 0.0$"),
        (math.nan, {}, "must be a finite number, got nan"),
        (math.inf, {}, "must be a finite number, got inf"),
        (10**400, {}, "must be a finite number, got a 1329-bit number"),
    ]
    for value, bounds, message in cases:
        with pytest.raises(InvalidArgument, match=message):
            _numbers.real_option(value, "x", 0, **bounds)
    for bad in (True, "1", None, 1j):
        with pytest.raises(InvalidType, match="x must be a number of seconds, not"):
            _numbers.real_option(bad, "x", 0, what="a number of seconds")
