"""The ykman-style commands of ``pyotp-hw token``, with ykman itself as the oracle.

ykman (yubikey-manager) and pyotp-hw talk to the same virtual token through the same pcscd: for
every query both show the same accounts, in the same order, with the same codes; what one stores
the other reads with the same parameters. ykman has no time option, so codes are compared when
both calls fell in one time step (the pair is taken again when a step boundary fell between).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest

from pyotp_hw.token import open_token
from pyotp_hw.uri import build

from .helpers import OTHER_B32, SECRET_B32, Run

pytestmark = pytest.mark.pcsc

Ykman = Callable[..., Any]


def ykman_rows(output: str) -> list[tuple[str, str]]:
    """``ykman oath accounts code`` lines as (id, code or [note]), in ykman's order."""
    rows = []
    for line in output.splitlines():
        if not line.strip():
            continue
        text = line.rstrip()
        cut = text.rfind("[") if text.endswith("]") else text.rfind(" ")
        rows.append((text[:cut].rstrip(), text[cut:].strip()))
    return rows


def same_step(pair: Callable[[], tuple[Any, Any]], period: int = 30) -> tuple[Any, Any]:
    """Run ``pair`` until both of its calls ran inside one step of ``period`` seconds (30 s
    steps hold 60 s steps whole)."""
    for _ in range(3):
        before = time.time()
        result = pair()
        if int(before) // period == int(time.time()) // period:
            return result
    raise AssertionError("three step boundaries in a row")


ACCOUNTS = [
    # (kind, issuer, account, period)
    ("totp", "zeta", "Bob", 30), ("totp", "Alpha", "carol", 30), ("totp", "alpha", "Anna", 30),
    ("totp", None, "beta", 30), ("totp", "Beta", "aaron", 30), ("totp", "Alpha", "carol", 60),
    ("totp", "_hidden", "secret", 30), ("hotp", "Bank", "alicia", 0), ("totp", None, "Zed", 30),
]


def _store_accounts() -> None:
    with open_token() as tok:
        for kind, issuer, account, period in ACCOUNTS:
            params: dict[str, Any] = {"period": period} if kind == "totp" else {"counter": 3}
            tok.put(build(kind, SECRET_B32, account=account, issuer=issuer, **params))
        tok.put(build("totp", OTHER_B32, account="erin", issuer="T"), touch=True)


def _ours(run: Run, *args: str) -> list[tuple[str, str | None]]:
    """Our rows; none where we refuse a query that matches nothing (ykman prints nothing)."""
    status, out, err = run("token", "code", *args, "--json")
    if status:
        assert status == 2 and "no such account" in err
        return []
    shown = json.loads(out)
    rows = shown if isinstance(shown, list) else [shown]
    return [(row["credential"]["id"], row["code"]) for row in rows]


@pytest.mark.parametrize("hidden", [(), ("-H",)], ids=["", "show-hidden"])
def test_every_query_shows_what_ykman_shows(run: Run, token: Any, ykman: Ykman,
                                            hidden: tuple[str, ...]) -> None:
    _store_accounts()
    for query in ["", "a", "ALPHA", "alpha:carol", "60/Alpha:carol", "Alpha:carol", "b", "_hid",
                  "e", ":"]:
        words = (query,) if query else ()
        ours, theirs = same_step(lambda w=words: (
            _ours(run, *w, *hidden),
            ykman_rows(ykman("oath", "accounts", "code", *hidden, *w).stdout)))
        assert [name for name, _ in ours] == [name for name, _ in theirs], query
        for (name, code), (_, their_code) in zip(ours, theirs, strict=True):
            if code is None:  # not computed in a listing: HOTP, or a touch is needed
                assert their_code in ("[HOTP Account]", "[Requires Touch]"), name
            elif len(ours) > 1 or not their_code.startswith("["):
                assert code == their_code, (query, name)
    # The listing is ykman's too.
    listed = [c["id"] for c in run.json("token", "list", *hidden)]
    assert listed == ykman("oath", "accounts", "list", *hidden).stdout.splitlines()


