"""``pyotp-hw code`` / ``verify`` on bad input: one line naming the option, exit 2, no secret."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyotp_hw.cli import main

from . import oracle
from .typed_errors import FUZZ_EXAMPLES

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
KEY = b"12345678901234567890"
URI = f"otpauth://totp/Example:alice?secret={SECRET}&issuer=Example"
HOTP_URI = f"otpauth://hotp/Example:alice?secret={SECRET}&counter=4&issuer=Example"
# Names the library uses for its parameters, which a command-line user never typed.
INTERNAL = ("input", "interval", "for_time", "valid_window", "look_ahead", "t0", "initial_count")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def bad(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run a command that must fail with one clean line; return that line."""
    status, out, err = run(capsys, *argv)
    assert status == 2, (argv, status, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyotp-hw: error: "), err
    assert "GEZDGNBV" not in err and "Traceback" not in err
    for name in INTERNAL:
        assert not re.search(rf"(?<!standard )\b{name}\b", lines[0]), (name, lines[0])
    return lines[0]


@pytest.mark.parametrize("command", [("code", URI), ("verify", URI, "123456"),
                                     ("code", URI.upper()), ("code", " " + URI)])
def test_a_uri_given_as_secret_points_to_uri(capsys: pytest.CaptureFixture[str],
                                             command: tuple[str, ...]) -> None:
    line = bad(capsys, *command)
    assert "--uri" in line and "character" not in line


def test_a_uri_on_stdin_points_to_uri(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(URI + "\n"))
    assert "--uri" in bad(capsys, "code", "-")


@pytest.mark.parametrize("code,words", [
    ("664 675", "contains a space; remove it"), ("664675 ", "contains a space; remove it"),
    ("66 46 75", "2 spaces; remove them"), ("664675\t", "whitespace"),
    ("6646755", "has 7 digits"), ("66467", "has 5 digits"), ("abcdef", "other than the ASCII"),
    ("", "empty"),
])
def test_malformed_codes_say_what_is_wrong(capsys: pytest.CaptureFixture[str], code: str,
                                           words: str) -> None:
    for mode in (("--time", "59"), ("--hotp", "1")):
        line = bad(capsys, "verify", SECRET, code, *mode)
        assert "CODE is malformed" in line and words in line
        assert "7 characters" not in line
        if code.strip():
            assert code.strip() not in line


@pytest.mark.parametrize("secret,code", [
    ("664675", SECRET), ("12345678", "JBSWY3DP"), ("0123456789", "jbsw y3dp ehpk 3pxp"),
])
def test_swapped_secret_and_code_are_named(capsys: pytest.CaptureFixture[str], secret: str,
                                           code: str) -> None:
    line = bad(capsys, "verify", secret, code)
    assert "swapped" in line and secret not in line and "JBSW" not in line


def test_a_digit_secret_with_a_bad_code_is_not_called_swapped(
        capsys: pytest.CaptureFixture[str]) -> None:
    # "23456723" is valid base32 (digits 2-7); "abc!" is no secret: the code is just malformed.
    line = bad(capsys, "verify", "23456723", "abc!")
    assert "swapped" not in line and "CODE is malformed" in line


def test_a_uri_given_as_code_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--uri" in bad(capsys, "verify", "664675", URI)
    line = bad(capsys, "verify", "--uri", "664675", URI)
    assert "swapped" in line and "--uri" in line


@pytest.mark.parametrize("argv,option", [
    (("code", SECRET, "--period", "0"), "--period"),
    (("code", SECRET, "--period", "-30"), "--period"),
    (("code", SECRET, "--period", str(1 << 63)), "--period"),
    (("code", SECRET, "--digits", "11"), "--digits"),
    (("code", SECRET, "--digits", "5"), "--digits"),
    (("code", SECRET, "--digest", "md5"), "--digest"),
    (("code", SECRET, "--hotp", "-1"), "--hotp"),
    (("code", SECRET, "--hotp", str(1 << 64)), "--hotp"),
    (("verify", SECRET, "123456", "--hotp", "-1"), "--hotp"),
    (("verify", SECRET, "123456", "--hotp", str(1 << 64)), "--hotp"),
    (("verify", SECRET, "123456", "--hotp", "0", "--look-ahead", "5000"), "--look-ahead"),
    (("verify", SECRET, "123456", "--hotp", "0", "--look-ahead", "-1"), "--look-ahead"),
    (("verify", SECRET, "123456", "--window", "5000"), "--window"),
    (("verify", SECRET, "123456", "--window", "-1"), "--window"),
    (("verify", SECRET, "123456", "--window", str(1 << 70)), "--window"),
    (("code", SECRET, "--time", str(1 << 70)), "--time"),
    (("code", SECRET, "--time", str(-(1 << 70))), "--time"),
    (("code", SECRET, "--time", "-1"), "--time"),
    (("verify", SECRET, "123456", "--time", "-1"), "--time"),
    (("code", SECRET, "--time", "0001-01-01T00:00:00+05:00"), "--time"),
    (("code", SECRET, "--time", "1e30"), "--time"),
    (("code", SECRET, "--time", "2020-01-01T00:00:00"), "--time"),
    (("code", SECRET, "--hotp", "1", "--time", "59"), "--time"),
    (("verify", SECRET, "123456", "--hotp", "1", "--window", "2"), "--window"),
    (("verify", SECRET, "123456", "--look-ahead", "2"), "--look-ahead"),
    (("code", SECRET, "--hotp", "1", "--period", "60"), "--period"),
    (("code", "--uri", URI, "--digits", "8"), "--digits"),
    (("code", "--uri", URI, "--hotp", "1"), "--hotp"),
    (("code", SECRET, "--uri", URI), "--uri"),
])
def test_option_errors_name_the_option(capsys: pytest.CaptureFixture[str],
                                       argv: tuple[str, ...], option: str) -> None:
    assert option in bad(capsys, *argv)


@pytest.mark.parametrize("argv", [
    ("code",), ("code", ""), ("code", "GEZDGNBV1Y3TQOJQ"), ("code", "!!!"), ("code", "-"),
    ("verify", SECRET), ("verify", SECRET, "1", "2"), ("verify", "--uri", URI, "1", "2"),
    ("code", "--uri", "otpauth://totp/x"), ("code", "--uri", "https://example.com/"),
    ("verify", "--uri", HOTP_URI, "123456", "--look-ahead", "1001"),
    ("verify", SECRET, "9999999999", "--digits", "10", "--window", "1001"),
])
def test_every_other_error_is_one_line_exit_2(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch,
                                              argv: tuple[str, ...]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    bad(capsys, *argv)


def test_codes_the_truncation_cannot_make_do_not_verify(capsys: pytest.CaptureFixture[str]) -> None:
    # 10-digit codes at or above 2**31 used to raise OverflowError: a traceback and exit 1.
    for code in ("4294967296", "9999999999"):
        for mode in (("--hotp", "0", "--look-ahead", "5"), ("--time", "59")):
            status, out, err = run(capsys, "verify", SECRET, code, "--digits", "10", *mode)
            assert (status, out) == (1, "") and err == "pyotp-hw: code does not verify\n"


def test_hotp_counter_from_the_uri_or_from_hotp(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "code", "--uri", HOTP_URI) == (0, oracle.hotp(KEY, 4) + "\n", "")
    assert run(capsys, "code", "--uri", HOTP_URI, "--hotp", "1") == (
        0, oracle.hotp(KEY, 1) + "\n", "")
    assert run(capsys, "verify", "--uri", HOTP_URI, oracle.hotp(KEY, 6), "--look-ahead", "2")[
        :2] == (0, "6\n")
    assert run(capsys, "verify", "--uri", HOTP_URI, oracle.hotp(KEY, 2), "--hotp", "1",
               "--look-ahead", "1")[:2] == (0, "2\n")
    top = str((1 << 64) - 1)
    assert run(capsys, "verify", SECRET, oracle.hotp(KEY, (1 << 64) - 1), "--hotp", top,
               "--look-ahead", "3")[:2] == (0, top + "\n")


def test_json_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "verify", SECRET, oracle.totp(KEY, 89), "--time", "59", "--json")
    assert status == 0 and json.loads(out) == {"ok": True, "step": 2, "reason": "ok"}
    wrong = str((int(oracle.totp(KEY, 59)) + 1) % 10**6).zfill(6)
    if all(oracle.totp(KEY, t) != wrong for t in (29, 59, 89)):
        status, out, _ = run(capsys, "verify", SECRET, wrong, "--time", "59", "--json")
        assert status == 1 and json.loads(out) == {"ok": False, "step": None, "reason": "wrong"}


@pytest.mark.parametrize("argv", [
    ["verify", SECRET, "123456", "--hotp", "-1"],
    ["verify", SECRET, "4294967296", "--hotp", "0", "--digits", "10"],
    ["code", URI],
])
def test_entry_point_prints_no_traceback(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "pyotp_hw", *argv], capture_output=True,
                          text=True, check=False)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1 and SECRET not in done.stderr


