"""Base32 as users paste it, and secret generation."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pyotp_hw
from pyotp_hw.keys import decode_base32, decode_secret, encode_base32, random_base32

RFC = b"12345678901234567890"


@pytest.mark.parametrize(
    "pasted",
    [
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
        "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ",
        " GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ========",
    ],
)
def test_pasted_forms_decode(pasted: str) -> None:
    assert decode_base32(pasted) == RFC


@pytest.mark.parametrize("length", range(1, 41))
def test_missing_and_present_padding(length: int) -> None:
    data = bytes(range(length))
    padded = base64.b32encode(data).decode()
    assert decode_base32(padded) == data
    assert decode_base32(padded.rstrip("=")) == data
    assert decode_base32(padded.rstrip("=") + "==========") == data


@given(st.binary(min_size=1, max_size=300))
def test_round_trip_against_stdlib(data: bytes) -> None:
    text = encode_base32(data)
    assert "=" not in text
    assert base64.b32decode(encode_base32(data, padding=True)) == data
    assert decode_base32(text.lower()) == data


@pytest.mark.parametrize(
    "bad,fragment",
    [
        ("GEZDGNBV1Y3TQOJQ", "character 9 is digit '1' (did you mean the letter I or L?)"),
        ("GEZDGNB0", "character 8 is digit '0' (did you mean the letter O?)"),
        ("GEZD!NBV", "character 5 is '!'"),
        ("GEZDGNBVé", "character 9 is U+00E9"),
        ("GEZD=GNB", "padding '=' before character 6"),
        ("", "secret is empty"),
        ("  -- ", "secret is empty"),
        ("GEZDGNBVG", "9 characters cannot end a base32 string"),
    ],
)
def test_bad_base32_names_the_problem_not_the_secret(bad: str, fragment: str) -> None:
    with pytest.raises(pyotp_hw.InvalidSecret) as info:
        decode_base32(bad)
    message = str(info.value)
    assert fragment in message
    assert "GEZD" not in message  # never echoes the secret
    assert isinstance(info.value, ValueError)


def test_secret_types() -> None:
    assert decode_secret(bytearray(b"ab")) == b"ab"
    assert decode_secret(memoryview(b"ab")) == b"ab"
    with pytest.raises(pyotp_hw.InvalidType):
        decode_secret(12345)  # type: ignore[arg-type]
    with pytest.raises(pyotp_hw.InvalidSecret):
        decode_secret(b"")


def test_random_base32_defaults_to_160_bits() -> None:
    secret = random_base32()
    assert len(secret) == 32 and len(decode_base32(secret)) == 20
    assert len({random_base32() for _ in range(50)}) == 50
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    with pytest.raises(pyotp_hw.InvalidSecret, match="128 bits"):
        random_base32(16)
    with pytest.raises(pyotp_hw.InvalidSecret, match="multiple of 8"):
        random_base32(33)
    assert len(pyotp_hw.random_secret()) == 20
    with pytest.raises(pyotp_hw.InvalidSecret):
        pyotp_hw.random_secret(8)


@pytest.mark.parametrize("size", ["20", 20.0, True, None])
def test_random_sizes_are_ints_checked_by_the_shared_rule(size: object) -> None:
    shown = type(size).__name__
    with pytest.raises(pyotp_hw.InvalidType, match=f"^nbytes must be an int, not {shown}$"):
        pyotp_hw.random_secret(size)  # type: ignore[arg-type]
    with pytest.raises(pyotp_hw.InvalidType, match=f"^length must be an int, not {shown}$"):
        random_base32(size)  # type: ignore[arg-type]


@given(st.binary(min_size=1, max_size=80), st.booleans(), st.booleans())
def test_plain_base32_decodes_as_base64_does(key: bytes, lower: bool, padded: bool) -> None:
    # The fast path (letters and trailing padding only) against the standard library.
    text = base64.b32encode(key).decode("ascii")
    text = text if padded else text.rstrip("=")
    assert decode_base32(text.lower() if lower else text) == key


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=1, max_size=40))
def test_trailing_bits_are_dropped_as_base64_drops_them(text: str) -> None:
    # Any letters, even with non-zero bits after the last whole byte.
    if len(text) % 8 in (1, 3, 6):
        with pytest.raises(pyotp_hw.InvalidSecret, match="cannot end a base32 string"):
            decode_base32(text)
        return
    assert decode_base32(text) == base64.b32decode(text + "=" * (-len(text) % 8))