def test_single_is_ykmans(run: Run, token: Any, ykman: Ykman) -> None:
    _store_accounts()
    t = 1_700_000_000
    # One match: its code alone, from both; an HOTP account is computed (the counter moves).
    for query, period in (("zeta", 30), ("60/", 60), ("aaron", 30)):
        ours, theirs = same_step(lambda q=query: (
            run("token", "code", "-s", q), ykman("oath", "accounts", "code", "-s", q)))
        assert ours[0] == 0 and ours[1].strip() == theirs.stdout.strip(), query
        assert run("token", "code", "--single", query, "--time", str(t))[1].strip() == (
            pyotp.TOTP(SECRET_B32, interval=period).at(t))
    assert ykman("oath", "accounts", "code", "-s", "alicia").stdout.strip() == pyotp.HOTP(
        SECRET_B32).at(3)
    status, out, _ = run("token", "code", "-s", "alicia")
    assert status == 0 and out.strip() == pyotp.HOTP(SECRET_B32).at(4)
    # Several matches, or none: both refuse, and name the matches.
    status, out, err = run("token", "code", "-s", "alpha")
    refused = ykman("oath", "accounts", "code", "-s", "alpha", check=False)
    assert refused.returncode != 0 and "Multiple matches" in refused.stderr
    assert status == 2 and out == "" and err.count("\n") == 1
    listed = [line for line in refused.stderr.splitlines()[1:] if line]
    assert listed and all(f"'{name}'" in err for name in listed)
    status, _, err = run("token", "code", "-s", "nobody")
    assert status == 2 and "no such account" in err
    assert ykman("oath", "accounts", "code", "-s", "nobody", check=False).returncode != 0
    # The hidden account is found by its full id only with --show-hidden, as by ykman.
    assert run("token", "code", "-s", "_hidden:secret")[0] == 2
    assert ykman("oath", "accounts", "code", "-s", "_hidden:secret", check=False).returncode
    ours, theirs = same_step(lambda: (
        run("token", "code", "-s", "-H", "_hidden:secret"),
        ykman("oath", "accounts", "code", "-s", "-H", "_hidden:secret")))
    assert ours[1].strip() == theirs.stdout.strip()


def test_single_without_a_query_needs_one_account(run: Run, token: Any) -> None:
    status, _, err = run("token", "code", "-s")
    assert status == 2 and "no account" in err
    with open_token() as tok:
        tok.put(build("totp", SECRET_B32, account="only"))
    status, out, _ = run("token", "code", "-s", "--time", "59")
    assert status == 0 and out.strip() == pyotp.TOTP(SECRET_B32).at(59)


# --- token add NAME SECRET -----------------------------------------------------------------------

ADD_CASES = [
    # ykman's options, the same words for both; (pyotp factory for the code at t, or HOTP)
    ("-i", "Ex", "alice"),
    ("-o", "HOTP", "-c", "5", "-i", "H", "bob"),
    ("-a", "SHA256", "-d", "8", "-i", "S256", "carol"),
    ("-a", "sha512", "-P", "60", "-d", "7", "-i", "S512", "dave"),
    ("-o", "totp", "-P", "15", "plain"),
    ("-t", "-i", "T", "erin"),
]


def _ykman_listing(ykman: Ykman) -> list[str]:
    return ykman("oath", "accounts", "list", "-o", "-P").stdout.splitlines()


def _our_listing(run: Run) -> list[tuple[str, str, str | None, int | None]]:
    return [(c["id"], c["type"], c["digest"], c["period"]) for c in run.json("token", "list")]


