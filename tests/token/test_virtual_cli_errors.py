"""``token virtual`` errors that come before any card is served: one line, exit 2, and the
option to change named (a sealed file opened as plaintext is not a passphrase problem)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyotp_hw.token.virtual.state import FileStore, OathState, PassphraseSealer

PASSPHRASE = "a passphrase for the test state"


def virtual(*args: str, passphrase: str | None = PASSPHRASE) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYOTP_HW_TOKEN_STATE_PASSPHRASE", None)
    if passphrase is not None:
        env["PYOTP_HW_TOKEN_STATE_PASSPHRASE"] = passphrase
    # A port nothing listens on: the command must fail before it would ever connect.
    return subprocess.run(
        [sys.executable, "-m", "pyotp_hw", "token", "virtual", "--port", "9", *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "warning:" not in line]
    assert len(lines) == 1 and lines[0].startswith("pyotp-hw: error: "), result.stderr
    return lines[0]


def test_a_state_file_in_a_missing_folder(tmp_path: Path) -> None:
    line = one_line(virtual("--state", str(tmp_path / "missing" / "state.json")))
    assert "does not exist" in line and str(tmp_path / "missing") in line
    line = one_line(virtual("--state", str(tmp_path / "missing" / "s.json"), passphrase=None))
    assert "does not exist" in line  # checked before a passphrase is asked for


def test_plaintext_option_on_a_sealed_file_names_the_option(tmp_path: Path) -> None:
    path = tmp_path / "sealed.json"
    FileStore(path, PassphraseSealer(PASSPHRASE)).save(OathState())
    line = one_line(virtual("--state", str(path), "--plaintext-state", passphrase=None))
    assert "sealed" in line and "without --plaintext-state" in line
    assert "wrong passphrase" not in line


def test_a_plaintext_file_opened_with_a_passphrase_names_the_option(tmp_path: Path) -> None:
    path = tmp_path / "plain.json"
    FileStore(path, plaintext=True).save(OathState())
    line = one_line(virtual("--state", str(path)))
    assert "not sealed" in line and "--plaintext-state" in line
