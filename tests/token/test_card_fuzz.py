"""The OATH client against card answers of every shape, and the TLV/APDU codecs against bytes.

An in-process fake card answers each command with fuzzed data and a fuzzed status word
(chaining 61xx, wrong Le 6Cxx, PIN counters 63Cx, every status the protocol names, any 16-bit
value); its SELECT answer is fuzzed too. Whatever the card says, only the project's typed
errors come out, and none carries the credential's key or the password. Also: the explicit
cases of issue 10 (a 5000-digit period prefix; ``for_time`` of 1e30, inf and nan).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.errors import InvalidArgument
from pyotp_hw.token import Credential, CredentialData, OathSession, derive_key, tlv
from pyotp_hw.token.apdu import SW, Command, decode_response
from pyotp_hw.token.errors import TokenConnectionError
from pyotp_hw.token.virtual import TouchPolicy, make_card

from ..typed_errors import assert_clean_error, fuzz
from .test_errors import SELECT_LOCKED, SELECT_OK, SELECT_PIN, Scripted

KEY = bytes(range(0x41, 0x41 + 20))  # the credential's key
PASSWORD = "correct horse battery"
SALT = b"saltsalt"
NEEDLES: list[str | bytes] = [
    KEY, PASSWORD, derive_key(PASSWORD, SALT), hashlib.sha1(KEY).digest(),
]
DATA = CredentialData("me", KEY, issuer="Site")
HOTP_DATA = CredentialData("count", KEY, oath_type="hotp", counter=5)
TOTP = Credential(b"Site:me", "me", "Site", "totp", 30)
HUGE_PERIOD = b"9" * 5000 + b"/Site:me"


# --- the explicit cases -------------------------------------------------------------------------


def test_a_5000_digit_period_prefix_in_the_list_is_part_of_the_name() -> None:
    listing = tlv.encode(0x72, b"\x21" + HUGE_PERIOD)
    session = OathSession(Scripted(SELECT_OK, [(listing, 0x9000)]))
    (credential,) = session.list()
    # Not a usable period: like any out-of-range prefix, it stays part of the name.
    assert credential.period == 30 and credential.name == HUGE_PERIOD.decode()


def test_a_5000_digit_period_prefix_in_calculate_all() -> None:
    answer = tlv.encode(0x71, HUGE_PERIOD) + tlv.encode(0x76, b"\x06\x00\x00\x30\x39")
    session = OathSession(Scripted(SELECT_OK, [(answer, 0x9000)]))
    result = session.calculate_all(for_time=0)
    assert [(c.period, k.value if k else None) for c, k in result.items()] == [(30, "012345")]


@pytest.mark.parametrize("digits", ["\u0663\u0660", "\uff16\uff10"])  # Arabic-Indic, fullwidth
def test_only_ascii_digits_make_a_period(digits: str) -> None:
    raw = f"{digits}/Site:me".encode()
    listing = tlv.encode(0x72, b"\x21" + raw)
    (credential,) = OathSession(Scripted(SELECT_OK, [(listing, 0x9000)])).list()
    # Not a period prefix, so the text before the colon is the issuer.
    assert (credential.period, credential.issuer, credential.name) == (30, f"{digits}/Site", "me")


@pytest.mark.parametrize(
    "for_time", [1e30, math.inf, -math.inf, math.nan, 2**63, 10**30, -1, -0.5]
)
@pytest.mark.parametrize("call", ["calculate", "calculate_all"])
def test_unusable_times_are_typed_errors(for_time: Any, call: str) -> None:
    session = OathSession(make_card().connect())
    session.put(DATA)
    with pytest.raises(InvalidArgument, match="for_time") as info:
        if call == "calculate":
            session.calculate("Site:me", for_time=for_time)
        else:
            session.calculate_all(for_time=for_time)
    assert_clean_error(info.value, NEEDLES)


def test_the_last_usable_time_still_works() -> None:
    session = OathSession(make_card().connect())
    session.put(DATA)
    code = session.calculate("Site:me", for_time=2**63 - 1)
    assert code.valid_from <= 2**63 - 1 < code.valid_to  # type: ignore[operator]


# --- a card answering anything ------------------------------------------------------------------

def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` four times in five: a card that fails at once would test little else."""
    return st.integers(0, 4).flatmap(lambda n: usual if n else other)


NAMED = sorted(int(s) for s in SW)
STATUS = (
    st.sampled_from(NAMED)
    | st.integers(0, 0xFF).map(lambda n: 0x6100 | n)
    | st.integers(0, 0xFF).map(lambda n: 0x6C00 | n)
    | st.integers(0, 0x0F).map(lambda n: 0x63C0 | n)
    | st.integers(0, 0xFFFF)
)
TAGS = st.sampled_from([0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B,
                        0x7C, 0x82, 0x8F]) | st.integers(0, 255)
NAMES = (
    st.binary(max_size=70)
    | st.text(max_size=30).map(str.encode)
    | st.tuples(st.sampled_from([1, 2, 10, 11, 4300, 4301, 5000]) | st.integers(0, 6000),
                st.text(min_size=1, max_size=10)).map(
        lambda p: b"9" * p[0] + b"/" + p[1].encode())
)
VALUES = st.one_of(
    st.binary(max_size=40),
    NAMES,
    st.tuples(st.integers(0, 255), st.binary(min_size=4, max_size=4)).map(
        lambda p: bytes([p[0]]) + p[1]),
    st.integers(0, 255).map(lambda n: bytes([n])),
)
TLVS = st.lists(st.tuples(TAGS, VALUES), max_size=8).map(tlv.encode_many)
# Answers shaped like a LIST or a CALCULATE ALL, so that fuzzed names reach the parsers.
KINDS = mostly(st.sampled_from([0x21, 0x22, 0x23, 0x11, 0x12]), st.integers(0, 255))
LISTING = st.lists(st.tuples(st.just(0x72), st.tuples(KINDS, NAMES).map(
    lambda p: bytes([p[0]]) + p[1])), min_size=1, max_size=4).map(tlv.encode_many)
