"""Malformed input to the virtual FIDO2 authenticator gets the CTAP2 status it deserves.

Named cases check the exact status; fuzz tests send random CTAP2 messages (random CBOR and
random bytes) and random APDUs, and accept only well-formed answers: a status byte alone, or
00 followed by one CBOR map; status words at the APDU level. Nothing may raise.
"""

from __future__ import annotations

import os
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.token.apdu import decode_response
from pyotp_hw.token.virtual import TouchPolicy
from pyotp_hw.token.virtual.fido import FIDO_AID, Authenticator, FidoState, Status
from pyotp_hw.token.virtual.fido import cbor as ctap_cbor

from ..typed_errors import fuzz
from .fido_helpers import fido_card

RP = {"id": "vault.example"}
USER = {"id": b"u"}
ES256 = [{"type": "public-key", "alg": -7}]


def answer(authenticator: Authenticator, command: int, params: Any = None,
           raw: bytes | None = None) -> int:
    body = raw if raw is not None else (b"" if params is None else cbor2.dumps(params))
    return authenticator.handle(bytes([command]) + body)[0]


@pytest.fixture
def auth() -> Authenticator:
    return Authenticator(touch=TouchPolicy(delay=0.0))


def make_credential(**fields: Any) -> dict[int, Any]:
    params = {1: os.urandom(32), 2: RP, 3: USER, 4: ES256}
    for key, value in fields.items():
        index = int(key[1:], 16)
        if value is None:
            params.pop(index, None)
        else:
            params[index] = value
    return params


@pytest.mark.parametrize("command, params, raw, status", [
    (0x55, None, b"", Status.INVALID_COMMAND),
    (0x04, None, b"\xa0", Status.INVALID_LENGTH),  # getInfo takes no parameters
    (0x01, None, b"\xff", Status.INVALID_CBOR),
    (0x01, None, b"\xa1\x01", Status.INVALID_CBOR),  # truncated
    (0x01, None, b"\xa0\x00", Status.INVALID_CBOR),  # trailing byte
    (0x01, [1, 2], None, Status.CBOR_UNEXPECTED_TYPE),  # not a map
    (0x01, {"clientDataHash": b"x"}, None, Status.CBOR_UNEXPECTED_TYPE),  # text key
    (0x01, make_credential(k1=None), None, Status.MISSING_PARAMETER),
    (0x01, make_credential(k1="text"), None, Status.CBOR_UNEXPECTED_TYPE),
    (0x01, make_credential(k2={"name": "x"}), None, Status.MISSING_PARAMETER),
    (0x01, make_credential(k3={"id": "text"}), None, Status.CBOR_UNEXPECTED_TYPE),
    (0x01, make_credential(k3={"id": bytes(65)}), None, Status.INVALID_PARAMETER),
    (0x01, make_credential(k4=[{"type": "public-key", "alg": -257}]), None,
     Status.UNSUPPORTED_ALGORITHM),
    (0x01, make_credential(k4=["es256"]), None, Status.CBOR_UNEXPECTED_TYPE),
    (0x01, make_credential(k7={"rk": True}), None, Status.UNSUPPORTED_OPTION),
    (0x01, make_credential(k7={"up": False}), None, Status.INVALID_OPTION),
    (0x01, make_credential(k7={"uv": True}), None, Status.INVALID_OPTION),
    (0x01, make_credential(k7={"up": 1}), None, Status.CBOR_UNEXPECTED_TYPE),
    (0x01, make_credential(k6={"credProtect": 4}), None, Status.INVALID_PARAMETER),
    (0x01, make_credential(k6={"hmac-secret": 1}), None, Status.CBOR_UNEXPECTED_TYPE),
    (0x01, make_credential(k5=[{"type": "public-key"}]), None, Status.MISSING_PARAMETER),
    (0x01, make_credential(k5=[{"type": "public-key", "id": b"x"}] * 9), None,
     Status.REQUEST_TOO_LARGE),
    (0x01, make_credential(k8=b"\x00" * 32), None, Status.MISSING_PARAMETER),  # no protocol
    (0x01, make_credential(k8=b"\x00" * 32, k9=2), None, Status.PIN_NOT_SET),
    (0x01, make_credential(k8=b"\x00" * 32, k9=7), None, Status.INVALID_PARAMETER),
    (0x01, make_credential(k8=b""), None, Status.PIN_NOT_SET),  # the "touch to select" probe
    (0x01, None, b"\xa1\x01" + b"\x41" * 1300, Status.REQUEST_TOO_LARGE),
    (0x02, {2: os.urandom(32)}, None, Status.MISSING_PARAMETER),
    (0x02, {1: "vault.example", 2: os.urandom(32)}, None, Status.NO_CREDENTIALS),
    (0x02, {1: "vault.example", 2: os.urandom(32), 5: {"rk": True}}, None,
     Status.UNSUPPORTED_OPTION),
    (0x02, {1: "vault.example", 2: os.urandom(32), 3: [{"type": "public-key", "id": b"x"}]},
     None, Status.NO_CREDENTIALS),
    (0x02, {1: "vault.example", 2: os.urandom(32), 3: "ids"}, None,
     Status.CBOR_UNEXPECTED_TYPE),
    (0x02, {1: "vault.example", 2: None}, None, Status.CBOR_UNEXPECTED_TYPE),
    (0x06, {2: 1}, None, Status.MISSING_PARAMETER),
    (0x06, {1: 3, 2: 1}, None, Status.INVALID_PARAMETER),
    (0x06, {1: 2, 2: 0x42}, None, Status.INVALID_SUBCOMMAND),
    (0x06, {1: 2, 2: 0x03}, None, Status.MISSING_PARAMETER),
    (0x06, {1: 2, 2: 0x03, 3: {1: 2, -1: 1, -2: bytes(32), -3: bytes(32)},
            4: bytes(32), 5: bytes(80)}, None, Status.INVALID_PARAMETER),  # not on the curve
    (0x06, {1: 2, 2: 0x04, 3: {}, 4: b"", 5: b"", 6: b""}, None, Status.PIN_NOT_SET),
    (0x06, {1: 2, 2: 0x05, 3: {}, 6: b""}, None, Status.PIN_NOT_SET),
    (0x06, {1: 2, 2: 0x09, 3: {}, 6: b"", 9: 0x04}, None, Status.UNAUTHORIZED_PERMISSION),
    (0x08, None, b"", Status.NOT_ALLOWED),
])
def test_malformed_commands(auth: Authenticator, command: int, params: Any, raw: bytes | None,
                            status: Status) -> None:
    assert answer(auth, command, params, raw) == status


