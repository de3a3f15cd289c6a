"""Every status word the protocol names, answered to every command the session sends, becomes
the typed error the YKOATH and Nitrokey 3 documentation give it (tests/token/test_errors.py
checks the messages; this matrix checks that no pair falls through to the wrong class).

The expected table is written here from the protocol's facts (/work/shared reference, ykoath.md),
not read from the session's own table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pyotp_hw.errors import OTPError
from pyotp_hw.token import (
    AuthenticationRequired,
    CommandRejected,
    Credential,
    CredentialData,
    CredentialExists,
    NoOathApplet,
    NoPasswordSet,
    NoSuchCredential,
    NotSupportedByToken,
    OathSession,
    PasswordBlocked,
    ProtocolError,
    TokenError,
    TokenFull,
    TokenMemoryError,
    TokenStatusError,
    TouchTimeout,
    WrongPassword,
    tlv,
)
from pyotp_hw.token.apdu import SW
from pyotp_hw.token.errors import TokenConnectionError

from .test_errors import SELECT_LOCKED, SELECT_OK, SELECT_PIN

# A Nitrokey 3 without a PIN: its serial, no PIN counter.
SELECT_PIN_UNSET = tlv.encode(0x79, b"\x04\x0e\x00") + tlv.encode(0x8F, b"\x00\x00\x12\x34")
OK: tuple[bytes, int] = (b"", 0x9000)
TOTP = Credential(b"Site:me", "me", "Site", "totp", 30)
DATA = CredentialData("me", b"\x8a\x11" * 10, issuer="Site")
FALLBACK = "falls back"  # the session answers the refusal with another command

# The statuses the APDU channel handles itself (SEND REMAINING, a retry with the right Le).
CHANNEL = {SW.OK, SW.MORE_DATA, SW.WRONG_LE}
STATUSES = [sw for sw in SW if sw not in CHANNEL]


class Card:
    """Answers SELECT with ``select`` (or ``select_sw``), then each command from ``answers``."""

    def __init__(self, select: bytes, answers: list[tuple[bytes, int]], select_sw: int = 0x9000
                 ) -> None:
        self.select, self.select_sw = select, select_sw
        self.answers = list(answers)
        self.sent: list[int] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if apdu[1] == 0xA4 and apdu[2] == 0x04:
            return self.select, self.select_sw
        self.sent.append(apdu[1])
        if not self.answers:
            raise TokenConnectionError("the scripted card has nothing more to say")
        return self.answers.pop(0)

    def close(self) -> None:
        pass


# command -> (SELECT answer, answers before the one under test, the call)
COMMANDS: dict[str, tuple[bytes, list[tuple[bytes, int]], Callable[[OathSession], Any]]] = {
    "LIST": (SELECT_OK, [], lambda s: s.list()),
    "PUT": (SELECT_OK, [OK], lambda s: s.put(DATA)),  # the LIST of the overwrite check first
    "DELETE": (SELECT_OK, [], lambda s: s.delete(TOTP)),
    "RENAME": (SELECT_OK, [OK], lambda s: s.rename(TOTP, "New:name")),
    "CALCULATE": (SELECT_OK, [], lambda s: s.calculate(TOTP, for_time=0)),
    "CALCULATE ALL": (SELECT_OK, [], lambda s: s.calculate_all(for_time=0)),
    "RESET": (SELECT_OK, [], lambda s: s.reset()),
    "VALIDATE": (SELECT_LOCKED, [], lambda s: s.unlock("guess")),
    "SET CODE": (SELECT_OK, [], lambda s: s.set_password("new")),
    "VERIFY PIN": (SELECT_PIN, [], lambda s: s.unlock("1234")),
    "CHANGE PIN": (SELECT_PIN, [], lambda s: s.set_password("5678", current="1234")),
    "SET PIN": (SELECT_PIN_UNSET, [], lambda s: s.set_password("5678")),
}
PIN_COMMANDS = ("VERIFY PIN", "CHANGE PIN", "SET PIN")
NAMED_CREDENTIAL = ("DELETE", "RENAME", "CALCULATE")


def expected(command: str, sw: SW) -> type[Exception] | str:
    """The protocol's meaning of ``sw`` as the answer to ``command``."""
    if sw == SW.VERIFY_FAILED:
        return WrongPassword if command in PIN_COMMANDS else TokenStatusError
    if sw == SW.SECURITY_NOT_SATISFIED:  # not authenticated; on CALCULATE also: no touch came
        return TouchTimeout if command == "CALCULATE" else AuthenticationRequired
    if sw == SW.AUTH_METHOD_BLOCKED:  # PUT: the name exists (Nitrokey); PIN: blocked
        if command == "PUT":
            return CredentialExists
        return PasswordBlocked if command in PIN_COMMANDS else TokenStatusError
    if sw in (SW.NO_SUCH_OBJECT, SW.FILE_NOT_FOUND) and command in NAMED_CREDENTIAL:
        return NoSuchCredential  # 6984 on a YubiKey, 6A82 on a Nitrokey 3
    if sw == SW.NO_SUCH_OBJECT:
        return {"VALIDATE": NoPasswordSet, "SET CODE": ProtocolError}.get(command,
                                                                         TokenStatusError)
    if sw == SW.WRONG_DATA:  # wrong syntax; on VALIDATE: the wrong password
        return WrongPassword if command == "VALIDATE" else CommandRejected
    if sw in (SW.NO_SPACE, SW.UNKNOWN_ERROR) and command == "PUT":
        return TokenFull  # some NEOs say 6F00 when full
    if sw == SW.NO_SPACE:
        return TokenFull
    if sw == SW.MEMORY_FAILURE:
        return TokenMemoryError
    if command == "CALCULATE ALL" and sw in (SW.INS_NOT_SUPPORTED, SW.CLA_NOT_SUPPORTED,
                                             SW.CONDITIONS_NOT_SATISFIED, SW.WRONG_P1P2):
        return FALLBACK  # LIST, then one CALCULATE per credential
    if command == "SET CODE" and sw == SW.CONDITIONS_NOT_SATISFIED:
        return FALLBACK  # a Nitrokey 3 that did not announce itself: its PIN instead
    if sw in (SW.INS_NOT_SUPPORTED, SW.CLA_NOT_SUPPORTED):
        return NotSupportedByToken
    return TokenStatusError