CODES = st.lists(st.tuples(NAMES, st.sampled_from([0x76, 0x77, 0x7C]) | TAGS, VALUES),
                 min_size=1, max_size=4).map(
    lambda rows: b"".join(tlv.encode(0x71, n) + tlv.encode(t, v) for n, t, v in rows))
ANSWER_DATA = LISTING | CODES | TLVS | st.binary(max_size=120) | TLVS.flatmap(
    lambda b: st.integers(0, len(b)).map(lambda n: b[:n]))

SELECTS = mostly(st.sampled_from([SELECT_OK, SELECT_LOCKED, SELECT_PIN]), ANSWER_DATA)
OK_MOSTLY = mostly(st.just(0x9000), STATUS)


class AnythingCard:
    """A card whose every answer (SELECT included) is drawn by hypothesis as it is asked for."""

    LIMIT = 40

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.count = 0

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.count += 1
        if self.count > self.LIMIT:
            raise TokenConnectionError("the fuzzed card stops answering")
        if apdu[1] == 0xA4 and apdu[2] == 0x04:
            return self.data.draw(SELECTS), self.data.draw(OK_MOSTLY)
        return self.data.draw(ANSWER_DATA), self.data.draw(OK_MOSTLY)

    def close(self) -> None:
        pass


OPERATIONS: dict[str, Callable[[OathSession], Any]] = {
    "info": lambda s: s.info.to_dict(),
    "list": lambda s: s.list(),
    "find": lambda s: s.find("me"),
    "calculate": lambda s: s.calculate(TOTP, for_time=1_700_000_000),
    "calculate-hotp": lambda s: s.calculate(
        Credential(b"count", "count", None, "hotp", None)),
    "calculate-by-name": lambda s: s.calculate("me"),
    "calculate_all": lambda s: s.calculate_all(for_time=1_700_000_000),
    "put": lambda s: s.put(DATA, touch=True),
    "put-overwrite": lambda s: s.put(HOTP_DATA, overwrite=True),
    "delete": lambda s: s.delete(TOTP),
    "rename": lambda s: s.rename(TOTP, "New:name"),
    "unlock": lambda s: s.unlock(PASSWORD),
    "set_password": lambda s: s.set_password(PASSWORD, current=PASSWORD),
    "clear_password": lambda s: s.clear_password(current=PASSWORD),
    "reset": lambda s: s.reset(),
}


@fuzz
@given(data=st.data(), what=st.lists(st.sampled_from(sorted(OPERATIONS)), min_size=1,
                                     max_size=3))
def test_any_card_answer_gives_a_result_or_a_clean_typed_error(
    data: st.DataObject, what: list[str]
) -> None:
    try:
        session = OathSession(AnythingCard(data))
    except Exception as exc:  # whatever escapes is checked
        assert_clean_error(exc, NEEDLES)
        return
    session._backoff = lambda: None  # type: ignore[method-assign]  # no sleeping in a fuzz
    for name in what:
        try:
            result = OPERATIONS[name](session)
        except Exception as exc:  # whatever escapes is checked
            assert_clean_error(exc, NEEDLES)
        else:
            text = repr(result)
            assert all(
                (n if isinstance(n, str) else n.decode("latin-1")) not in text for n in NEEDLES
            )


# --- the codecs on their own --------------------------------------------------------------------


@fuzz
@given(raw=st.binary(max_size=300), bare=st.sets(st.integers(0, 255), max_size=3))
def test_tlv_decoding_raises_only_clean_typed_errors(raw: bytes, bare: set[int]) -> None:
    for call in (lambda: tlv.parse(raw, bare=bare), lambda: tlv.parse_dict(raw),
                 lambda: tlv.only(raw, 0x76)):
        try:
            call()
        except Exception as exc:  # whatever escapes is checked
            assert_clean_error(exc, [raw] if len(raw) >= 6 else [])


@fuzz
@given(raw=st.binary(max_size=300))
def test_apdu_decoding_raises_only_clean_typed_errors(raw: bytes) -> None:
    for call in (lambda: Command.decode(raw), lambda: decode_response(raw)):
        try:
            call()
        except Exception as exc:  # whatever escapes is checked
            assert_clean_error(exc, [raw] if len(raw) >= 6 else [])


@pytest.mark.parametrize(
    "call",
    [
        lambda: tlv.encode(256, b""),
        lambda: tlv.encode(0x71, bytes(70000)),
        lambda: Command(0, 256),
        lambda: Command(0, 1, data=bytes(70000)),
        lambda: Command(0, 1, le=70000),
        lambda: TouchPolicy("sometimes"),  # type: ignore[arg-type]
    ],
)
def test_encoding_what_cannot_be_encoded_is_a_typed_error(call: Callable[[], Any]) -> None:
    with pytest.raises(InvalidArgument) as info:
        call()
    assert_clean_error(info.value)
