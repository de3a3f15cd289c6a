"""``pyotp-hw code`` / ``verify``: output and exit status, checked against oathtool."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyotp_hw.cli import main

from . import oracle

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
KEY = b"12345678901234567890"
OATHTOOL = shutil.which("oathtool")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_code_totp_and_hotp(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "code", SECRET, "--time", "59", "--digits", "8") == (0, "94287082\n", "")
    assert run(capsys, "code", SECRET, "--hotp", "3") == (0, "969429\n", "")
    status, out, _ = run(capsys, "code", SECRET, "--time", "1970-01-01T00:00:59Z", "--digits", "8")
    assert (status, out) == (0, "94287082\n")


def test_code_from_uri_and_stdin(capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"otpauth://hotp/Example:alice?secret={SECRET}&counter=4&issuer=Example"
    assert run(capsys, "code", "--uri", uri) == (0, "338314\n", "")
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    assert run(capsys, "code", "-", "--hotp", "0") == (0, "755224\n", "")


def test_verify_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "verify", SECRET, "94287082", "--digits", "8", "--time", "59") == (
        0, "1\n", "")
    status, out, err = run(capsys, "verify", SECRET, "94287083", "--digits", "8", "--time", "59")
    assert (status, out) == (1, "") and "does not verify" in err
    status, out, err = run(capsys, "verify", SECRET, "9428 082", "--digits", "8", "--time", "59")
    assert status == 2 and "space" in err and "9428" not in err
    assert run(capsys, "verify", SECRET, "969429", "--hotp", "1", "--look-ahead", "2")[:2] == (
        0, "3\n")
    assert run(capsys, "verify", SECRET, "969429", "--hotp", "1")[0] == 1


def test_bad_input_is_exit_2_without_the_secret(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "code", "GEZDGNBV1Y3TQOJQ")
    assert status == 2 and out == ""
    assert "character 9" in err and "GEZD" not in err
    status, _, err = run(capsys, "code", SECRET, "--digits", "5")
    assert status == 2 and "digits" in err
    status, _, err = run(capsys, "code", SECRET, "--time", "yesterday")
    assert status == 2 and "--time" in err
    status, _, err = run(capsys, "code", SECRET, "--time", "2020-01-01T00:00:00")
    assert status == 2 and "timezone" in err
    assert run(capsys, "code")[0] == 2


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    status, out, _ = run(capsys, "code", SECRET, "--time", "59", "--json")
    assert status == 0 and json.loads(out) == {"code": "287082", "period": 30, "step": 1}


def test_module_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "pyotp_hw", "code", SECRET, "--hotp", "9"],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "520489\n")


@pytest.mark.skipif(OATHTOOL is None, reason="oathtool is installed by scripts/system-deps.sh")
@settings(max_examples=25)
@given(key=st.binary(min_size=10, max_size=64), t=st.integers(min_value=0, max_value=4_000_000_000),
       digest=st.sampled_from(["sha1", "sha256", "sha512"]), digits=st.sampled_from([6, 7, 8]))
def test_code_matches_oathtool(key: bytes, t: int, digest: str, digits: int) -> None:
    secret = base64.b32encode(key).decode().rstrip("=")
    ours = subprocess.run(
        [sys.executable, "-m", "pyotp_hw", "code", secret, "--time", str(t), "--digest", digest,
         "--digits", str(digits)], capture_output=True, text=True, check=True).stdout
    theirs = subprocess.run(
        [OATHTOOL, f"--totp={digest}", "-d", str(digits), "--now", f"@{t}", key.hex()],
        capture_output=True, text=True, check=True).stdout
    assert ours == theirs == oracle.totp(key, t, digits, digest) + "\n"


def test_usage_errors_never_echo_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["code", SECRET, "EXTRASECRETVALUE"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err and "EXTRASECRETVALUE" not in err
