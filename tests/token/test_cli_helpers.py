"""What the command line adds over the library, without a reader: the ykman-style name search,
the touch prompt, and the exit statuses and words it gives each library error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.cli._common import EXIT_BAD_INPUT, EXIT_NO_TOKEN, error_message, exit_code_for
from pyotp_hw.cli.token_session import calculate_with_prompt, ordered, search
from pyotp_hw.errors import InvalidArgument
from pyotp_hw.token import (
    Credential,
    MultipleTokensFound,
    NoOathApplet,
    NoReaderFound,
    NoTokenFound,
    OathSession,
    PcscUnavailable,
    ReaderNotFound,
    TokenBusy,
    TokenConnectionError,
    TokenError,
    WrongPassword,
)
from pyotp_hw.token.virtual import TouchPolicy, VirtualCard

from ..typed_errors import fuzz
from .helpers import SECRET_B32


def cred(cred_id: str, name: str, issuer: str | None, period: int = 30) -> Credential:
    return Credential(cred_id.encode(), name, issuer, "totp", period, device_id="dev")


CREDS = [cred("60/GitHub:alice", "alice", "GitHub", 60), cred("GitLab:alice", "alice", "GitLab"),
         cred("Mail:bob", "bob", "Mail"), cred("Site:me", "me", "Site"),
         cred("Site:meet", "meet", "Site"), cred("plain", "plain", None)]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("60/GitHub:alice", ["60/GitHub:alice"]),  # the full id
        ("GitHub:alice", ["60/GitHub:alice"]),  # issuer and name
        ("Site:me", ["Site:me"]),  # a full id wins over the ids it is part of
        ("alice", ["60/GitHub:alice", "GitLab:alice"]),  # every account of that name
        ("bob", ["Mail:bob"]),
        ("gitlab:ALICE", ["GitLab:alice"]),  # letter case does not matter
        ("hub", ["60/GitHub:alice"]),  # a part of the name
        ("ali", ["60/GitHub:alice", "GitLab:alice"]),  # every match, as ykman lists them
        ("SITE:ME", ["Site:me", "Site:meet"]),  # not a full id: a part of two
        ("site", ["Site:me", "Site:meet"]),
        ("nothing", []),
    ],
)
def test_search_finds_what_ykman_would(query: str, found: list[str]) -> None:
    assert [c.id for c in search(CREDS, query)] == found


# ykman's own search and yubikit's own order are the oracle, over generated ids and queries.
_ID_TEXT = st.text(alphabet="aAbB:/_ 0é", min_size=1, max_size=8)
_IDS = st.lists(st.tuples(st.sampled_from(["totp", "hotp"]), st.sampled_from(["", "60/", "7/"]),
                          st.sampled_from(["", "_hidden:", "Ab:", "ab:", "B:"]), _ID_TEXT),
                min_size=0, max_size=8)


@fuzz
@given(entries=_IDS, query=st.text(alphabet="aAbB:/_ 0é6", max_size=4),
       show_hidden=st.booleans(), pick=st.integers(min_value=0, max_value=7))
def test_search_and_order_are_ykmans(entries: list[tuple[str, str, str, str]], query: str,
                                     show_hidden: bool, pick: int) -> None:
    from ykman._cli.oath import _search
    from yubikit.oath import OATH_TYPE, _parse_cred_id
    from yubikit.oath import Credential as YkCredential

    from pyotp_hw.token.model import credential_from_id

    ours, theirs, seen = [], [], set()
    for kind, period, issuer, name in entries:
        raw = f"{period if kind == 'totp' else ''}{issuer}{name}".encode()
        if raw in seen or (kind == "totp" and re.match(rb"0+/", raw)):
            # One deliberate difference: "0/x" has no period here (a TOTP of 0 s is not one),
            # so it is named and sorted by its whole text; yubikit reads a period of 0.
            continue
        seen.add(raw)
        ours.append(credential_from_id(raw, "totp" if kind == "totp" else "hotp", "dev"))
        oath_type = OATH_TYPE.TOTP if kind == "totp" else OATH_TYPE.HOTP
        their_issuer, their_name, their_period = _parse_cred_id(raw, oath_type)
        theirs.append(YkCredential("dev", raw, their_issuer, their_name, oath_type,
                                   their_period, None))
    if ours and pick < len(ours) and pick % 2:
        query = ours[pick].id  # a full id now and then
    assert [c.id for c in ordered(search(ours, query, show_hidden=show_hidden))] == [
        c.id.decode() for c in sorted(_search(theirs, query, show_hidden))]
    assert [c.id for c in ordered(ours)] == [c.id.decode() for c in sorted(theirs)]


# --- the touch prompt (moved from the library's session) ----------------------------------------


def _uri(label: str) -> str:
    return f"otpauth://totp/{label}?secret={SECRET_B32}"


def test_touch_credential_prompts_and_waits(make_virtual: Callable[..., VirtualCard]) -> None:
    card = make_virtual(touch=TouchPolicy("auto", delay=0.3, timeout=2))
    prompts: list[str] = []
    session = OathSession(card.connect())
    session.put(_uri("Touchy:me"), touch=True)
    (listed,) = session.list()  # LIST does not say whether it needs a touch
    code = calculate_with_prompt(session, listed, 59, prompt=lambda c: prompts.append(c.label),
                                 delay=0.05)
    assert code.value == pyotp.TOTP(SECRET_B32).at(59)
    assert prompts == ["Touchy:me"]
    # A credential known to need touch (from CALCULATE ALL) is announced at once.
    credential = next(iter(session.calculate_all(for_time=59)))
    assert credential.touch is True
    calculate_with_prompt(session, credential, 59, prompt=lambda c: prompts.append(c.label),
                          delay=60)
    assert prompts == ["Touchy:me", "Touchy:me"]


def test_no_prompt_for_a_quick_answer(session: OathSession) -> None:
    prompts: list[str] = []
    session.put(_uri("Quick:me"))
    (listed,) = session.list()
    calculate_with_prompt(session, listed, 0, prompt=lambda c: prompts.append(c.label),
                          delay=0.4)
    assert prompts == []


# --- exit statuses and words --------------------------------------------------------------------


NO_TOKEN: list[TokenError] = [
    PcscUnavailable("no PC/SC service"), NoReaderFound("no reader"), NoTokenFound("none"),
    NoOathApplet("no applet"), ReaderNotFound("no such reader"),
    TokenConnectionError("gone"), TokenBusy("busy"),
]


@pytest.mark.parametrize("error", NO_TOKEN, ids=lambda e: type(e).__name__)
def test_no_token_is_exit_status_3(error: TokenError) -> None:
    assert exit_code_for(error) == EXIT_NO_TOKEN == 3
    assert error_message(error) == str(error)


NO_SERVICE = "no PC/SC service is running: start pcscd (the smart card daemon)"
VIRTUAL_ADVICE = ", or run 'pyotp-hw token virtual' with the rig for a virtual token"


def test_the_virtual_token_advice_is_the_command_line_s_not_the_library_s(tmp_path: Path) -> None:
    pytest.importorskip("smartcard", reason="the token extra (pyscard)")
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no.sock")}
    probe = ("from pyotp_hw.token import PcscUnavailable, pcsc\n"
             "try:\n    pcsc.reader_names()\n"
             "except PcscUnavailable as e:\n    print(repr(str(e)), e.stopped)\n")
    library = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                             text=True, timeout=60)
    assert library.stdout == f"{NO_SERVICE!r} True\n", library.stderr
    line = subprocess.run([sys.executable, "-m", "pyotp_hw", "token", "list"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert line.returncode == EXIT_NO_TOKEN
    assert line.stderr == f"pyotp-hw: error: {NO_SERVICE}{VIRTUAL_ADVICE}\n"
    # Only a service that is not running at all gets the advice.
    assert error_message(PcscUnavailable(NO_SERVICE)) == NO_SERVICE
    assert error_message(PcscUnavailable(NO_SERVICE, stopped=True)) == NO_SERVICE + VIRTUAL_ADVICE


@pytest.mark.parametrize("error", [WrongPassword("wrong password"), InvalidArgument("bad"),
                                   MultipleTokensFound(["A 00", "B 01"])],
                         ids=lambda e: type(e).__name__)
def test_other_errors_are_exit_status_2(error: Exception) -> None:
    assert exit_code_for(error) == EXIT_BAD_INPUT == 2


def test_library_errors_carry_no_command_line_words() -> None:
    several = MultipleTokensFound(["Reader A 00", "Reader B 01"])
    for error in [*NO_TOKEN, several]:
        assert not hasattr(error, "exit_code")
    assert several.readers == ["Reader A 00", "Reader B 01"]
    assert "Reader A 00" in str(several) and not re.search(r"--\w", str(several))
    # The command line names its option.
    message = error_message(several)
    assert "--reader" in message and "'Reader A 00'" in message and "'Reader B 01'" in message
