"""``pyotp-hw token ...`` end to end over PC/SC against the virtual token.

Most commands run in-process through ``pyotp_hw.cli.main`` (the test process already reaches the
rig's pcscd); a few run as separate processes to check exit statuses and stdin handling.
"""

from __future__ import annotations

import io
import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest

from pyotp_hw.token import open_token
from pyotp_hw.uri import build, parse

from .helpers import OTHER_B32, SECRET_B32, Run

pytestmark = pytest.mark.pcsc

URI = build("totp", SECRET_B32, account="alice@example.com", issuer="Example")


def _totp_window(secret: str, action: Callable[[], Any], **kwargs: Any) -> tuple[Any, set[str]]:
    otp = pyotp.TOTP(secret, **kwargs)
    before = time.time()
    result = action()
    return result, {otp.at(before), otp.at(time.time())}


def test_readers_list_info(run: Run, rig: Any, token: Any) -> None:
    readers = run.json("token", "readers")
    device_id = run.json("token", "info")["device_id"]
    assert {"reader": rig.reader(0), "card": True, "oath": True, "busy": False,
            "device_id": device_id} in readers
    assert run.json("token", "list") == []
    info = run.json("token", "info")
    assert info["version"] == "5.7.2" and info["accounts"] == 0 and not info["password_set"]
    status, out, _ = run("token", "info")
    assert status == 0 and "OATH version: 5.7.2" in out and "password:     not set" in out


def test_add_prints_the_code_to_confirm(run: Run, token: Any) -> None:
    (status, out, err), valid = _totp_window(SECRET_B32, lambda: run("token", "add", URI))
    assert status == 0, err
    assert "stored 'Example:alice@example.com' (TOTP, SHA1, 6 digits, 30 s)" in out
    code = out.split("code to confirm: ")[1].split()[0]
    assert code in valid
    assert SECRET_B32 not in out + err
    listed = run.json("token", "list")
    assert [(c["id"], c["type"], c["digest"], c["period"]) for c in listed] == [
        ("Example:alice@example.com", "totp", "sha1", 30)]

    # The same account again: refused, nothing changed.
    status, _, err = run("token", "add", build("totp", OTHER_B32, account="alice@example.com",
                                               issuer="Example"))
    assert status == 2 and "already on the token" in err and "--force" in err
    assert run.json("token", "code", "alice", "--time", "59")["code"] == pyotp.TOTP(
        SECRET_B32).at(59)
    added = run.json("token", "add", "--overwrite", build(
        "hotp", OTHER_B32, account="alice@example.com", issuer="Example", counter=3))
    assert added[0]["code"] == pyotp.HOTP(OTHER_B32).at(3)  # HOTP: the counter's first code
    assert added[0]["valid_to"] is None


def test_add_reads_the_uri_from_stdin(cli: Callable[..., Any], token: Any) -> None:
    result = cli("token", "add", "-", "--json", input=URI + "\n")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows[0]["credential"]["id"] == "Example:alice@example.com"


def test_add_a_migration_export_with_several_batches(run: Run, token: Any) -> None:
    from pyotp_hw import migration

    accounts = [parse(build("totp", SECRET_B32, account=f"user{i}", issuer=f"Site{i}",
                            digits=8 if i % 2 else 6)) for i in range(5)]
    accounts.append(parse(build("hotp", OTHER_B32, account="counter", issuer="Bank", counter=2)))
    batches = migration.encode(accounts, batch_size=4)
    assert len(batches) == 2
    t0 = int(time.time())
    rows = run.json("token", "add", *batches)
    assert [r["credential"]["id"] for r in rows] == [a.label for a in accounts]
    for account, row in zip(accounts, rows, strict=True):
        if account.kind == "hotp":
            assert row["code"] == pyotp.HOTP(OTHER_B32).at(2)
        else:
            otp = pyotp.TOTP(SECRET_B32, digits=account.digits)
            assert row["code"] in {otp.at(t0), otp.at(time.time())}
    # A second import clashes on every name: refused before anything is written.
    status, _, err = run("token", "add", *batches)
    assert status == 2 and "already on the token" in err
    assert len(run.json("token", "list")) == 6


def test_add_from_a_qr_image(run: Run, token: Any, tmp_path: Path) -> None:
    from pyotp_hw import qr

    image = tmp_path / "enroll.png"
    qr.write_png(URI, image)
    (status, out, err), valid = _totp_window(
        SECRET_B32, lambda: run("token", "add", "--qr", str(image)))
    assert status == 0, err
    assert out.split("code to confirm: ")[1].split()[0] in valid
    blank = tmp_path / "blank.png"
    qr.write_png("just some text", blank)
    status, _, err = run("token", "add", "--qr", str(blank))
    assert status == 2 and "no otpauth QR code found" in err


