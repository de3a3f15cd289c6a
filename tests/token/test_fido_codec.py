"""The FIDO2 authenticator's own CTAP2 CBOR codec, checked against cbor2 (an independent codec)."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.errors import InvalidArgument, InvalidType
from pyotp_hw.token.virtual.fido import cbor
from pyotp_hw.token.virtual.fido.cbor import CborError

from ..typed_errors import assert_clean_error, fuzz

_scalars = (
    st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20)
    | st.booleans()
    | st.none()
)
_keys = st.integers(min_value=-(2**64), max_value=2**64 - 1) | st.text(max_size=10)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return _scalars | st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4)


# At most four container levels, as CTAP2 allows.
_values = _containers(_containers(_containers(_containers(_scalars))))


@fuzz
@given(_values)
def test_encoding_is_cbor2_canonical_and_round_trips(value: Any) -> None:
    encoded = cbor.encode(value)
    assert encoded == cbor2.dumps(value, canonical=True)
    assert cbor.decode(encoded) == value
    assert cbor2.loads(encoded) == value


@fuzz
@given(_values)
def test_decodes_what_cbor2_writes_unsorted(value: Any) -> None:
    assert cbor.decode(cbor2.dumps(value)) == value


def test_ctap2_canonical_key_order() -> None:
    # CTAP 2.1 section 8: shorter encodings first, then bytewise: 10 (0a), -1 (20),
    # 100 (18 64), "z" (61 7a), "aa" (62 61 61).
    encoded = cbor.encode({"aa": 1, "z": 2, -1: 3, 100: 4, 10: 5})
    assert encoded == bytes.fromhex("a5 0a05 2003 1864 04 617a 02 626161 01")


def test_known_get_info_bytes() -> None:
    # The getInfo response of the CTAP 2.0 specification's example (versions + aaguid + options).
    raw = bytes.fromhex(
        "a3 01 82 66 55 32 46 5f 56 32 68 46 49 44 4f 5f 32 5f 30"
        " 03 50 f8 a0 11 f3 8c 0a 4d 15 80 06 17 11 1f 9e dc 7d"
        " 04 a2 62 72 6b f5 62 75 70 f5"
    )
    decoded = cbor.decode(raw)
    assert decoded == {1: ["U2F_V2", "FIDO_2_0"],
                       3: bytes.fromhex("f8a011f38c0a4d15800617111f9edc7d"),
                       4: {"rk": True, "up": True}}
    assert cbor.encode(decoded) == raw


@pytest.mark.parametrize("raw, why", [
    (b"", "empty"),
    (bytes.fromhex("5f 41 00 ff"), "indefinite byte string"),
    (bytes.fromhex("9f 01 ff"), "indefinite array"),
    (bytes.fromhex("c1 1a 5c d3 c5 2d"), "tag"),
    (bytes.fromhex("f9 3c 00"), "half float"),
    (bytes.fromhex("fb 3f f0 00 00 00 00 00 00"), "double"),
    (bytes.fromhex("f7"), "undefined"),
    (bytes.fromhex("f0"), "simple value 16"),
    (bytes.fromhex("1c"), "reserved additional info"),
    (bytes.fromhex("a2 01 01 01 02"), "duplicate key"),
    (bytes.fromhex("a1 80 01"), "array as a key"),
    (bytes.fromhex("a1 f5 01"), "boolean as a key"),
    (bytes.fromhex("62 c3 28"), "text that is not UTF-8"),
    (bytes.fromhex("5a ff ff ff ff"), "length past the end"),
    (bytes.fromhex("9b 00 00 00 01 00 00 00 00"), "huge array count"),
    (bytes.fromhex("01 02"), "trailing bytes"),
    (bytes.fromhex("a1 01 a1 01 a1 01 a1 01 a1 01 01"), "five levels of maps"),
])
def test_refusals(raw: bytes, why: str) -> None:
    with pytest.raises(CborError):
        cbor.decode(raw)


def test_four_levels_are_allowed() -> None:
    assert cbor.decode(bytes.fromhex("a1 01 a1 01 a1 01 81 01")) == {1: {1: {1: [1]}}}


@fuzz
@given(st.binary(max_size=64))
def test_random_bytes_decode_or_fail_typed(raw: bytes) -> None:
    try:
        value = cbor.decode(raw)
    except Exception as exc:
        assert_clean_error(exc)
        assert isinstance(exc, CborError)
        return
    # Whatever decoded is what cbor2 reads there too.
    assert cbor2.loads(raw) == value


def test_what_the_encoder_cannot_write_is_a_typed_error() -> None:
    with pytest.raises(InvalidArgument, match="64 bits"):
        cbor.encode(2**64)
    with pytest.raises(InvalidArgument, match="64 bits"):
        cbor.encode(-(2**64) - 1)
    with pytest.raises(InvalidType, match="float"):
        cbor.encode({"x": [1.5]})
