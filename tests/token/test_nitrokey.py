"""The client survives the Nitrokey 3 Secrets App differences (virtual card, nitrokey3 profile)."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest

from pyotp_hw.token import (
    AuthenticationRequired,
    CredentialData,
    CredentialExists,
    NoSuchCredential,
    NotSupportedByToken,
    OathSession,
    PasswordBlocked,
    WrongPassword,
)
from pyotp_hw.token.connection import ApduChannel
from pyotp_hw.token.virtual import VirtualCard

from .helpers import OTHER_B32, SECRET_B32, Recorder, oath_applet


def uri(label: str, secret: str = SECRET_B32, **params: object) -> str:
    query = "&".join([f"secret={secret}"] + [f"{k}={v}" for k, v in params.items()])
    return f"otpauth://totp/{label}?{query}"


@pytest.fixture
def nitrokey(make_virtual: Callable[..., VirtualCard]) -> VirtualCard:
    return make_virtual(profile="nitrokey3")


def test_select_shows_serial_and_no_password(nitrokey: VirtualCard) -> None:
    info = OathSession(nitrokey.connect()).info
    assert info.uses_pin and not info.password_set and not info.locked
    assert info.serial == oath_applet(nitrokey).state.serial
    assert info.pin_retries is None


def test_calculate_all_falls_back_to_list_and_calculate(nitrokey: VirtualCard) -> None:
    recorder = Recorder(nitrokey.connect())
    session = OathSession(recorder)
    session.put(uri("A:thirty", issuer="A"))
    session.put(uri("B:sixty", issuer="B", period=60))
    session.put("otpauth://hotp/C:count?secret=" + SECRET_B32 + "&counter=3")
    recorder.clear()
    t = 1_600_000_000
    result = {c.id: k for c, k in session.calculate_all(for_time=t).items()}
    assert result["A:thirty"] is not None and result["60/B:sixty"] is not None
    assert result["A:thirty"].value == pyotp.TOTP(SECRET_B32).at(t)
    assert result["60/B:sixty"].value == pyotp.TOTP(SECRET_B32, interval=60).at(t)
    assert result["C:count"] is None
    # CALCULATE ALL refused (6985), then LIST, then one CALCULATE per TOTP credential.
    assert recorder.instructions() == [0xA4, 0xA1, 0xA2, 0xA2]
    assert recorder.responses[0][1] == 0x6985


def test_no_rename(nitrokey: VirtualCard) -> None:
    session = OathSession(nitrokey.connect())
    session.put(uri("A:me", issuer="A"))
    with pytest.raises(NotSupportedByToken, match="cannot rename") as exc:
        session.rename("A:me", "B:me")
    assert exc.value.sw == 0x6D00
    assert [c.id for c in session.list()] == ["A:me"]


def test_put_overwrite_through_delete(nitrokey: VirtualCard) -> None:
    recorder = Recorder(nitrokey.connect())
    session = OathSession(recorder)
    session.put(uri("A:me", issuer="A"))
    with pytest.raises(CredentialExists):
        session.put(uri("A:me", secret=OTHER_B32, issuer="A"))
    recorder.clear()
    session.put(uri("A:me", secret=OTHER_B32, issuer="A"), overwrite=True)
    assert recorder.instructions() == [0x01, 0x02, 0x01]  # PUT refused 6983, DELETE, PUT
    assert recorder.responses[0][1] == 0x6983
    assert session.calculate("A:me", for_time=30).value == pyotp.TOTP(OTHER_B32).at(30)


def test_missing_credential_is_6a82(nitrokey: VirtualCard) -> None:
    session = OathSession(nitrokey.connect())
    session.put(uri("A:me", issuer="A"))
    credential = session.find("A:me")
    session.delete(credential)
    with pytest.raises(NoSuchCredential) as exc:
        session.delete(credential)
    assert exc.value.sw == 0x6A82
    with pytest.raises(NoSuchCredential):
        session.calculate(credential)


def test_pin_set_verify_change_and_block(nitrokey: VirtualCard) -> None:
    session = OathSession(nitrokey.connect())
    session.put(uri("A:me", issuer="A"))
    session.set_password("1234")
    assert session.info.password_set and not session.info.locked
    session.close()

    locked = OathSession(nitrokey.connect())
    assert locked.info.locked and locked.info.pin_retries == 8
    with pytest.raises(AuthenticationRequired):
        locked.list()
    with pytest.raises(WrongPassword, match="7 tries left") as exc:
        locked.unlock("9999")
    assert exc.value.retries == 7
    locked.unlock("1234")
    assert [c.id for c in locked.list()] == ["A:me"]
    with pytest.raises(AuthenticationRequired, match="current PIN"):
        locked.set_password("5678")
    locked.set_password("5678", current="1234")
    with pytest.raises(NotSupportedByToken, match="cannot remove its PIN"):
        locked.clear_password()
    locked.close()

    guesser = OathSession(nitrokey.connect())
    guesser._failures = 0
    for left in range(7, -1, -1):
        guesser._failures = 0  # skip the host-side pause; the card counts on its own
        with pytest.raises(WrongPassword) as wrong:
            guesser.unlock("0000")
        assert wrong.value.retries == left
    guesser._failures = 0
    with pytest.raises(PasswordBlocked, match="blocked"):
        guesser.unlock("5678")  # even the right PIN: the card is blocked
    guesser.reset()
    assert not guesser.info.password_set and guesser.list() == []


def test_no_command_chaining_switches_to_extended_apdus(nitrokey: VirtualCard,
                                                        card: VirtualCard) -> None:
    # OATH commands fit in short APDUs; a long one still reaches both kinds of card.
    for target, extended in ((card, False), (nitrokey, True)):
        recorder = Recorder(target.connect())
        session = OathSession(recorder)
        session.put(CredentialData("x", b"k" * 20))
        recorder.clear()
        channel = ApduChannel(recorder)
        data, sw = channel.send(0xA1, 0, 0, bytes(300))
        assert sw == 0x9000 and data == bytes.fromhex("7202") + b"\x21x"
        assert recorder.instructions() == [0xA1, 0xA1]
        first, second = recorder.apdus
        assert first[0] == 0x10 and len(first) == 5 + 255  # the first link of a chain
        if extended:  # refused (6884), then the whole command as one extended APDU
            assert recorder.responses[0][1] == 0x6884
            assert second[0] == 0x00 and second[4] == 0 and len(second) == 7 + 300
        else:
            assert recorder.responses[0][1] == 0x9000
            assert second[0] == 0x00 and len(second) == 5 + 45
