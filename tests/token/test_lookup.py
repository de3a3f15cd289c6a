"""The library names credentials exactly, and a credential belongs to the token it was read from.

Partial names, an account without its issuer, other letter cases: the command line searches
(``pyotp-hw token code ali``), the library does not guess. A Credential carries its token's
device id: credentials of two tokens never compare equal, and a session refuses one read from
another token instead of sending its name to the wrong card.
"""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest

from pyotp_hw.errors import OTPError
from pyotp_hw.token import (
    AmbiguousCredential,
    Credential,
    CredentialData,
    ForeignCredential,
    NoSuchCredential,
    OathSession,
)
from pyotp_hw.token.virtual import VirtualCard

from .helpers import OTHER_B32, SECRET_B32, Recorder


def uri(label: str, secret: str = SECRET_B32, **params: object) -> str:
    query = "&".join([f"secret={secret}"] + [f"{k}={v}" for k, v in params.items()])
    return f"otpauth://totp/{label}?{query}"


# --- exact names --------------------------------------------------------------------------------


def test_calculate_takes_the_full_id_or_issuer_and_name(session: OathSession) -> None:
    session.put(uri("GitHub:alice", issuer="GitHub", period=60))
    session.put(uri("plain"))
    want = pyotp.TOTP(SECRET_B32, interval=60).at(1000)
    assert session.calculate("60/GitHub:alice", for_time=1000).value == want
    assert session.calculate("GitHub:alice", for_time=1000).value == want
    assert session.calculate("plain", for_time=1000).value == pyotp.TOTP(SECRET_B32).at(1000)
    assert session.find("GitHub:alice").id == "60/GitHub:alice"


@pytest.mark.parametrize("name", ["ali", "alice", "github:alice", "GitHub:ALICE", "Hub:alice",
                                  "60/GitHub:ali", " GitHub:alice", "pla"])
def test_a_partial_or_inexact_name_is_refused(session: OathSession, name: str) -> None:
    session.put(uri("GitHub:alice", issuer="GitHub", period=60))
    session.put(uri("plain"))
    for call in (lambda: session.calculate(name, for_time=0), lambda: session.find(name),
                 lambda: session.delete(name), lambda: session.rename(name, "X:y")):
        with pytest.raises(NoSuchCredential, match="no such account") as info:
            call()
        assert isinstance(info.value, LookupError)
    assert {c.id for c in session.list()} == {"60/GitHub:alice", "plain"}  # nothing changed


def test_one_label_with_two_periods_is_ambiguous(session: OathSession) -> None:
    session.put(uri("Site:me", issuer="Site", period=15))
    session.put(uri("Site:me", issuer="Site", period=60))
    with pytest.raises(AmbiguousCredential) as info:
        session.calculate("Site:me", for_time=0)
    assert set(info.value.matches) == {"15/Site:me", "60/Site:me"}
    assert session.calculate("15/Site:me", for_time=0).value == pyotp.TOTP(
        SECRET_B32, interval=15).at(0)


def test_a_name_must_be_text(session: OathSession) -> None:
    from pyotp_hw.errors import InvalidType

    with pytest.raises(InvalidType, match="must be a str"):
        session.calculate(b"Site:me")  # type: ignore[arg-type]


# --- device identity ----------------------------------------------------------------------------


def _two_tokens(make_virtual: Callable[..., VirtualCard]) -> tuple[OathSession, OathSession]:
    first, second = OathSession(make_virtual().connect()), OathSession(make_virtual().connect())
    assert first.info.device_id != second.info.device_id
    for session in (first, second):
        session.put(uri("Same:name", issuer="Same"))
    return first, second


def test_credentials_of_two_tokens_are_not_equal(make_virtual: Callable[..., VirtualCard]
                                                ) -> None:
    first, second = _two_tokens(make_virtual)
    (a,), (b,) = first.list(), second.list()
    assert a.id == b.id == "Same:name"
    assert a.device_id == first.info.device_id and b.device_id == second.info.device_id
    assert a != b and len({a, b}) == 2
    # The same credential read twice from one token is one credential.
    (again,) = first.calculate_all(for_time=0)
    assert again == a and hash(again) == hash(a) and len({a, again}) == 1


def test_a_session_refuses_a_credential_of_another_token(
    make_virtual: Callable[..., VirtualCard],
) -> None:
    card = make_virtual()
    recorder = Recorder(card.connect())
    mine = OathSession(recorder)
    mine.put(uri("Same:name", issuer="Same"))
    other = OathSession(make_virtual().connect())
    other.put(uri("Same:name", issuer="Same"))
    (foreign,) = other.calculate_all(for_time=0)
    recorder.clear()
    for call in (lambda: mine.calculate(foreign, for_time=0), lambda: mine.delete(foreign),
                 lambda: mine.rename(foreign, "New:name"), lambda: mine.find(foreign)):
        with pytest.raises(ForeignCredential, match="another token") as info:
            call()
        assert isinstance(info.value, OTPError) and isinstance(info.value, ValueError)
        assert other.info.device_id in str(info.value)
    assert recorder.apdus == []  # the other token's name was never sent to this one
    assert [c.id for c in mine.list()] == ["Same:name"]


def test_a_reset_makes_a_new_token(session: OathSession) -> None:
    session.put(uri("Old:one", issuer="Old"))
    (before,) = session.list()
    session.reset()
    session.put(uri("Old:one", issuer="Old", secret=OTHER_B32))
    (after,) = session.list()
    assert before != after  # a new device id: the old credential is gone with the old token
    with pytest.raises(ForeignCredential):
        session.calculate(before, for_time=0)
    assert session.calculate(after, for_time=0).value == pyotp.TOTP(OTHER_B32).at(0)


def test_a_credential_built_by_hand_names_an_id_on_any_token(session: OathSession) -> None:
    session.put(CredentialData("me", b"k" * 20, issuer="Site"))
    by_hand = Credential(b"Site:me", "me", "Site", "totp", 30)
    assert by_hand.device_id is None
    assert session.calculate(by_hand, for_time=0).value == session.calculate(
        "Site:me", for_time=0).value
