"""The session logs every command and answer at DEBUG level, and never a secret.

What a log may hold: the instruction, P1/P2, lengths, status words. What it must not: the key
sent by PUT, the password or PIN, the derived access key, the HMAC answers of VALIDATE and
SET CODE, the challenges they answer.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

import pytest

from pyotp_hw.token import CredentialData, OathSession, derive_key, tlv
from pyotp_hw.token.apdu import Command
from pyotp_hw.token.virtual import VirtualCard

from .helpers import Recorder, oath_applet

KEY = bytes(range(0xA0, 0xA0 + 20))
PASSWORD = "log-free passphrase"
PIN = "271828"


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = []
    for record in caplog.records:
        assert record.name.startswith("pyotp_hw.token"), record.name
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        texts.append(repr(record.__dict__))
    return texts


def _needles(values: list[bytes | str]) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            found.append(value)
            value = value.encode()
        found += [value.hex(), value.hex().upper(), value.decode("latin-1"), repr(value)[2:-1]]
        found += [" ".join(f"{b:02X}" for b in value), " ".join(f"{b:02x}" for b in value)]
    return [n for n in found if len(n) >= 6]


def test_put_and_validate_log_no_secret(card: VirtualCard,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pyotp_hw.token")
    recorder = Recorder(card.connect())
    session = OathSession(recorder)
    session.put(CredentialData("logged", KEY, issuer="Site"))
    session.set_password(PASSWORD)
    session.close()
    locked = OathSession(Recorder(card.connect()))
    locked_recorder = locked.connection
    assert isinstance(locked_recorder, Recorder)
    locked.unlock(PASSWORD)
    texts = _logged(caplog)
    joined = "\n".join(texts)

    # Each command and its answer is there: instruction, parameters, lengths, status word.
    assert "INS 01" in joined and "INS 03" in joined  # PUT, SET CODE
    assert "INS A3" in joined  # VALIDATE
    assert "SW 9000" in joined and "PUT" in joined and "VALIDATE" in joined
    put = next(Command.decode(a) for a in recorder.apdus if a[1] == 0x01)
    assert f"{len(put.data)} bytes" in joined

    # Nothing secret: every value that went over the wire in PUT, SET CODE and VALIDATE.
    salt = oath_applet(card).state.salt
    secrets: list[bytes | str] = [KEY, PASSWORD, derive_key(PASSWORD, salt)]
    for apdu in [*recorder.apdus, *locked_recorder.apdus]:
        command = Command.decode(apdu)
        if command.ins in (0x01, 0x03, 0xA3):
            secrets += [item.value for item in tlv.parse(command.data, bare={0x78})
                        if item.tag != 0x71]  # the name is not a secret
    for data, _ in [*recorder.responses, *locked_recorder.responses]:
        if data.startswith(b"\x75") or b"\x74\x08" in data:  # VALIDATE's proof, SELECT's challenge
            secrets += [item.value for item in tlv.parse(data) if item.tag in (0x74, 0x75)]
    for needle in _needles(secrets):
        assert needle not in joined, needle


def test_a_full_session_logs_no_key_password_code_or_answer(
        card: VirtualCard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pyotp_hw.token")
    session = OathSession(card.connect())
    session.put(CredentialData("totp", KEY, issuer="Site", digits=8))
    session.put(CredentialData("hotp", KEY, oath_type="hotp", digits=8, counter=5))
    session.set_password(PASSWORD)
    session.close()
    session = OathSession(card.connect())
    session.unlock(PASSWORD)
    codes = [session.calculate("Site:totp", for_time=1_000_000).value,
             session.calculate("hotp").value]
    codes += [code.value for code in session.calculate_all(for_time=2_000_000).values() if code]
    challenge = bytes(range(0x40, 0x60))
    answer = session.hmac("Site:totp", challenge)
    session.close()
    assert len(codes) == 3 and all(len(code) == 8 for code in codes)
    assert answer == hmac.new(KEY, challenge, "sha1").digest()
    joined = "\n".join(_logged(caplog))
    for op in ("PUT", "SET_CODE", "VALIDATE", "CALCULATE", "CALCULATE_ALL"):
        assert f"send {op}:" in joined and f"recv {op}: SW 9000" in joined, op
    salt = oath_applet(card).state.salt
    for needle in _needles([KEY, PASSWORD, derive_key(PASSWORD, salt), answer, *codes]):
        assert needle not in joined, needle


def test_pin_commands_log_no_pin(make_virtual: Callable[..., VirtualCard],
                                 caplog: pytest.LogCaptureFixture) -> None:
    card = make_virtual(profile="nitrokey3")
    caplog.set_level(logging.DEBUG, logger="pyotp_hw.token")
    session = OathSession(card.connect())
    session.set_password(PIN)
    session.set_password("314159", current=PIN)
    joined = "\n".join(_logged(caplog))
    assert "INS B4" in joined and "INS B3" in joined and "INS B2" in joined
    for needle in _needles([PIN, "314159"]):
        assert needle not in joined


def test_each_part_of_a_long_answer_is_logged(card: VirtualCard,
                                              caplog: pytest.LogCaptureFixture) -> None:
    session = OathSession(card.connect())
    for i in range(30):
        session.put(CredentialData(f"user{i:02d}@example.com", KEY, issuer=f"Issuer{i:02d}"))
    caplog.set_level(logging.DEBUG, logger="pyotp_hw.token")
    session.calculate_all(for_time=0)
    lines = [r.getMessage() for r in caplog.records]
    assert any("send CALCULATE_ALL" in line for line in lines)
    assert sum("send remaining (INS A5)" in line for line in lines) >= 2
    assert lines[-1].startswith("recv CALCULATE_ALL: SW 9000")
    for needle in _needles([KEY]):
        assert needle not in "\n".join(lines)


def test_nothing_is_logged_above_debug(card: VirtualCard, caplog: pytest.LogCaptureFixture
                                       ) -> None:
    caplog.set_level(logging.INFO, logger="pyotp_hw.token")
    session = OathSession(card.connect())
    session.put(CredentialData("quiet", KEY))
    session.calculate_all(for_time=0)
    assert [r for r in caplog.records if r.name.startswith("pyotp_hw.token")] == []
