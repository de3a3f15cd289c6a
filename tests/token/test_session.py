"""The OATH session over the in-process virtual token: every command and every error status.

Codes read from the token are checked against independent oracles: the RFC vectors, pyotp and
the pure-Python HMAC oracle in tests/oracle.py (the card computes with Python's hmac, the
client's software side with the C core).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pyotp
import pytest

import pyotp_hw
from pyotp_hw.cli._common import exit_code_for
from pyotp_hw.errors import InvalidArgument, InvalidType
from pyotp_hw.keys import decode_base32
from pyotp_hw.token import (
    AmbiguousCredential,
    AuthenticationRequired,
    CredentialData,
    CredentialExists,
    InvalidCredential,
    NoOathApplet,
    NoPasswordSet,
    NoSuchCredential,
    OathSession,
    TokenAuthenticityError,
    TokenFull,
    TokenMemoryError,
    TouchTimeout,
    WrongPassword,
    tlv,
)
from pyotp_hw.token.apdu import Command
from pyotp_hw.token.virtual import MemoryStore, OathApplet, TouchPolicy, VirtualCard, make_card
from tests import oracle

from .helpers import OTHER_B32, SECRET_B32, Recorder, oath_applet

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def uri(label: str, secret: str = SECRET_B32, kind: str = "totp", **params: object) -> str:
    query = "&".join([f"secret={secret}"] + [f"{k}={v}" for k, v in params.items()])
    return f"otpauth://{kind}/{label}?{query}"


# --- select and info ----------------------------------------------------------------------------


def test_info_reports_version_device_id_and_password_state(card: VirtualCard) -> None:
    session = OathSession(card.connect())
    info = session.info
    salt = oath_applet(card).state.salt
    expected_id = base64.b64encode(hashlib.sha256(salt).digest()[:16]).decode().rstrip("=")
    assert info.version == (5, 7, 2) and info.version_text == "5.7.2"
    assert info.device_id == expected_id
    assert not info.password_set and not info.locked and not info.uses_pin
    assert info.to_dict()["device_id"] == expected_id


def test_card_without_oath_applet() -> None:
    empty = VirtualCard([])
    with pytest.raises(NoOathApplet, match="no OATH applet") as exc:
        OathSession(empty.connect(), reader="Some Reader 00 00")
    assert exit_code_for(exc.value) == 3
    assert "Some Reader" in str(exc.value)


# --- put, list, calculate -----------------------------------------------------------------------


def test_rfc6238_vectors_on_the_token(session: OathSession, vectors: dict[str, Any]) -> None:
    seeds = {v["algorithm"]: v["secret_ascii"] for v in vectors["rfc6238_totp_8digits"]}
    assert len(seeds) == 3
    for digest, seed in seeds.items():
        session.put(CredentialData(f"rfc-{digest}", seed.encode(), digest=digest, digits=8))
    for vector in vectors["rfc6238_totp_8digits"]:
        code = session.calculate(f"rfc-{vector['algorithm']}", for_time=vector["unix_time"])
        assert code.value == vector["code"]


def test_rfc4226_hotp_vectors_on_the_token(session: OathSession, vectors: dict[str, Any]) -> None:
    session.put(CredentialData("rfc4226", b"12345678901234567890", oath_type="hotp"))
    codes = [session.calculate("rfc4226").value for _ in range(10)]
    assert codes == vectors["rfc4226_hotp_sha1_6digits"]["codes_by_counter"]


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("digits", [6, 7, 8])
@pytest.mark.parametrize("period", [15, 30, 60])
def test_totp_codes_match_pyotp_and_the_core(session: OathSession, digest: str, digits: int,
                                             period: int) -> None:
    session.put(uri("Site:alice", issuer="Site", algorithm=digest.upper(), digits=digits,
                    period=period))
    reference = pyotp.TOTP(SECRET_B32, digits=digits, digest=DIGESTS[digest], interval=period)
    core = pyotp_hw.TOTP(SECRET_B32, digits=digits, digest=digest, interval=period)
    for t in (0, 59, 1_111_111_109, 2_000_000_000):
        code = session.calculate("Site:alice", for_time=t)
        assert code.value == reference.at(t) == core.at(t)
        step = t // period
        assert (code.valid_from, code.valid_to) == (step * period, (step + 1) * period)


def test_hotp_initial_counter_and_progress(session: OathSession) -> None:
    session.put(uri("Bank:bob", kind="hotp", issuer="Bank", counter=41, algorithm="SHA256"))
    key = decode_base32(SECRET_B32)
    got = [session.calculate("Bank:bob").value for _ in range(3)]
    assert got == [oracle.hotp(key, c, 6, "sha256") for c in (41, 42, 43)]
    assert got == [pyotp_hw.HOTP(SECRET_B32, digest="sha256").at(c) for c in (41, 42, 43)]
    code = session.calculate("Bank:bob")
    assert code.valid_to is None


def test_list_describes_every_credential(session: OathSession) -> None:
    session.put(uri("A:one", issuer="A"))
    session.put(uri("B:two", issuer="B", period=60, algorithm="SHA512"))
    session.put(uri("three", kind="hotp", counter=0))
    listed = {c.id: c for c in session.list()}
    assert set(listed) == {"A:one", "60/B:two", "three"}
    two = listed["60/B:two"]
    assert (two.issuer, two.name, two.oath_type, two.period, two.digest) == (
        "B", "two", "totp", 60, "sha512")
    three = listed["three"]
    assert (three.issuer, three.name, three.oath_type, three.period) == (None, "three", "hotp",
                                                                         None)
    assert three.to_dict()["label"] == "three"


def test_put_accepts_otp_objects_and_parsed_uris(session: OathSession) -> None:
    from pyotp_hw.uri import parse

    session.put(pyotp_hw.TOTP(OTHER_B32, name="obj", issuer="Iss", digits=8))
    session.put(parse(uri("Parsed:acct", issuer="Parsed")))
    assert session.calculate("Iss:obj", for_time=59).value == pyotp.TOTP(OTHER_B32,
                                                                       digits=8).at(59)
    assert session.calculate("Parsed:acct", for_time=59).value == pyotp.TOTP(SECRET_B32).at(59)


def test_long_keys_are_hashed_as_hmac_does(session: OathSession) -> None:
    long_key = bytes(range(100))  # longer than the 64-byte block of SHA-1 and SHA-256
    session.put(CredentialData("long1", long_key, digest="sha1"))
    session.put(CredentialData("long256", long_key, digest="sha256"))
    for name, digest in (("long1", "sha1"), ("long256", "sha256")):
        expected = oracle.totp(long_key, 1234567, 6, digest)
        assert session.calculate(name, for_time=1234567).value == expected
    # SHA-512 keys of 65..128 bytes are not hashed by HMAC, and tokens store at most 64 bytes.
    with pytest.raises(InvalidCredential, match="longer than tokens store"):
        CredentialData("long512", long_key, digest="sha512")


def test_short_keys_are_padded_without_changing_codes(session: OathSession) -> None:
    key = b"short"
    session.put(CredentialData("short", key))
    assert session.calculate("short", for_time=99).value == oracle.totp(key, 99)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (dict(account="x", secret=b"k" * 20, digits=9), "6 to 8 digits"),
        (dict(account="x", secret=b"k" * 20, digits=5), "6 to 8 digits"),
        (dict(account="x" * 65, secret=b"k" * 20), "at most 64"),
        (dict(account="", secret=b"k" * 20), "empty"),
        (dict(account="x", secret=b""), "secret is empty"),
        (dict(account="x", secret=b"k" * 20, issuer="a:b"), "cannot contain ':'"),
        (dict(account="x", secret=b"k" * 20, digest="md5"), "digest must be"),
        (dict(account="x", secret=b"k" * 20, oath_type="hotp", counter=2**32), "2\\*\\*32"),
        (dict(account="x", secret=b"k" * 20, counter=3), "only meaningful for HOTP"),
        (dict(account="x", secret=b"k" * 20, period=0), "positive"),
        (dict(account="x", secret=b"k" * 20, digits="6"), "^digits must be an int, not str$"),
        (dict(account="x", secret=b"k" * 20, period=True), "^period must be an int, not bool$"),
        (dict(account="x", secret=b"k" * 20, oath_type="hotp", counter=1.0),
         "^counter must be an int, not float$"),
    ],
)
def test_credentials_tokens_cannot_store(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidCredential, match=message) as exc:
        CredentialData(**data)
    assert isinstance(exc.value, ValueError)


def test_steam_and_ten_digit_uris_are_refused_without_leaking(session: OathSession) -> None:
    with pytest.raises(InvalidCredential, match="Steam") as exc:
        session.put(uri("Steam:me", encoder="steam", issuer="Steam"))
    assert SECRET_B32 not in str(exc.value)
    with pytest.raises(InvalidCredential, match="6 to 8 digits"):
        session.put(uri("Ten:me", digits=10))
    assert session.list() == []


def test_id_length_counts_the_period_prefix(session: OathSession) -> None:
    name = "n" * 61  # "60/" + 61 = 64 bytes: fits; "120/" + 61 does not
    session.put(CredentialData(name, b"k" * 20, period=60))
    with pytest.raises(InvalidCredential, match="65 bytes"):
        CredentialData(name, b"k" * 20, period=120)


# --- overwrite guard ----------------------------------------------------------------------------


def test_put_refuses_to_overwrite_unless_asked(session: OathSession) -> None:
    session.put(uri("Dup:me", issuer="Dup"))
    with pytest.raises(CredentialExists, match="already on the token") as exc:
        session.put(uri("Dup:me", secret=OTHER_B32, issuer="Dup"))
    assert OTHER_B32 not in str(exc.value)
    assert session.calculate("Dup:me", for_time=59).value == pyotp.TOTP(SECRET_B32).at(59)
    session.put(uri("Dup:me", secret=OTHER_B32, issuer="Dup"), overwrite=True)
    assert session.calculate("Dup:me", for_time=59).value == pyotp.TOTP(OTHER_B32).at(59)
    assert len(session.list()) == 1


# --- names --------------------------------------------------------------------------------------


def test_find_by_id_label_account_and_unique_part(session: OathSession) -> None:
    from pyotp_hw.cli.token_session import find_one, search

    session.put(uri("GitHub:alice", issuer="GitHub", period=60))
    session.put(uri("GitLab:alice", issuer="GitLab"))
    session.put(uri("Mail:bob", issuer="Mail"))
    assert session.find("60/GitHub:alice").issuer == "GitHub"
    assert session.find("GitHub:alice").id == "60/GitHub:alice"
    # Another letter case, the account alone and parts are the command line's search now.
    assert find_one(session, "gitlab:ALICE").issuer == "GitLab"
    assert find_one(session, "bob").issuer == "Mail"
    with pytest.raises(AmbiguousCredential, match="GitHub:alice") as exc:
        find_one(session, "alice")
    assert set(exc.value.matches) == {"60/GitHub:alice", "GitLab:alice"}
    assert [c.issuer for c in search(session.list(), "hub")] == ["GitHub"]
    with pytest.raises(NoSuchCredential, match="no such account"):
        find_one(session, "hub")  # parts only when asked for
    for inexact in ("gitlab:ALICE", "bob", "alice", "hub"):
        with pytest.raises(NoSuchCredential, match="no such account"):
            session.find(inexact)  # the library takes exact names only
    with pytest.raises(NoSuchCredential, match="'nobody'"):
        session.calculate("nobody")


# --- calculate all ------------------------------------------------------------------------------


def test_calculate_all_one_exchange_with_fallbacks(card: VirtualCard) -> None:
    recorder = Recorder(card.connect())
    session = OathSession(recorder)
    session.put(uri("T:thirty", issuer="T"))
    session.put(uri("T:sixty", issuer="T", period=60, digits=8))
    session.put(uri("H:counter", issuer="H", kind="hotp", counter=0))
    session.put(uri("T:touch", issuer="T"), touch=True)
    recorder.apdus.clear()
    t = 1_700_000_000
    result = session.calculate_all(for_time=t)
    by_id = {c.id: (c, code) for c, code in result.items()}
    assert set(by_id) == {"T:thirty", "60/T:sixty", "H:counter", "T:touch"}
    assert by_id["T:thirty"][1].value == pyotp.TOTP(SECRET_B32).at(t)
    assert by_id["60/T:sixty"][1].value == pyotp.TOTP(SECRET_B32, interval=60, digits=8).at(t)
    assert by_id["60/T:sixty"][1].valid_to == (t // 60 + 1) * 60
    assert by_id["H:counter"][1] is None and by_id["H:counter"][0].oath_type == "hotp"
    assert by_id["T:touch"][1] is None and by_id["T:touch"][0].touch is True
    # One CALCULATE ALL, one CALCULATE for the 60-second credential; HOTP is not advanced.
    assert recorder.instructions() == [0xA4, 0xA2]
    assert session.calculate("H:counter").value == pyotp.HOTP(SECRET_B32).at(0)


def test_thirty_credentials_cost_one_calculate_all_and_its_send_remaining(
    card: VirtualCard,
) -> None:
    recorder = Recorder(card.connect())
    session = OathSession(recorder)
    for i in range(30):
        session.put(uri(f"Issuer{i:02d}:user{i:02d}@example.com", issuer=f"Issuer{i:02d}"))
    recorder.apdus.clear()
    t = 1_234_567_890
    codes = session.calculate_all(for_time=t)
    assert len(codes) == 30
    assert {code.value for code in codes.values() if code} == {pyotp.TOTP(SECRET_B32).at(t)}
    ins = recorder.instructions()
    response_size = sum(2 + len(c.raw_id) + 7 for c in codes)  # 71 L id, 76 05 digits+4
    parts = -(-response_size // card.max_response_chunk)
    assert ins == [0xA4] + [0xA5] * (parts - 1)
    assert parts > 1


# --- touch --------------------------------------------------------------------------------------


# Prompting for a touch is the command line's: tests/token/test_cli_helpers.py.


def test_touch_timeout_is_its_own_error(make_virtual: Callable[..., VirtualCard]) -> None:
    card = make_virtual(touch=TouchPolicy("never", timeout=0.2))
    session = OathSession(card.connect())
    session.put(uri("Touchy:me", issuer="Touchy"), touch=True)
    with pytest.raises(TouchTimeout, match="needs a touch") as exc:
        session.calculate("Touchy:me")
    assert isinstance(exc.value, TimeoutError) and exc.value.sw == 0x6982


# --- delete and rename --------------------------------------------------------------------------


def test_delete(session: OathSession) -> None:
    session.put(uri("Del:me", issuer="Del"))
    session.put(uri("Keep:me", issuer="Keep"))
    deleted = session.delete("Del:me")
    assert deleted.id == "Del:me"
    assert [c.id for c in session.list()] == ["Keep:me"]
    with pytest.raises(NoSuchCredential):
        session.delete("Del:me")


def test_delete_of_a_credential_gone_meanwhile(session: OathSession, card: VirtualCard) -> None:
    session.put(uri("Gone:me", issuer="Gone"))
    credential = session.find("Gone:me")
    other = OathSession(make_card_connection_sharing(card))
    other.delete("Gone:me")
    with pytest.raises(NoSuchCredential) as exc:
        session.delete(credential)
    assert exc.value.sw == 0x6984


def make_card_connection_sharing(card: VirtualCard) -> Any:
    """A second connection to the same card (the card's session state is shared)."""
    from pyotp_hw.token.virtual import VirtualConnection

    return VirtualConnection(card)


def test_rename_keeps_period_and_codes(session: OathSession) -> None:
    session.put(uri("Old:name", issuer="Old", period=60))
    session.put(uri("Other:x", issuer="Other", period=60))
    renamed = session.rename("Old:name", "New:label")
    assert renamed.id == "60/New:label" and renamed.period == 60
    assert {c.id for c in session.list()} == {"60/New:label", "60/Other:x"}
    assert session.calculate("New:label", for_time=100).value == pyotp.TOTP(
        SECRET_B32, interval=60).at(100)
    assert session.rename("New:label", "plain").id == "60/plain"
    with pytest.raises(CredentialExists):
        session.rename("plain", "Other:x")
    with pytest.raises(InvalidCredential, match="at most 64"):
        session.rename("plain", "x" * 70)
    with pytest.raises(NoSuchCredential):
        session.rename("missing", "y")


# --- passwords ----------------------------------------------------------------------------------


def test_password_set_unlock_change_clear(card: VirtualCard) -> None:
    session = OathSession(card.connect())
    session.put(uri("Locked:me", issuer="Locked"))
    session.set_password("correct horse")
    assert session.info.password_set and not session.info.locked
    assert oath_applet(card).state.password_key == hashlib.pbkdf2_hmac(
        "sha1", b"correct horse", oath_applet(card).state.salt, 1000, 16)
    session.close()

    locked = OathSession(card.connect())
    assert locked.info.locked and locked.info.password_set
    for action in (locked.list, lambda: locked.calculate_all(),
                   lambda: locked.put(uri("x"))):
        with pytest.raises(AuthenticationRequired, match="locked"):
            action()
    with pytest.raises(WrongPassword, match="wrong password") as exc:
        locked.unlock("wrong horse")
    assert isinstance(exc.value, PermissionError) and exc.value.sw == 0x6A80
    locked.unlock("correct horse")
    assert [c.id for c in locked.list()] == ["Locked:me"]
    locked.set_password("battery staple")
    locked.close()

    third = OathSession(card.connect())
    with pytest.raises(AuthenticationRequired):
        third.clear_password()
    third.clear_password(current="battery staple")
    third.close()
    fourth = OathSession(card.connect())
    assert not fourth.info.password_set and len(fourth.list()) == 1
    with pytest.raises(NoPasswordSet):
        fourth.unlock("anything")
    with pytest.raises(NoPasswordSet):
        fourth.clear_password()


def test_set_password_when_locked_needs_the_current_one(card: VirtualCard) -> None:
    OathSession(card.connect()).set_password("one")
    session = OathSession(card.connect())
    with pytest.raises(AuthenticationRequired, match="current password"):
        session.set_password("two")
    session.set_password("two", current="one")
    OathSession(card.connect()).unlock("two")


class ImpostorApplet(OathApplet):
    """A card that accepts any password and answers the host's challenge with noise."""

    def __init__(self, proof: bytes | None) -> None:
        super().__init__(MemoryStore())
        self.proof = proof

    def _validate(self, command: Any) -> tuple[bytes, int]:
        from pyotp_hw.token import tlv

        self._authenticated = True
        if self.proof is None:
            return b"", 0x9000
        return tlv.encode(0x75, self.proof), 0x9000


@pytest.mark.parametrize("proof", [None, bytes(20), b"\x01"])
def test_impostor_card_is_detected(proof: bytes | None) -> None:
    applet = ImpostorApplet(proof)
    card = VirtualCard([applet])
    OathSession(card.connect()).set_password("secret words")
    session = OathSession(card.connect())
    with pytest.raises(TokenAuthenticityError, match="could not prove") as exc:
        session.unlock("any guess at all")
    assert "any guess" not in str(exc.value)
    assert session.info.locked


def test_unlock_follows_the_mutual_challenge_response(card: VirtualCard) -> None:
    # Check both directions with an independent computation of the PBKDF2 key and HMACs.
    OathSession(card.connect()).set_password("pw")
    recorder = Recorder(card.connect())
    session = OathSession(recorder)
    session.unlock("pw")
    key = hashlib.pbkdf2_hmac("sha1", b"pw", oath_applet(card).state.salt, 1000, 16)
    select_answer = tlv.parse_dict(recorder.responses[0][0])
    validate = tlv.parse_dict(Command.decode(recorder.apdus[1]).data)
    card_proof = tlv.parse_dict(recorder.responses[1][0])
    assert recorder.instructions()[:2] == [0xA4, 0xA3]
    assert validate[0x75] == hmac.new(key, select_answer[0x74], hashlib.sha1).digest()
    assert card_proof[0x75] == hmac.new(key, validate[0x74], hashlib.sha1).digest()
    assert len(validate[0x74]) == 8 and validate[0x74] != select_answer[0x74]


# --- reset --------------------------------------------------------------------------------------


def test_reset_erases_everything(card: VirtualCard) -> None:
    session = OathSession(card.connect())
    session.put(uri("A:a"))
    session.set_password("pw")
    before = session.info.device_id
    session.reset()
    assert session.list() == [] and not session.info.password_set
    assert session.info.device_id != before
    assert oath_applet(card).state.password_key is None


# --- capacity and memory ------------------------------------------------------------------------


def test_token_full(make_virtual: Callable[..., VirtualCard]) -> None:
    session = OathSession(make_virtual(capacity=2).connect())
    session.put(uri("a"))
    session.put(uri("b"))
    with pytest.raises(TokenFull, match="the token is full") as exc:
        session.put(uri("c"))
    assert exc.value.sw == 0x6A84
    session.put(uri("a", secret=OTHER_B32), overwrite=True)  # replacing needs no room


class FailingStore(MemoryStore):
    """A store whose disk fills up after a while."""

    fail = False

    def save(self, state: Any) -> None:
        if self.fail:
            raise OSError(28, "No space left on device")
        super().save(state)


def test_memory_failure_changes_nothing() -> None:
    store = FailingStore()
    session = OathSession(make_card(store=store).connect())
    session.put(uri("kept"))
    session.put(uri("counter", kind="hotp", counter=0))
    store.fail = True
    with pytest.raises(TokenMemoryError, match="memory failure"):
        session.put(uri("lost"))
    with pytest.raises(TokenMemoryError):
        session.calculate("counter")  # the counter cannot advance, so no code is given
    store.fail = False
    assert [c.id for c in session.list()] == ["kept", "counter"]
    assert session.calculate("counter").value == pyotp.HOTP(SECRET_B32).at(0)


# --- times --------------------------------------------------------------------------------------


def test_for_time_accepts_aware_datetimes_only(session: OathSession) -> None:
    session.put(uri("When:me"))
    aware = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert session.calculate("When:me", for_time=aware).value == pyotp.TOTP(SECRET_B32).at(
        int(aware.timestamp()))
    # A bad time is a bad argument (or type), not a credential the token cannot store.
    with pytest.raises(InvalidArgument, match="aware") as info:
        session.calculate("When:me", for_time=datetime(2030, 1, 1))
    assert not isinstance(info.value, InvalidCredential)
    with pytest.raises(InvalidArgument, match="negative") as info:
        session.calculate("When:me", for_time=-1)
    assert not isinstance(info.value, InvalidCredential)
    with pytest.raises(InvalidType, match="Unix seconds"):
        session.calculate("When:me", for_time="now")  # type: ignore[arg-type]


def test_a_password_must_be_text(card: VirtualCard) -> None:
    session = OathSession(card.connect())
    calls = [lambda: session.set_password(1234),  # type: ignore[arg-type]
             lambda: session.unlock(b"pw")]  # type: ignore[arg-type]
    for call in calls:
        with pytest.raises(InvalidType, match="must be a str") as info:
            call()
        assert not isinstance(info.value, InvalidCredential) and isinstance(info.value, TypeError)
    with pytest.raises(InvalidArgument, match="empty"):
        session.set_password("")


def test_reprs_never_show_secrets(session: OathSession) -> None:
    data = CredentialData("r", decode_base32(SECRET_B32))
    assert "JBSW" not in repr(data) and "secret" not in repr(data)
    session.put(data)
    assert "JBSW" not in repr(session.list())