def test_empty_message_and_every_unknown_command(auth: Authenticator) -> None:
    assert auth.handle(b"")[0] == Status.INVALID_LENGTH
    known = {0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x0B}
    for command in set(range(256)) - known:
        assert auth.handle(bytes([command]))[0] == Status.INVALID_COMMAND


def test_apdu_level_answers() -> None:
    card, _ = fido_card(FidoState())
    conn = card.connect()
    assert conn.transmit(b"\x00\xa4\x04\x00\x08" + FIDO_AID) == (b"FIDO_2_0", 0x9000)
    assert conn.transmit(bytes.fromhex("00010300 00"))[1] == 0x6D00  # U2F register
    assert conn.transmit(bytes.fromhex("00030000 00"))[1] == 0x6D00  # U2F version
    assert conn.transmit(bytes.fromhex("80 12 00 00 00"))[1] == 0x6D00
    assert conn.transmit(bytes.fromhex("A0 10 00 00 00"))[1] == 0x6E00
    assert conn.transmit(bytes.fromhex("80 11 00 00 00"))[1] == 0x6985  # nothing pending
    data, sw = conn.transmit(bytes.fromhex("80 10 00 00 01 04 00"))
    assert sw == 0x9000 and data[0] == 0 and isinstance(ctap_cbor.decode(data[1:]), dict)
    # The OATH applet is still on the same card.
    assert conn.transmit(bytes.fromhex("00 a4 04 00 07 a0 00 00 05 27 21 01"))[1] == 0x9000


def _well_formed(reply: bytes) -> None:
    assert reply, "empty answer"
    assert reply[0] in {int(s) for s in Status}, f"unknown status {reply[0]:#x}"
    if reply[0] == 0:
        body = reply[1:]
        if body:
            assert isinstance(ctap_cbor.decode(body), dict)
    else:
        assert len(reply) == 1


_keys = st.integers(min_value=-3, max_value=12) | st.sampled_from(
    ["id", "type", "alg", "up", "uv", "rk", "hmac-secret", "credProtect", "hmac-secret-mc"])
_leaf = (st.integers(min_value=-(2**64), max_value=2**64 - 1) | st.binary(max_size=80)
         | st.text(max_size=12) | st.booleans() | st.none()
         | st.sampled_from(["public-key", "vault.example", -7, 1, 2, 3, b"", bytes(32)]))


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return _leaf | st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=6)


_params = st.dictionaries(_keys, _containers(_containers(_containers(_leaf))), max_size=10)


@fuzz
@given(st.sampled_from([0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x0B, 0x0C]), _params)
def test_fuzz_random_parameters(command: int, params: Any) -> None:
    authenticator = Authenticator(touch=TouchPolicy(delay=0.0), reset_window=None)
    _well_formed(authenticator.handle(bytes([command]) + cbor2.dumps(params)))


@fuzz
@given(st.binary(max_size=300))
def test_fuzz_random_messages(message: bytes) -> None:
    authenticator = Authenticator(touch=TouchPolicy(delay=0.0), reset_window=None)
    _well_formed(authenticator.handle(message))


_apdu = st.tuples(
    st.sampled_from([0x00, 0x80, 0x90, 0x10, 0xA0]),
    st.sampled_from([0x10, 0x11, 0xC0, 0xA4, 0x01, 0x03, 0x55]),
    st.sampled_from([0x00, 0x80, 0x11, 0x04]),
    st.integers(0, 255),
    st.binary(max_size=260),
    st.booleans(),
)


@fuzz
@given(st.lists(_apdu, min_size=1, max_size=6))
def test_fuzz_random_apdus(apdus: list[tuple[int, int, int, int, bytes, bool]]) -> None:
    card, _ = fido_card(FidoState(), timeout=0.05)
    card.power_on()
    card.process(b"\x00\xa4\x04\x00\x08" + FIDO_AID)
    for cla, ins, p1, p2, data, with_le in apdus:
        raw = bytes([cla, ins, p1, p2])
        if data:
            raw += bytes([len(data)]) + data if len(data) < 256 else (
                b"\x00" + len(data).to_bytes(2, "big") + data)
        if with_le:
            raw += b"\x00"
        _, sw = decode_response(card.process(raw))
        assert 0x6000 <= sw <= 0x9FFF
    card.power_off()
