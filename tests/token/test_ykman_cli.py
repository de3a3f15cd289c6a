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