def test_bad_input_loses_nothing(run: Run, token: Any) -> None:
    run("token", "add", URI)
    steam = build("totp", SECRET_B32, account="me", issuer="Steam", encoder="steam")
    status, _, err = run("token", "add", build("totp", OTHER_B32, account="new"), steam)
    assert status == 2 and "Steam" in err and SECRET_B32 not in err
    assert [c["id"] for c in run.json("token", "list")] == ["Example:alice@example.com"]
    status, _, err = run("token", "add", "otpauth://totp/x?secret=not*base32")
    assert status == 2 and "secret" in err
    status, _, err = run("token", "add")
    assert status == 2 and "give a URI" in err


def test_codes_delete_rename(run: Run, token: Any) -> None:
    run("token", "add", URI, "--no-code")
    run("token", "add", build("totp", OTHER_B32, account="bob", issuer="Other", period=60),
        "--no-code")
    codes = run.json("token", "code", "--time", "1700000000")
    by_id = {row["credential"]["id"]: row["code"] for row in codes}
    assert by_id == {
        "Example:alice@example.com": pyotp.TOTP(SECRET_B32).at(1_700_000_000),
        "60/Other:bob": pyotp.TOTP(OTHER_B32, interval=60).at(1_700_000_000),
    }
    status, out, _ = run("token", "code", "bob", "--time", "1700000000")
    assert status == 0 and out.strip() == pyotp.TOTP(OTHER_B32, interval=60).at(1_700_000_000)
    status, out, _ = run("token", "code")
    assert status == 0 and "60/Other:bob" in out and "s left)" in out

    status, out, _ = run("token", "rename", "Other:bob", "Renamed:robert")
    assert status == 0 and "renamed '60/Other:bob' to '60/Renamed:robert'" in out
    status, _, err = run("token", "delete", "robert")
    assert status == 2 and "--yes" in err
    status, out, _ = run("token", "delete", "robert", "--yes")
    assert status == 0 and "deleted '60/Renamed:robert'" in out
    status, _, err = run("token", "code", "robert")
    assert status == 2 and "no such account" in err


def test_touch_prompt_on_stderr(run: Run, vtoken: Callable[..., Any]) -> None:
    vtoken("--touch-delay", "1.0")  # a user who takes a second to touch
    run("token", "add", URI, "--touch", "--no-code")
    codes = run.json("token", "code")
    assert codes[0]["code"] is None and codes[0]["credential"]["touch"] is True
    status, out, err = run("token", "code", "alice", "--time", "59")
    assert status == 0 and out.strip() == pyotp.TOTP(SECRET_B32).at(59)
    assert "Touch the token" in err


