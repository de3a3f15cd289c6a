"""Every status word a token can answer becomes a typed error with a message a user understands,
and malformed or truncated answers only ever raise the typed protocol error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyotp_hw.cli._common import exit_code_for
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
from pyotp_hw.token.errors import TokenConnectionError
from pyotp_hw.token.virtual import VirtualCard

from .helpers import SECRET_B32

SELECT_OK = tlv.encode(0x79, b"\x05\x07\x02") + tlv.encode(0x71, b"saltsalt")
SELECT_LOCKED = SELECT_OK + tlv.encode(0x74, b"chalchal") + tlv.encode(0x7B, b"\x01")
SELECT_PIN = tlv.encode(0x79, b"\x04\x0e\x00") + tlv.encode(0x82, b"\x08") + tlv.encode(
    0x8F, b"\x00\x00\x12\x34")
SECRET = b"\x8a\x11" * 10


class Scripted:
    """A card that answers SELECT with ``select`` and then each command from ``answers``."""

    def __init__(self, select: bytes, answers: list[tuple[bytes, int]]) -> None:
        self.select = select
        self.answers = list(answers)

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if apdu[1] == 0xA4 and apdu[2] == 0x04:
            return self.select, 0x9000
        if not self.answers:
            raise TokenConnectionError("the scripted card has nothing more to say")
        return self.answers.pop(0)

    def close(self) -> None:
        pass


TOTP = Credential(b"Site:me", "me", "Site", "totp", 30)
DATA = CredentialData("me", SECRET, issuer="Site")
OK: tuple[bytes, int] = (b"", 0x9000)

# (what, SELECT answer, card answers, exception, text in the message)
CASES: list[tuple[str, bytes, list[tuple[bytes, int]], type[Exception], str]] = [
    ("list", SELECT_OK, [(b"", 0x6982)], AuthenticationRequired, "not authorised"),
    ("list", SELECT_LOCKED, [(b"", 0x6982)], AuthenticationRequired, "locked"),
    ("list", SELECT_OK, [(b"", 0x6581)], TokenMemoryError, "memory failure"),
    ("list", SELECT_OK, [(b"", 0x6D00)], NotSupportedByToken, "cannot list"),
    ("list", SELECT_OK, [(b"", 0x6E00)], NotSupportedByToken, "cannot list"),
    ("list", SELECT_OK, [(b"", 0x6A80)], CommandRejected, "rejected"),
    ("list", SELECT_OK, [(b"", 0x6A84)], TokenFull, "full"),
    ("list", SELECT_OK, [(b"", 0x6F42)], TokenStatusError, "6F42 (unknown status)"),
    ("list", SELECT_OK, [(b"", 0x6985)], TokenStatusError, "conditions of use"),
    ("put", SELECT_OK, [OK, (b"", 0x6A84)], TokenFull, "the token is full"),
    ("put", SELECT_OK, [OK, (b"", 0x6F00)], TokenFull, "the token is full"),
    ("put", SELECT_OK, [OK, (b"", 0x6983)], CredentialExists, "already on the token"),
    ("put", SELECT_OK, [OK, (b"", 0x6982)], AuthenticationRequired, "not authorised"),
    ("put", SELECT_OK, [OK, (b"", 0x6A80)], CommandRejected, "store 'Site:me'"),
    ("put", SELECT_OK, [OK, (b"", 0x6581)], TokenMemoryError, "memory failure"),
    ("delete", SELECT_OK, [(b"", 0x6984)], NoSuchCredential, "no such account"),
    ("delete", SELECT_OK, [(b"", 0x6A82)], NoSuchCredential, "no such account"),
    ("calculate", SELECT_OK, [(b"", 0x6982)], TouchTimeout, "needs a touch"),
    ("calculate", SELECT_LOCKED, [(b"", 0x6982)], AuthenticationRequired, "locked"),
    ("calculate", SELECT_OK, [(b"", 0x6984)], NoSuchCredential, "no such account"),
    ("calculate", SELECT_OK, [(b"", 0x6A82)], NoSuchCredential, "no such account"),
    ("calculate_all", SELECT_OK, [(b"", 0x6982)], AuthenticationRequired, "not authorised"),
    ("rename", SELECT_OK, [OK, (b"", 0x6D00)], NotSupportedByToken, "cannot rename"),
    ("rename", SELECT_OK, [OK, (b"", 0x6984)], NoSuchCredential, "no such account"),
    ("unlock", SELECT_LOCKED, [(b"", 0x6A80)], WrongPassword, "wrong password"),
    ("unlock", SELECT_LOCKED, [(b"", 0x6984)], NoPasswordSet, "no password"),
    ("set_password", SELECT_OK, [(b"", 0x6984)], ProtocolError, "proof of the new password"),
    ("set_password", SELECT_OK, [(b"", 0x6982)], AuthenticationRequired, "not authorised"),
    ("unlock", SELECT_PIN, [(b"", 0x63C2)], WrongPassword, "wrong PIN (2 tries left)"),
    ("unlock", SELECT_PIN, [(b"", 0x6983)], PasswordBlocked, "blocked"),
    ("unlock", SELECT_PIN, [(b"", 0x6A80)], CommandRejected, "PIN"),
    ("reset", SELECT_OK, [(b"", 0x6A86)], TokenStatusError, "6A86"),
]

OPERATIONS: dict[str, Callable[[OathSession], Any]] = {
    "list": lambda s: s.list(),
    "put": lambda s: s.put(DATA),
    "delete": lambda s: s.delete(TOTP),
    "calculate": lambda s: s.calculate(TOTP, for_time=0),
    "calculate_all": lambda s: s.calculate_all(for_time=0),
    "rename": lambda s: s.rename(TOTP, "New:name"),
    "unlock": lambda s: s.unlock("guess"),
    "set_password": lambda s: s.set_password("new"),
    "reset": lambda s: s.reset(),
}


@pytest.mark.parametrize(("what", "select", "answers", "error", "text"), CASES)
def test_status_words_become_typed_errors(
    what: str, select: bytes, answers: list[tuple[bytes, int]], error: type[Exception],
    text: str,
) -> None:
    session = OathSession(Scripted(select, answers))
    with pytest.raises(error) as exc:
        OPERATIONS[what](session)
    assert text in str(exc.value)
    assert isinstance(exc.value, OTPError) and isinstance(exc.value, TokenError)
    message = str(exc.value)
    assert SECRET.hex() not in message and SECRET_B32 not in message and "guess" not in message
    assert "new" not in message.replace("New:name", "").replace("new password", "")


def test_wrong_pin_reports_the_tries_left() -> None:
    session = OathSession(Scripted(SELECT_PIN, [(b"", 0x63C3)]))
    with pytest.raises(WrongPassword) as exc:
        session.unlock("0000")
    assert exc.value.retries == 3 and exc.value.sw == 0x63C3


@pytest.mark.parametrize("sw", [0x6A82, 0x6D00, 0x6E00])
def test_select_refused_means_no_applet(sw: int) -> None:
    class NoApplet(Scripted):
        def transmit(self, apdu: bytes) -> tuple[bytes, int]:
            return b"", sw

    with pytest.raises(NoOathApplet) as exc:
        OathSession(NoApplet(b"", []))
    assert exit_code_for(exc.value) == 3 and isinstance(exc.value, LookupError)


def test_select_failing_otherwise_is_a_protocol_error() -> None:
    class Broken(Scripted):
        def transmit(self, apdu: bytes) -> tuple[bytes, int]:
            return b"", 0x6999

    with pytest.raises(ProtocolError, match="6999"):
        OathSession(Broken(b"", []))


def test_calculate_all_falls_back_when_the_card_lacks_it() -> None:
    listing = tlv.encode(0x72, b"\x21Site:me") + tlv.encode(0x72, b"\x11Bank:hotp")
    code = tlv.encode(0x76, b"\x06\x00\x00\x30\x39")  # 12345
    for refusal in (0x6D00, 0x6985):
        session = OathSession(Scripted(SELECT_OK, [(b"", refusal), (listing, 0x9000),
                                                   (code, 0x9000)]))
        result = session.calculate_all(for_time=0)
        values = {c.id: (k.value if k else None) for c, k in result.items()}
        assert values == {"Site:me": "012345", "Bank:hotp": None}


# --- malformed answers --------------------------------------------------------------------------


class Fuzzed(Scripted):
    """Every command but SELECT is answered with the same (possibly malformed) data and 9000."""

    def __init__(self, data: bytes, select: bytes = SELECT_OK) -> None:
        super().__init__(select, [])
        self.data = data

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if apdu[1] == 0xA4 and apdu[2] == 0x04:
            return self.select, 0x9000
        return self.data, 0x9000


def _valid_answers() -> list[bytes]:
    return [
        tlv.encode(0x71, b"Site:me") + tlv.encode(0x76, b"\x06\x01\x02\x03\x04")
        + tlv.encode(0x71, b"60/x") + tlv.encode(0x76, b"\x08\x01\x02\x03\x04")
        + tlv.encode(0x71, b"h") + tlv.encode(0x77, b"\x06")
        + tlv.encode(0x71, b"t") + tlv.encode(0x7C, b"\x06"),
        tlv.encode(0x72, b"\x21Site:me") + tlv.encode(0x72, b"\x12x"),
        tlv.encode(0x76, b"\x06\x7f\xff\xff\xff"),
    ]


@st.composite
def answers(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["random", "truncated", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=80))
    base = draw(st.sampled_from(_valid_answers()))
    if kind == "truncated":
        return base[: draw(st.integers(0, len(base) - 1))]
    pos = draw(st.integers(0, len(base) - 1))
    return base[:pos] + bytes([draw(st.integers(0, 255))]) + base[pos + 1:]


@settings(max_examples=300)
@given(answers(), st.sampled_from(["list", "calculate_all", "calculate"]))
def test_malformed_answers_only_raise_protocol_errors(data: bytes, what: str) -> None:
    session = OathSession(Fuzzed(data))
    try:
        OPERATIONS[what](session)
    except ProtocolError:
        pass


@settings(max_examples=150)
@given(st.binary(max_size=40))
def test_malformed_select_only_raises_protocol_errors(data: bytes) -> None:
    try:
        OathSession(Fuzzed(b"", select=data))
    except ProtocolError:
        pass


class Truncating:
    """The real virtual card, with every answer but SELECT's cut short."""

    def __init__(self, card: VirtualCard, keep: int) -> None:
        self.inner = card.connect()
        self.keep = keep

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self.inner.transmit(apdu)
        if apdu[1] == 0xA4 and apdu[2] == 0x04:
            return data, sw
        return data[: self.keep], sw

    def close(self) -> None:
        self.inner.close()


@settings(max_examples=60)
@given(st.integers(0, 120))
def test_truncated_answers_of_the_real_card(keep: int) -> None:
    from pyotp_hw.token.virtual import make_card

    card = make_card()
    setup = OathSession(card.connect())
    for name in ("Site:alice", "Site:bob", "Other:carol"):
        setup.put(CredentialData(name.split(":")[1], SECRET, issuer=name.split(":")[0]))
    setup.put(CredentialData("hotp", SECRET, oath_type="hotp"))
    full = {c.id: k for c, k in setup.calculate_all(for_time=0).items()}
    session = OathSession(Truncating(card, keep))
    try:
        result = session.calculate_all(for_time=0)
    except ProtocolError:
        return
    # What did parse must be true: a prefix of the full answer, never an invented code.
    for credential, code in result.items():
        assert full[credential.id] == code