def test_add_name_secret_as_ykman_adds(run: Run, token: Any, ykman: Ykman) -> None:
    for words in ADD_CASES:
        status, _, err = run("token", "add", "--no-code", *words, SECRET_B32)
        assert status == 0, (words, err)
    ours_by_ykman = _ykman_listing(ykman)
    ours_by_us = _our_listing(run)
    t = 1_700_000_000
    ours_codes = {name: run("token", "code", "-s", name, "--time", str(t))[1].strip()
                  for name in ("Ex:alice", "S256:carol", "60/S512:dave", "15/plain", "T:erin")}
    ours_codes["H:bob"] = run("token", "code", "-s", "H:bob")[1].strip()
    # The same words given to ykman make the same accounts.
    ykman("oath", "reset", "-f")
    for words in ADD_CASES:
        ykman("oath", "accounts", "add", "-f", *words, SECRET_B32)
    assert _ykman_listing(ykman) == ours_by_ykman
    assert _our_listing(run) == ours_by_us
    assert ours_by_us == [
        ("Ex:alice", "totp", "sha1", 30), ("H:bob", "hotp", "sha1", None),
        ("15/plain", "totp", "sha1", 15), ("S256:carol", "totp", "sha256", 30),
        ("60/S512:dave", "totp", "sha512", 60), ("T:erin", "totp", "sha1", 30)]
    # And the same codes: pyotp judges both tokens' accounts at one time.
    theirs_codes = {name: run("token", "code", "-s", name, "--time", str(t))[1].strip()
                    for name in ("Ex:alice", "S256:carol", "60/S512:dave", "15/plain", "T:erin")}
    theirs_codes["H:bob"] = run("token", "code", "-s", "H:bob")[1].strip()
    import hashlib

    assert ours_codes == theirs_codes == {
        "Ex:alice": pyotp.TOTP(SECRET_B32).at(t),
        "S256:carol": pyotp.TOTP(SECRET_B32, digest=hashlib.sha256, digits=8).at(t),
        "60/S512:dave": pyotp.TOTP(SECRET_B32, digest=hashlib.sha512, digits=7,
                                   interval=60).at(t),
        "15/plain": pyotp.TOTP(SECRET_B32, interval=15).at(t),
        "T:erin": pyotp.TOTP(SECRET_B32).at(t),
        "H:bob": pyotp.HOTP(SECRET_B32).at(5),
    }
    rows = dict(ykman_rows(ykman("oath", "accounts", "code").stdout))
    assert rows["T:erin"] == "[Requires Touch]" and rows["H:bob"] == "[HOTP Account]"


def test_add_name_secret_checks_everything_first(run: Run, token: Any, ykman: Ykman,
                                                 cli: Callable[..., Any]) -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    refused = [
        (("-c", "5", "alice", secret), "only meaningful for HOTP"),
        (("-o", "HOTP", "-P", "60", "alice", secret), "only meaningful for TOTP"),
        (("-d", "9", "alice", secret), "invalid choice"),
        (("-a", "MD5", "alice", secret), "invalid choice"),
        (("-i", "a:b", "alice", secret), "cannot contain ':'"),
        (("alice", secret + "1"), "not valid base32"),
        (("-i", "X", build("totp", secret, account="a")), "go with NAME SECRET"),
        (("-i", "X", "a", "b", "c"), "takes one account NAME"),
    ]
    for words, message in refused:
        result = cli("token", "add", *words)
        assert result.returncode == 2, (words, result.stderr)
        assert message in result.stderr and result.stderr.count("\n") <= 2, words
        assert secret not in result.stderr + result.stdout
    assert ykman("oath", "accounts", "list").stdout == ""
    # The secret from standard input; without a terminal, an existing name needs --force.
    result = cli("token", "add", "-i", "In", "alice", "-", input=secret + "\n")
    assert result.returncode == 0, result.stderr
    result = cli("token", "add", "-i", "In", "alice", "-", input=SECRET_B32 + "\n")
    assert result.returncode == 2 and "-f/--force" in result.stderr
    t = 1_700_000_000
    assert run("token", "code", "-s", "In:alice", "--time", str(t))[1].strip() == pyotp.TOTP(
        secret).at(t)
    result = cli("token", "add", "-f", "-i", "In", "alice", "-", input=SECRET_B32 + "\n")
    assert result.returncode == 0, result.stderr
    code, valid = same_step(lambda: (
        ykman("oath", "accounts", "code", "-s", "In:alice").stdout.strip(),
        {pyotp.TOTP(SECRET_B32).now()}))
    assert code in valid
    result = cli("token", "add", "-i", "In", "nobody")  # no terminal to ask for the secret
    assert result.returncode == 2 and "give the account's SECRET" in result.stderr


