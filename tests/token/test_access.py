"""The two access schemes, each chosen from what SELECT says.

A YubiKey-style token (SELECT with a salt, and a challenge when protected) is unlocked with the
YKOATH HMAC-SHA1 challenge-response (VALIDATE, SET CODE); a Nitrokey 3 (SELECT with its serial
and, when protected, a PIN counter) with its PIN (VERIFY / CHANGE / SET PIN). Each scheme sends
only its own commands. The expected bytes are computed here with hashlib and hmac.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest

from pyotp_hw.token import NotSupportedByToken, OathSession, WrongPassword, tlv
from pyotp_hw.token.apdu import Command
from pyotp_hw.token.virtual import VirtualCard

from .helpers import Recorder, oath_applet

PASSWORD_COMMANDS = {0x03, 0xA3}  # SET CODE, VALIDATE
PIN_COMMANDS = {0xB2, 0xB3, 0xB4}  # VERIFY, CHANGE, SET PIN


def _sent(recorder: Recorder) -> list[Command]:
    return [Command.decode(a) for a in recorder.apdus]


def test_a_yubikey_gets_the_challenge_response_password(card: VirtualCard) -> None:
    recorder = Recorder(card.connect())
    session = OathSession(recorder)
    assert not session.info.uses_pin and not session.info.password_set
    session.set_password("open sesame")
    salt = oath_applet(card).state.salt
    key = hashlib.pbkdf2_hmac("sha1", b"open sesame", salt, 1000, 16)
    (set_code,) = [c for c in _sent(recorder) if c.ins == 0x03]
    fields = tlv.parse_dict(set_code.data)
    assert fields[0x73] == b"\x21" + key  # TOTP|SHA1, then the 16-byte key
    assert fields[0x75] == hmac.new(key, fields[0x74], hashlib.sha1).digest()
    session.close()

    recorder = Recorder(card.connect())
    locked = OathSession(recorder)
    assert locked.info.locked and locked.info.password_set and not locked.info.uses_pin
    locked.unlock("open sesame")
    locked.clear_password()
    sent = _sent(recorder)
    assert [c.ins for c in sent] == [0xA4, 0xA3, 0x03]
    assert tlv.parse_dict(sent[2].data) == {0x73: b""}  # an empty key removes the password
    assert not {c.ins for c in sent} & PIN_COMMANDS


def test_a_nitrokey_gets_its_pin(make_virtual: Callable[..., VirtualCard]) -> None:
    card = make_virtual(profile="nitrokey3")
    recorder = Recorder(card.connect())
    session = OathSession(recorder)
    assert session.info.uses_pin and not session.info.password_set
    session.set_password("2468")
    session.set_password("13579", current="2468")
    sent = _sent(recorder)
    assert not {c.ins for c in sent} & PASSWORD_COMMANDS
    by_ins = {c.ins: tlv.parse_dict(c.data) for c in sent if c.ins in PIN_COMMANDS}
    assert by_ins[0xB4] == {0x80: b"2468"}  # SET PIN
    assert by_ins[0xB3] == {0x80: b"2468", 0x81: b"13579"}  # CHANGE PIN: current, new
    assert by_ins[0xB2] == {0x80: b"13579"}  # VERIFY PIN after each change
    recorder.clear()
    with pytest.raises(NotSupportedByToken, match="cannot remove its PIN"):
        session.clear_password()
    assert recorder.apdus == []  # refused without asking the token
    session.close()

    recorder = Recorder(card.connect())
    locked = OathSession(recorder)
    assert locked.info.locked and locked.info.pin_retries == 8
    with pytest.raises(WrongPassword, match="7 tries left"):
        locked.unlock("0000")
    assert [c.ins for c in _sent(recorder)] == [0xA4, 0xB2]


class HiddenSerial:
    """A Nitrokey 3 whose SELECT answer lacks the serial that gives it away."""

    def __init__(self, card: VirtualCard) -> None:
        self.inner = Recorder(card.connect())

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self.inner.transmit(apdu)
        if apdu[1] == 0xA4 and apdu[2] == 0x04:
            data = b"".join(i.encode() for i in tlv.parse(data) if i.tag != 0x8F)
        return data, sw

    def close(self) -> None:
        self.inner.close()


def test_a_token_that_refuses_set_code_gets_the_pin_scheme(
    make_virtual: Callable[..., VirtualCard],
) -> None:
    card = make_virtual(profile="nitrokey3")
    connection = HiddenSerial(card)
    session = OathSession(connection)
    assert not session.info.uses_pin  # nothing said it is a Nitrokey
    session.set_password("9876")
    assert [a[1] for a in connection.inner.apdus] == [0xA4, 0x03, 0xB4, 0xA4, 0xB2]
    assert connection.inner.responses[1][1] == 0x6985  # SET CODE: not here
    assert session.info.uses_pin and session.info.password_set and not session.info.locked
    assert oath_applet(card).state.pin_hash is not None


@pytest.mark.parametrize("profile", ["yubikey", "nitrokey3"])
def test_both_schemes_slow_down_repeated_guesses(
    make_virtual: Callable[..., VirtualCard], profile: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = make_virtual(profile=profile)
    OathSession(card.connect()).set_password("right one")
    pauses: list[float] = []
    monkeypatch.setattr("time.sleep", pauses.append)
    session = OathSession(card.connect())
    for _ in range(3):
        with pytest.raises(WrongPassword):
            session.unlock("wrong one")
    session.unlock("right one")
    assert pauses == [0.5, 1.0, 2.0]  # the tokens do not count guesses: the host waits
    session.close()
    again = OathSession(card.connect())
    with pytest.raises(WrongPassword):
        again.unlock("wrong again")
    assert pauses == [0.5, 1.0, 2.0]  # a new session starts without a pause
