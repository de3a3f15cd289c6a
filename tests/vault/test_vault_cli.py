"""``pyotp-hw vault`` with passphrases, as a separate process (codes checked against pyotp)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyotp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
URI = f"otpauth://totp/Example:alice?secret={SECRET}&issuer=Example"


def run(*args: str, env: dict[str, str] | None = None, stdin: str = ""
        ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PYOTP_HW_VAULT")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "pyotp_hw", "vault", *args], env=full,
                          capture_output=True, text=True, input=stdin, timeout=120)


def test_passphrase_vault_from_the_command_line(tmp_path: Path) -> None:
    vault = str(tmp_path / "seeds.vault")
    first = {"PYOTP_HW_VAULT_NEW_PASSPHRASE": "first words"}
    assert run("init", "--vault", vault, "--passphrase", env=first).returncode == 0
    opened = {"PYOTP_HW_VAULT_PASSPHRASE": "first words"}
    done = run("import", "--vault", vault, "--passphrase", "-", env=opened, stdin=URI + "\n")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    listed = run("list", "--vault", vault, "--passphrase", "--json", env=opened)
    assert json.loads(listed.stdout) == ["Example:alice"]
    code = run("code", "Example:alice", "--vault", vault, "--passphrase", "--time",
               "1700000000", env=opened)
    assert code.stdout.strip() == pyotp.TOTP(SECRET).at(1_700_000_000)
    added = run("add-unlocker", "passphrase", "--vault", vault, "--passphrase",
                env={**opened, "PYOTP_HW_VAULT_NEW_PASSPHRASE": "second words"})
    assert added.returncode == 0, added.stderr
    slots = json.loads(run("list-unlockers", "--vault", vault, "--json").stdout)
    assert [s["kind"] for s in slots] == ["passphrase", "passphrase"]
    assert all(s["params"]["kdf"] == "scrypt" for s in slots)
    second = {"PYOTP_HW_VAULT_PASSPHRASE": "second words"}
    assert run("rekey", "--vault", vault, "--passphrase", env=second).returncode == 0
    rotated = run("rekey", "--vault", vault, "--passphrase", "--unlocker", slots[1]["id"],
                  env=second)
    assert rotated.returncode == 0, rotated.stderr
    renewed = json.loads(run("list-unlockers", "--vault", vault, "--json").stdout)
    assert renewed[0] == slots[0] and renewed[1]["id"] != slots[1]["id"]
    assert renewed[1]["params"]["salt"] != slots[1]["params"]["salt"]
    slots = renewed
    removed = run("remove-unlocker", slots[0]["id"], "--vault", vault, "--passphrase",
                  env=second)
    assert removed.returncode == 0, removed.stderr
    last = run("remove-unlocker", slots[1]["id"], "--vault", vault, "--passphrase", env=second)
    assert last.returncode == 2 and "last unlocker" in last.stderr
    wrong = run("list", "--vault", vault, "--passphrase", env=opened)
    assert wrong.returncode == 2
    assert wrong.stderr.count("\n") == 1 and "wrong passphrase" in wrong.stderr
    assert "first words" not in wrong.stderr
    nothing = run("list", "--vault", vault, "--passphrase")
    assert nothing.returncode == 2 and "PYOTP_HW_VAULT_PASSPHRASE" in nothing.stderr


def test_a_damaged_vault_is_one_clear_line(tmp_path: Path) -> None:
    vault = tmp_path / "seeds.vault"
    env = {"PYOTP_HW_VAULT_NEW_PASSPHRASE": "words", "PYOTP_HW_VAULT_PASSPHRASE": "words"}
    assert run("init", "--vault", str(vault), "--passphrase", env=env).returncode == 0
    vault.write_bytes(vault.read_bytes()[:-40])
    result = run("list", "--vault", str(vault), "--passphrase", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cut short or changed" in result.stderr
