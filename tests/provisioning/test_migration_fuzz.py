"""Hostile Google Authenticator exports: only MigrationError comes out, never with a secret.

Three shapes of input: arbitrary text where the URI goes, arbitrary bytes as the payload, and
payloads that are well-formed protobuf but wrong (unknown enum values, wrong wire types, huge or
negative numbers, text that is not UTF-8). Well-formed payloads are written by the protobuf
package; the wrong-wire-type ones by a few lines of wire encoding here.
"""

from __future__ import annotations

import base64
import os
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw import migration as M

from ..typed_errors import assert_clean_error, fuzz
from .test_migration_protobuf import Payload, _to_uri

PREFIX = "otpauth-migration://offline?data="
# Secrets are marked so that a name drawn by chance never equals one.
MARK = b"S3cr"
SECRET = st.binary(min_size=2, max_size=80).map(lambda b: MARK + b)
NAME = st.text(max_size=20).filter(lambda t: "S3cr" not in t and "5333" not in t)
INT32 = st.integers(-(2**31), 2**31 - 1)
ENUM = st.integers(-3, 6) | INT32


def _data_uri(raw: bytes) -> str:
    return PREFIX + quote(base64.b64encode(raw).decode(), safe="")


def _check(uris: list[str], secrets: list[bytes]) -> None:
    for call in (lambda: M.decode(uris[0]), lambda: M.decode_all(uris)):
        try:
            entries = call()
        except Exception as exc:  # whatever escapes is checked
            assert_clean_error(exc, secrets)
        else:
            for entry in entries:
                assert all(s not in repr(entry).encode("latin-1", "replace") for s in secrets)


@fuzz
@given(text=st.text(max_size=300) | st.binary(max_size=300).map(os.fsdecode))
def test_arbitrary_text_in_place_of_the_data(text: str) -> None:
    for candidate in (text, PREFIX + text, "otpauth-migration://" + text):
        try:
            M.decode_all([candidate])
        except Exception as exc:  # whatever escapes is checked
            assert_clean_error(exc)


@fuzz
@given(raw=st.binary(max_size=400))
def test_arbitrary_bytes_as_the_payload(raw: bytes) -> None:
    _check([_data_uri(raw)], [])


@st.composite
def payloads(draw: st.DrawFn) -> tuple[list[str], list[bytes]]:
    secrets: list[bytes] = []
    uris = []
    size = draw(st.integers(-2, 4) | INT32)
    for _ in range(draw(st.integers(1, 3))):
        message = Payload()
        for _ in range(draw(st.integers(0, 4))):
            entry = message.otp_parameters.add()
            if draw(st.booleans()):
                entry.secret = draw(SECRET)
                secrets.append(entry.secret)
            entry.name = draw(NAME)
            entry.issuer = draw(NAME)
            entry.algorithm = draw(ENUM)
            entry.digits = draw(ENUM)
            entry.type = draw(ENUM)
            entry.counter = draw(st.integers(-(2**63), 2**63 - 1))
        message.version = draw(INT32)
        message.batch_size = size if draw(st.booleans()) else draw(INT32)
        message.batch_index = draw(st.integers(-1, 4) | INT32)
        message.batch_id = draw(st.integers(0, 2) | INT32)
        uris.append(_to_uri(message))
    return uris, secrets


@fuzz
@given(case=payloads())
def test_well_formed_protobuf_with_wrong_values(case: tuple[list[str], list[bytes]]) -> None:
    _check(*case)


def _varint(value: int) -> bytes:
    value %= 2**64
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@st.composite
def wire_fields(draw: st.DrawFn, secrets: list[bytes], depth: int = 0) -> bytes:
    out = bytearray()
    for _ in range(draw(st.integers(0, 6))):
        number = draw(st.integers(1, 8) | st.integers(1, 2**29 - 1))
        wire = draw(st.sampled_from([0, 1, 2, 5]))
        out += _varint(number << 3 | wire)
        if wire == 0:
            out += _varint(draw(st.integers(-(2**63), 2**64 - 1)))
        elif wire == 1:
            out += draw(st.binary(min_size=8, max_size=8))
        elif wire == 5:
            out += draw(st.binary(min_size=4, max_size=4))
        else:
            if depth == 0 and number == 1 and draw(st.booleans()):
                value = draw(wire_fields(secrets, depth + 1))
            elif depth == 1 and number == 1:
                value = draw(SECRET)
                secrets.append(value)
            else:
                value = draw(st.binary(max_size=30))
            out += _varint(len(value)) + value
    return bytes(out)


@fuzz
@given(data=st.data())
def test_wrong_wire_types_and_nesting(data: st.DataObject) -> None:
    secrets: list[bytes] = []
    raw = data.draw(wire_fields(secrets))
    cut = data.draw(st.integers(0, len(raw)))
    _check([_data_uri(raw), _data_uri(raw[:cut])], secrets)