def test_password_commands(run: Run, token: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    run("token", "add", URI, "--no-code")
    status, out, _ = run("token", "password", "set", "--new-password", "cli secret")
    assert status == 0 and "password set" in out
    status, _, err = run("token", "list")
    assert status == 2 and "locked" in err and "--password" in err
    status, _, err = run("token", "list", "--password", "wrong")
    assert status == 2 and "wrong password" in err and "wrong" == err.split()[-2]
    assert len(run.json("token", "list", "--password", "cli secret")) == 1
    monkeypatch.setenv("PYOTP_HW_TOKEN_PASSWORD", "cli secret")
    assert run.json("token", "info")["password_set"] is True
    status, out, _ = run("token", "password", "clear")
    assert status == 0 and "password removed" in out
    monkeypatch.delenv("PYOTP_HW_TOKEN_PASSWORD")
    assert run.json("token", "info")["password_set"] is False
    status, _, err = run("token", "password", "set")
    assert status == 2 and "--new-password" in err


def test_reset(run: Run, token: Any) -> None:
    run("token", "add", URI, "--no-code")
    before = run.json("token", "info")["device_id"]
    status, _, err = run("token", "reset")
    assert status == 2 and "--yes" in err
    after = run.json("token", "reset", "--yes")
    assert after["reset"] and after["device_id"] != before
    assert run.json("token", "list") == []


def test_enroll_both_halves(run: Run, token: Any, tmp_path: Path) -> None:
    uri_file = tmp_path / "site-side.uri"
    status, out, err = run("token", "enroll", "--issuer", "Shop", "--name", "carol",
                           "--digits", "8", "--digest", "sha256", "--uri-file", str(uri_file))
    assert status == 0, err
    assert "enrolled 'Shop:carol'" in out and "verified by the software TOTP" in out
    assert stat.S_IMODE(os.stat(uri_file).st_mode) == 0o600
    entry = parse(uri_file.read_text().strip())
    assert len(entry.secret) == 20 and entry.digits == 8 and entry.digest == "sha256"
    assert entry.secret_base32 not in out + err
    # The site's copy of the secret and the token compute the same codes (pyotp as the judge).
    import hashlib

    site = pyotp.TOTP(entry.secret_base32, digits=8, digest=hashlib.sha256)
    with open_token() as tok:
        assert tok.calculate("Shop:carol", for_time=1_700_000_000).value == site.at(
            1_700_000_000)
    shown = run.json("token", "enroll", "--issuer", "Shop", "--name", "dan", "--show-uri")
    assert shown["verified"] is True and parse(shown["uri"]).account == "dan"
    status, _, err = run("token", "enroll", "--issuer", "Shop", "--name", "dan", "--show-uri")
    assert status == 2 and "already on the token" in err


def test_no_token_and_several_tokens(run: Run, rig: Any, vtoken: Callable[..., Any]) -> None:
    vtoken(slot=0)
    status, _, err = run("token", "list", "--reader", rig.reader(1))
    assert status == 3 and "no card" in err
    status, _, err = run("token", "list", "--reader", "nothing like it")
    assert status == 3 and "no reader matches" in err
    vtoken(slot=1)
    status, _, err = run("token", "list")
    assert status == 2 and rig.reader(0) in err and rig.reader(1) in err and "--reader" in err
    assert run.json("token", "list", "--reader", "00 01") == []


def test_no_token_at_all_is_exit_status_3(cli: Callable[..., Any], rig: Any) -> None:
    result = cli("token", "code")
    assert result.returncode == 3
    assert "no token with an OATH applet found" in result.stderr


def test_virtual_needs_a_passphrase_for_a_state_file(tmp_path: Path, run: Run,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYOTP_HW_TOKEN_STATE_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, _, err = run("token", "virtual", "--state", str(tmp_path / "s.json"))
    assert status == 2 and "PYOTP_HW_TOKEN_STATE_PASSPHRASE" in err
    assert not (tmp_path / "s.json").exists()
    status, _, err = run("token", "virtual", "--plaintext-state")
    assert status == 2 and "needs --state" in err


def test_interactive_choice_and_password_prompt(run: Run, rig: Any, vtoken: Callable[..., Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from pyotp_hw.cli import token_session

    vtoken(slot=0)
    vtoken(slot=1)
    with open_token(rig.reader(1)) as tok:
        tok.put(URI)
        tok.set_password("typed at the prompt")
    answers = iter(["2"])
    typed = iter(["first guess", "typed at the prompt"])
    prompts: list[str] = []
    monkeypatch.setattr(token_session, "_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr(token_session.getpass, "getpass",
                        lambda prompt="": prompts.append(prompt) or next(typed))
    listed = run.json("token", "list")
    assert [c["id"] for c in listed] == ["Example:alice@example.com"]
    assert prompts == ["Token password: ", "Token password: "]


def test_code_shows_every_match_as_ykman_does(run: Run, token: Any, ykman: Any) -> None:
    t = 1_700_000_000
    for account, issuer, period in (("alice", "GitHub", 30), ("alice", "GitLab", 60),
                                    ("bob", "Mail", 30)):
        run("token", "add", "--no-code", build("totp", SECRET_B32, account=account,
                                              issuer=issuer, period=period))
    run("token", "add", "--no-code", build("hotp", OTHER_B32, account="alicia", issuer="Bank",
                                          counter=4))
    status, out, err = run("token", "code", "ali", "--time", str(t))
    assert status == 0, err
    rows = {line.split("\t")[0]: line.split("\t")[1] for line in out.splitlines()}
    assert rows == {
        "GitHub:alice": pyotp.TOTP(SECRET_B32).at(t),
        "60/GitLab:alice": pyotp.TOTP(SECRET_B32, interval=60).at(t),
        "Bank:alicia": "[HOTP: run 'pyotp-hw token code NAME']",  # not advanced by a search
    }
    # ykman, the independent client, lists the same accounts for the same query.
    listed = ykman("oath", "accounts", "code", "ali").stdout.splitlines()
    assert {line.split()[0] for line in listed if line.strip()} == set(rows)
    shown = run.json("token", "code", "alice", "--time", str(t))
    assert sorted(row["credential"]["id"] for row in shown) == ["60/GitLab:alice",
                                                               "GitHub:alice"]
    # One match: its code alone; an HOTP account is computed when it is the one asked for.
    status, out, _ = run("token", "code", "bob", "--time", str(t))
    assert status == 0 and out.strip() == pyotp.TOTP(SECRET_B32).at(t)
    status, out, _ = run("token", "code", "alicia")
    assert status == 0 and out.strip() == pyotp.HOTP(OTHER_B32).at(4)
    status, _, err = run("token", "code", "nobody")
    assert status == 2 and "no such account" in err