@pytest.mark.parametrize("sw", STATUSES, ids=lambda s: f"{s:04X}")
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_named_status_of_every_command(command: str, sw: SW) -> None:
    select, before, call = COMMANDS[command]
    card = Card(select, [*before, (b"", int(sw)), (b"", 0x9000)])
    session = OathSession(card)
    session._backoff = lambda: None  # type: ignore[method-assign]  # no pauses here
    want = expected(command, sw)
    if want == FALLBACK:
        try:
            call(session)
        except TokenError:
            pass  # what the second command's answer means is not under test here
        following = {"CALCULATE ALL": 0xA1, "SET CODE": 0xB4}[command]  # LIST / SET PIN
        assert card.sent[len(before) + 1] == following, [hex(i) for i in card.sent]
        return
    with pytest.raises(OTPError) as info:
        call(session)
    error = info.value
    assert type(error) is want, (command, f"{sw:04X}", type(error).__name__, str(error))
    assert str(error) and "\n" not in str(error)
    if isinstance(error, TokenStatusError):
        assert error.sw == sw
    if isinstance(error, WrongPassword) and command in PIN_COMMANDS:
        assert error.retries == 0  # 63C0: no tries left


@pytest.mark.parametrize("sw", STATUSES, ids=lambda s: f"{s:04X}")
def test_every_named_status_of_select(sw: SW) -> None:
    refused = (SW.FILE_NOT_FOUND, SW.INS_NOT_SUPPORTED, SW.CLA_NOT_SUPPORTED, SW.WRONG_P1P2)
    with pytest.raises(TokenError) as info:
        OathSession(Card(b"", [], select_sw=int(sw)), reader="Reader 0")
    assert type(info.value) is (NoOathApplet if sw in refused else ProtocolError)
    assert f"{int(sw):04X}" in str(info.value) or isinstance(info.value, NoOathApplet)