# --- choosing the token: --reader before the subcommand, --device ----------------------------


def test_reader_and_device_choose_as_ykman_reader_does(run: Run, rig: Any,
                                                       vtoken: Callable[..., Any],
                                                       ykman: Ykman) -> None:
    vtoken(slot=0)
    vtoken(slot=1)
    for slot, name in ((0, "first"), (1, "second")):
        ykman("oath", "accounts", "add", "-i", "Slot", name, SECRET_B32, reader=rig.reader(slot))
    ids = {r["reader"]: r["device_id"] for r in run.json("token", "readers")}
    first, second = ids[rig.reader(0)], ids[rig.reader(1)]
    assert first and second and first != second
    # Two tokens and no choice: refused, naming both readers and both device ids.
    status, _, err = run("token", "list")
    assert status == 2 and err.count("\n") == 1
    assert all(text in err for text in (rig.reader(0), rig.reader(1), first, second,
                                        "--reader NAME or --device ID"))
    for slot, device in ((0, first), (1, second)):
        theirs = ykman("oath", "accounts", "list", reader=rig.reader(slot)).stdout.split()
        for words in (("token", "--reader", rig.reader(slot), "list"),
                      ("token", "list", "--reader", rig.reader(slot)),
                      ("token", "--device", device, "list"),
                      ("token", "list", "--device", device),
                      ("token", "--reader", rig.reader(slot), "--device", device, "list")):
            assert [c["id"] for c in run.json(*words)] == theirs, words
        status, out, _ = run("token", "--device", device, "code", "-s", "Slot", "--time", "59")
        assert status == 0 and out.strip() == pyotp.TOTP(SECRET_B32).at(59)
    status, _, err = run("token", "--reader", rig.reader(0), "list", "--reader", rig.reader(1))
    assert status == 2 and "--reader is given twice" in err
    status, _, err = run("token", "--device", "no-such-id", "list")
    assert status == 3 and "no token with device id 'no-such-id'" in err and first in err
    status, _, err = run("token", "--reader", rig.reader(0), "--device", second, "list")
    assert status == 3 and "no token with device id" in err


def test_add_asks_at_a_terminal(run: Run, token: Any, ykman: Ykman,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from pyotp_hw.cli import token_session

    answers = iter(["n", "y"])
    prompts: list[str] = []
    monkeypatch.setattr(token_session, "_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": prompts.append(prompt) or next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or OTHER_B32)
    assert run("token", "add", "--no-code", "-i", "Ask", "me")[0] == 0  # the secret is asked for
    status, _, err = run("token", "add", "--no-code", "-i", "Ask", "me", SECRET_B32)
    assert status == 2 and "cancelled" in err
    assert run("token", "code", "-s", "Ask:me", "--time", "59")[1].strip() == pyotp.TOTP(
        OTHER_B32).at(59)
    assert run("token", "add", "--no-code", "-i", "Ask", "me", SECRET_B32)[0] == 0
    assert run("token", "code", "-s", "Ask:me", "--time", "59")[1].strip() == pyotp.TOTP(
        SECRET_B32).at(59)
    assert prompts[0] == "Secret (base32): " and all("Overwrite?" in p for p in prompts[1:])
    assert len(prompts) == 3
    assert ykman("oath", "accounts", "list").stdout.split() == ["Ask:me"]