_values = st.one_of(
    st.sampled_from(["0", "1", "-1", "59", "6", "8", "10", "11", "30", "1001", str(1 << 64),
                     str(1 << 63), "1e30", "inf", "nan", "sha256", "md5", "", " ", "664 675",
                     "12345678", "2026-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00",
                     "2020-01-01T00:00:00", SECRET, SECRET.lower(), URI, HOTP_URI, "JBSWY3DP",
                     "otpauth://totp/x", "\udcff", "9" * 5000]),
    st.text(max_size=8),
)
_options = st.sampled_from(["--uri", "--hotp", "--digits", "--digest", "--period", "--time",
                            "--window", "--look-ahead"])


@settings(max_examples=FUZZ_EXAMPLES // 4, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(["code", "verify"]),
       words=st.lists(st.one_of(_values, st.tuples(_options, _values)), max_size=5),
       json_flag=st.booleans())
def test_code_and_verify_fuzzed_exit_cleanly(command: str, words: list[Any],
                                             json_flag: bool) -> None:
    argv = [command]
    for word in words:
        argv += list(word) if isinstance(word, tuple) else [word]
    if json_flag:
        argv.append("--json")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse's usage errors: usage line, then the error
            status = exc.code if isinstance(exc.code, int) else 2
            lines = err.getvalue().splitlines()
            assert status == 2 and lines[0].startswith("usage:"), lines
            assert lines[-1].startswith(f"pyotp-hw {command}: error: "), lines
    assert status in (0, 1, 2), (argv, status)
    text = err.getvalue()
    assert "Traceback" not in text and SECRET not in text and "GEZDGNBV" not in text
    if status == 2 and not text.startswith("usage:"):
        assert text.startswith("pyotp-hw: error: ") and text.count("\n") == 1, text


def test_steam_codes_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"otpauth://totp/Steam:alice?secret={SECRET}&issuer=Steam&encoder=steam"
    right = oracle.steam(KEY, 59)
    assert run(capsys, "verify", "--uri", uri, right, "--time", "59")[:2] == (0, "1\n")
    line = bad(capsys, "verify", "--uri", uri, right.lower(), "--time", "59")
    assert "upper case" in line and right.lower() not in line
    assert "Steam's alphabet" in bad(capsys, "verify", "--uri", uri, "123456", "--time", "59")
