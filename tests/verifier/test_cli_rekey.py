"""``pyotp-hw verifier rekey`` and ``--vault``: the operator's commands, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pyotp
import pytest

from pyotp_hw.cli import main

from .helpers import sql_query, totp

SECRET_B32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SECRET = pyotp.TOTP(SECRET_B32).byte_secret()
T = 1_700_000_000


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_rekey_from_the_command_line_with_a_vault_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    vault = str(tmp_path / "keys.vault")
    monkeypatch.setenv("PYOTP_HW_VAULT_NEW_PASSPHRASE", "vault words")
    monkeypatch.setenv("PYOTP_HW_VAULT_PASSPHRASE", "vault words")
    assert run(capsys, "vault", "init", "--vault", vault, "--passphrase")[0] == 0
    db = f"sqlite:///{tmp_path}/v.db"
    store = ["--db", db, "--vault", vault, "--vault-unlock", "passphrase"]
    assert run(capsys, "verifier", "init", *store)[0] == 0
    assert run(capsys, "verifier", "enroll", "alice", SECRET_B32, *store)[0] == 0
    assert run(capsys, "verifier", "verify", "alice", totp(SECRET, T), "--time", str(T),
               *store)[0] == 0
    before = sql_query(db, "SELECT sealed FROM otp_credentials")
    status, out, _ = run(capsys, "verifier", "rekey", *store, "--batch", "1", "--json")
    assert status == 0
    assert json.loads(out) == {"generation": 1, "resealed": 1, "unreadable": 0, "passes": 2}
    assert sql_query(db, "SELECT sealed FROM otp_credentials") != before
    status, out, _ = run(capsys, "verifier", "rekey", *store)
    assert status == 0 and "generation 2" in out
    # The consumed step survived the rekeys: the same code is a replay.
    status, out, _ = run(capsys, "verifier", "verify", "alice", totp(SECRET, T), "--time",
                         str(T), *store)
    assert status == 1 and "replayed" in out
    assert run(capsys, "verifier", "verify", "alice", totp(SECRET, T + 30), "--time",
               str(T + 30), *store)[0] == 0
    monkeypatch.setenv("PYOTP_HW_VAULT_PASSPHRASE", "not the words")
    status, _, err = run(capsys, "verifier", "stats", *store)
    assert status == 2 and "wrong passphrase" in err and "not the words" not in err
