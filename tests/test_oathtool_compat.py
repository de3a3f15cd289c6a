"""``pyotp-hw oathtool`` against the real oathtool (Debian's oathtool 2.6.7) and its man page.

Each case runs the real ``oathtool`` in a subprocess and ``pyotp-hw oathtool`` through
:func:`pyotp_hw.cli.main` in this process (plus a few through ``python -m pyotp_hw``) and
requires the same stdout, the same stderr and the same exit status. The few deliberate
differences are checked as differences, so that none passes unnoticed. Cases whose output depends
on the current time are retried: a second may tick between the two runs.
"""

from __future__ import annotations

import base64
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyotp_hw.cli import main, oathtool_cmd

OATHTOOL = shutil.which("oathtool")


def _oathtool_version() -> str | None:
    if OATHTOOL is None:
        return None
    first = subprocess.run([OATHTOOL, "--version"], capture_output=True, check=False).stdout
    match = re.search(rb"(\d+\.\d+\.\d+)", first.split(b"\n")[0])
    return match.group(1).decode() if match else None


pytestmark = pytest.mark.skipif(
    _oathtool_version() != "2.6.7",
    reason="needs the real oathtool 2.6.7 (Debian package oathtool) to compare against",
)

RFC_KEY = "3132333435363738393031323334353637383930"
RFC_KEY_32 = RFC_KEY + "313233343536373839303132"
RFC_KEY_64 = RFC_KEY * 3 + "31323334"
Result = tuple[int, bytes, bytes]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Both sides read local time from TZ: pin it (cases that need another zone set theirs)."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("POSIXLY_CORRECT", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def theirs(argv: Sequence[str], stdin: bytes = b"", cwd: Path | None = None) -> Result:
    assert OATHTOOL is not None
    # argv[0] "oathtool", as a script calling it from PATH sees it in messages.
    proc = subprocess.run(["oathtool", *argv], input=stdin, capture_output=True, cwd=cwd,
                          executable=OATHTOOL, check=False, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def ours(argv: Sequence[str], stdin: bytes = b"", cwd: Path | None = None, *,
         via_main: bool = True) -> Result:
    """``pyotp-hw oathtool ARGV`` in this process: through :func:`main` (and so argparse), or
    straight through :func:`oathtool_cmd.run` where only speed differs (main() builds the
    whole command-line parser, about 25 ms, on every call)."""
    out, err = io.BytesIO(), io.BytesIO()
    streams = (io.TextIOWrapper(io.BytesIO(stdin)), io.TextIOWrapper(out, write_through=True),
               io.TextIOWrapper(err, write_through=True))
    saved = sys.stdin, sys.stdout, sys.stderr, os.getcwd()
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        if cwd is not None:
            os.chdir(cwd)
        if via_main:
            status = main(["oathtool", *argv])
        else:
            status = oathtool_cmd.run([os.fsencode(a) for a in argv], stdin=streams[0],
                                      stdout=streams[1], stderr=streams[2])
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved[:3]
        os.chdir(saved[3])
    result = status, out.getvalue(), err.getvalue()
    for stream in streams:
        stream.detach()
    return result


def ours_subprocess(argv: Sequence[str], stdin: bytes = b"",
                    env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run([sys.executable, "-m", "pyotp_hw", "oathtool", *argv], input=stdin,
                          capture_output=True, env=env, check=False, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


ZERO_STEP_ERROR = (b"oathtool: a time-step size of 0 seconds is not supported here "
                   b"(oathtool 2.6.7 divides by zero)\n")
_OPTION_NAMES = re.compile(rb"^ +(?:-(\w), )?--([\w-]+)", re.MULTILINE)


def help_shape(text: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The usage line and the (short, long) option names a help text lists, in order."""
    return text.split(b"\n")[0], _OPTION_NAMES.findall(text)


def deviation(mine: Result, real: Result) -> str | None:
    """Why two differing results are still right (a documented difference), or None."""
    if real[0] == -signal.SIGFPE:
        return "oathtool divides by a zero step" if mine == (1, b"", ZERO_STEP_ERROR) else None
    if real == (0, real[1], b"") and real[1].startswith(b"Usage: oathtool "):
        same = mine[0] == 0 and mine[2] == b"" and help_shape(mine[1]) == help_shape(real[1])
        return "our help names pyotp-hw" if same else None
    return None


def assert_same(argv: Sequence[str], stdin: bytes = b"", *, retries: int = 0,
                cwd: Path | None = None, via_main: bool = True) -> Result:
    """Same status, stdout and stderr; ``retries`` for cases that read the clock."""
    for _ in range(retries + 1):
        mine = ours(argv, stdin, cwd, via_main=via_main)
        real = theirs(argv, stdin, cwd)
        if mine == real or deviation(mine, real):
            return real
    assert mine == real, f"oathtool {' '.join(argv)!r}"
    return real


# ---------------------------------------------------------------------------- the man page


def test_man_page_examples() -> None:
    """Every example of oathtool(1) whose output does not depend on the clock, as printed."""
    assert assert_same(["-"], b"00\n") == (0, b"328482\n", b"")
    hotp_10 = ("755224 287082 359152 969429 338314 254676 287922 162583 399871 520489 "
               "403154").split()
    assert assert_same(["-w", "10", RFC_KEY])[1].split() == [c.encode() for c in hotp_10]
    b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert assert_same(["--base32", "-w", "3", b32])[1].split() == [
        c.encode() for c in hotp_10[:4]]
    assert assert_same(["-c", "5", RFC_KEY])[1] == b"254676\n"
    assert assert_same(["-w", "10", RFC_KEY, "969429"])[1] == b"3\n"
    assert assert_same(["--totp", "--now", "2008-04-23 17:42:17 UTC", "00"])[1] == b"974945\n"
    assert assert_same(["--totp=SHA256", "--digits=8", "--now", "2009-02-13 23:31:30 UTC",
                        RFC_KEY_32])[1] == b"91819424\n"
    verbose = assert_same(["--totp", "-v", "-N", "2033-05-18 03:33:20 UTC", "-d8", RFC_KEY])
    assert verbose[1] == (
        b"Hex secret: 3132333435363738393031323334353637383930\n"
        b"Base32 secret: GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n"
        b"Digits: 8\nWindow size: 0\nTOTP mode: SHA1\nStep size (seconds): 30\n"
        b"Start time: 1970-01-01 00:00:00 UTC (0)\n"
        b"Current time: 2033-05-18 03:33:20 UTC (2000000000)\n"
        b"Counter: 0x3F940AA (66666666)\n\n69279037\n")


def test_man_page_clock_examples() -> None:
    """The examples that use the current time (the man page's outputs are from its day)."""
    for argv in (["--base32", "--totp", "gr6d 5br7 25s6 vnck v4vl hlao re"], ["--totp", "00"],
                 ["--totp", "00", "-w5"], ["--totp", "--time-step-size=45s", "00"],
                 ["--totp", "--start-time", "1980-01-01 00:00:00 UTC", "00"]):
        assert assert_same(argv, retries=2)[0] == 0
    for _ in range(3):
        current = theirs(["--totp", "00"])[1].strip().decode()
        if assert_same(["--totp", "-w", "5", "00", current], retries=2)[1] == b"0\n":
            break
    else:
        pytest.fail("oathtool --totp -w 5 00 $(oathtool --totp 00) never printed 0")


def test_man_page_stress_example() -> None:
    """The TOTP vector found about 4 million steps away (oathtool's own stress test)."""
    argv = ["--totp", "--now=2005-03-18 01:58:29 UTC", "-w", "10000000", RFC_KEY, "89005924"]
    start = time.perf_counter()
    mine = ours(argv)
    elapsed = time.perf_counter() - start
    assert mine == theirs(argv) == (0, b"4115227\n", b"")
    assert elapsed < 60


# ---------------------------------------------------------------------------- generated matrix


def _hex(n: int, rng: random.Random) -> str:
    return bytes(rng.randrange(256) for _ in range(n)).hex()


def _key_cases(rng: random.Random) -> Iterator[list[str]]:
    for n in (0, 1, 2, 10, 16, 20, 32, 33, 64, 65, 100, 200):
        key = _hex(n, rng)
        yield [key]
        yield ["-v", key.upper()]
    for bad in ("0", "abc", "zz", "00 11", "0x00", "g0", "00\t", "ｆｆ"):
        yield [bad]
    for n in (1, 2, 3, 4, 5, 10, 16, 20, 31, 40):
        raw = bytes(rng.randrange(256) for _ in range(n))
        text = base64.b32encode(raw).decode()
        yield ["-b", text]
        yield ["-b", "-v", text.rstrip("=").lower()]
        spaced = " ".join(text.rstrip("=")[i:i + 4] for i in range(0, len(text.rstrip("=")), 4))
        yield ["--base32", spaced]
    for bad in ("A", "ABC", "ABCDEF", "AB1", "A0", "AB=CDEFG", "GE======GEZDGNBV",
                "GEZDGNB=", "ge\tzd", "GE=", "========", "ABCDEFGHI", "===="):
        yield ["-b", "-v", bad]


def _option_cases(rng: random.Random) -> Iterator[list[str]]:
    key = RFC_KEY
    for c in ("0", "1", "5", "4294967296", "9223372036854775807", "9223372036854775808",
              "18446744073709551615", "18446744073709551614", "-1", "-2", "0x10", "0X1f",
              "010", "08", "0x", "", " 5", "+5", "99999999999999999999999", "1e3", "abc",
              "5 ", "--5"):
        yield ["-v", "-c", c, key]
        yield ["-c", c, "-w", "2", key]
    for d in ("6", "7", "8", "5", "9", "0", "-6", "0x8", "010", "8x", "", "4294967304",
              " 8", "+7", "99999999999999999999"):
        yield ["-d", d, key]
        yield ["-v", "--digits", d, "--totp", "-N", "@59", key]
    for w in ("0", "1", "3", "10", "100", "1000", "5000", "-0", "0x3", "", "abc", "07",
              "4294967296"):
        yield ["-w", w, key]
        yield ["--totp", "-N", "@1234567890", "-w", w, "-v", key]
    for mode in ("", "=sha1", "=SHA256", "=sha512", "=Sha512", "=sha2", "=md5", "=",
                 "=SHA256 ", "=sha-256"):
        yield [f"--totp{mode}", "-v", "-N", "@59", "-d8", RFC_KEY_64]
        yield [f"--totp{mode}", "-N", "@1111111109", "-d8", "-w2", RFC_KEY_32]
    for step in ("30", "30s", "45s", "1m", "1h", "1H", "1d", "1D", "1W", "1M", "1y",
                 "1 m 30 s", "1m30s", "1:30", "1:30:15", "1:2:3:4", "90 ", " 90", "P1D",
                 "PT30S", "P1Y", "PT-3S", "P0001-00-00", "P00010000", "T30S", "T000030",
                 "-5", "+5", "5x", "", "2147483647", "2147483648", "4294967326",
                 "9223372036854775807", "9223372036854775808", "153722867280912931m",
                 "1h 1h", "s", "30ss", "10m5", "P1DT1H", "P1D T 1H", "1.5s", "0x10",
                 "P1M1D", "P1Y2M3W4D", "P1DT00:00:30", "P1DT-5S", "5:", ":5", "1:60",
                 "2h 30:00", "2h 60:00", "1m 1:00", "T1H", "T1:00:00", "T5", "1d3",
                 "P2008-01-01", "1y1M1W1d1h1m1s", "1M1y", "1s1m", "TS"):
        yield ["--totp", "-v", "-s", step, "-N", "@1000000", "00"]
    yield ["-s", "garbage", "-S", "garbage", "-N", "garbage", "00"]  # ignored without --totp
    for _ in range(20):
        yield ["--totp", "-N", f"@{rng.randrange(-10**10, 10**11)}",
               "-S", f"@{rng.randrange(-10**9, 10**9)}", "-s", f"{rng.randrange(1, 5000)}s",
               "-w", str(rng.randrange(0, 5)), "-d", rng.choice("678"), _hex(20, rng)]


_DATES = (
    "2008-04-23 17:42:17 UTC", "2008-04-23", "2008-04-23T17:42:17Z", "2008-04-23T17:42:17",
    "2008-04-23 17:42", "2008-04-23 17:42:17+0100", "2008-04-23 17:42:17 +01:00",
    "2008-04-23 17:42:17 -0800", "Sun, 29 Feb 2004 16:21:42 -0800", "2004-02-29 16:21:42",
    "@0", "@-1", "@-2", "@1.9", "@ 5", "@+5", " @5 ", "@5x", "@", "@1 UTC",
    "2008-04-23 24:00:00", "2008-04-23 23:59:60", "2008-02-30", "2008-13-01",
    "2008-04-23 12:00 pm", "2008-04-23 12:00 am", "2008-04-23 1pm", "2008-04-23 13pm",
    "2008-04-23 17:42:17.999", "2008-04-23 17:42:17,5", "2008-04-23 +3 hours",
    "2008-04-23 3 hours ago", "2008-04-23 hour", "2008-04-23 tomorrow", "2008-04-23 yesterday",
    "2008-04-23 next day", "2008-04-23 last month", "2008-01-31 1 month",
    "2008-04-23 1 fortnight", "2008-04-23 2 weeks", "2008-04-23 -1 year", "2008-04-23 EDT",
    "2008-04-23 12:00 EDT", "2008-04-23 12:00 CET", "2008-04-23 12:00 UTC+3",
    "2008-04-23 12:00 GMT", "2008-04-23 12:00 Z", "2008-04-23 12:00 J", "23 Apr 2008",
    "Apr 23 2008", "Apr 23, 2008", "23-Apr-2008", "Apr-23-2008", "4/23/2008", "4/23/08",
    "08-04-23", "080423", "20080423", "2008-04-23 1742", "2008-04-23 17",
    "1970-01-01 00:00:00 UTC", "1969-12-31 23:59:59 UTC", "10000-01-01",
    "999999999999-01-01", "@99999999999999999", "@9223372036854775807",
    "@9223372036854775808", "2147485547-01-01", "2147485548-01-01",
    "2008-04-23 17:42:17 (comment) UTC", "2008-04-23 17:42:17 UTC (x",
    "0001-01-01", "0000-01-01", "300000-01-01 UTC", "1-01-01", "08-4-23 hence",
    "2008-04-23 3 days hence", "2008-04-23 12:00 A", "2008-04-23 12:00 N",
    "2008-04-23 12:00 T", "2008-04-23 12:00 Y", "2008-04-23T12", "2008-04-23T12+01",
    "2008-04-23 T", "2008-04-23 12:00 UTC DST", "2008-04-23 12:00 CET DST",
    "2008-04-23 12:00 UTC+0530", "2008-04-23 12:00 UTC-5", "2008-04-23 12:00 UTC -5 hours",
    "2008-04-23 12:00 +1 hour", "2008-04-23 12 +01", "Apr -23", "Apr 23 10:00 2008",
    "12:00 UTC 2008-04-23", "2008-04-23 12:00 a.m.", "2008-04-23 12:00 Wed",
    "2008-04-23 Thu", "4/23/8", "2008/04/23", "sept 5 2020", "sep. 5 2020",
    "2008-04-23 -3 hours -2 minutes ago", "2008-04-23 1.5 seconds ago",
    "2008-04-23 1.5 seconds", "2008-04-23 -1.5 seconds", "2008-04-23 12:00:00.5 +1.6 sec",
    "@-1.5", "@-0.5", "@1,5", "2008-04-23 12:00 EST", "2008-04-23 12:00 IST",
    "2008-04-23 12:00 NST", "2008-04-23 12:00 NZDT", "2008-04-23 12:00 SAST",
    "2008-04-23 12:00 HAST", "2008-04-23 12:00 MSK", "2008-04-23 12:00 JST",
    "2008-04-23 12:00 AKDT", "20080423 +3 days", "20080423 3 days", "2008-04-23 last year",
    "2008-04-23 this week", "2008-04-23 twelfth month", "2008-04-23 second",
    "2008-04-23 12:00:00 00:00:00", "2008-04-23 12:00 +05:30", "2008-04-23 12:00 +25:00",
    "2008-04-23 12:00 +2400", "2008-04-23 12:00 -24", "@-62324985600",
    "@67768036160140799", "2008-04-23 U.T.C.", "2008-04-23 12:00 PDT", "Feb 29 2004",
    "Thursday 2008-04-23", "2008-04-23 next thursday", "2008-04-23 00:00:00 UTC +1 month",
    "2038-01-19 03:14:08 UTC", "1901-12-13 20:45:52 UTC", "2008-04-23 12:00 utc",
    "2008-04-23 12:00:00 -00:30", "2008-04-23 12:00:00 -0030", "2008-04-23 12:00:00 -30",
    "2008-04-23 12:00:00 +5", "2008-04-23 12:00:00 +123", "noon", "midnight",
    "2008-04-23 12:00 WEST", "2008-04-23 12:00 BST", "2008-04-23 12:00 MESZ",
    "12/31/1999 23:59:59", "1999-12-31 23:59:59 +2 seconds", "2008-04-23 0am",
    "2008-04-23 0pm", "2008-04-23 12pm", "2008-04-23 11:59:59pm",
    "2008-04-23 12:00:00 pm +0100", "2008-04-23T12:00:00.123456789123Z",
    "2008-04-23T12:00:00,5-01:00", "2008-04-23 fortnight ago", "2008-04-23 2 fortnights",
    "2008-04-23 3 mins", "2008-04-23 3 secs", "2008-04-23 first day",
    "2008-04-23 third week", "2008-04-23 next year ago", "2008-04-23 day ago", "99-12-31",
    "69-01-01", "68-12-31", "2008 Apr 23", "2008-04-23 ((nested) comment)", "2008-04-23 )",
    "2008-04-23 ,", "2008-04-23 Wed,", "2008-04-23 12:00 Z+1", "2008-04-23 12:00 Z DST",
    "2008-04-23 12:00 EST DST", "TZ=\"UTC\" 2008-04-23", "2008-04-23 in 3 days", "tuesday x",
)


def _date_cases() -> Iterator[list[str]]:
    for date in _DATES:
        yield ["--totp", "-v", "-N", date, "00"]
        yield ["--totp", "-S", date, "-N", "2040-01-01 UTC", "-w", "1", "00"]


def _usage_cases() -> Iterator[list[str]]:
    key = RFC_KEY
    yield from (["-bw3", "GEZDGNBV"], ["-d8", key], ["-vbw2", "GEZDGNBV"], ["-c5", key],
                ["-w3c", key], ["-bv", "GEZDGNBV"], ["-vc", "7", key], ["-vd7w1", key],
                ["-d", "8", "-c", "3", "-w", "1", key], [key, "-w", "2"], ["-w2", key, "-c1"],
                ["--coun=3", key], ["--dig", "7", key], ["--wi=2", key], ["--t", key],
                ["--to", key], ["--ti=30", "--to", key], ["--st=@0", "--to", "-N", "@99", key],
                ["--n=@0", "--totp", key], ["--b", "GEZDGNBV"], ["--ba", "GEZDGNBV"],
                ["--co", "4", key], ["--c", "4", key], ["--d", "7", key], ["--h"], ["--v"],
                ["--ve", key], ["--verb", key], ["--ver"], ["--he"], ["--ho", key],
                ["--hotp", key], ["--hotp=1", key], ["--hotp", "--hotp", key],
                ["---x", key], ["--", key], ["--", "-"], ["-", key], ["-x", key], ["-W", "x"],
                ["-xyz"], ["-bx", key], ["-vb", "-w"], ["--counter"], ["--window", "-v"],
                ["-c", "1", "-c", "2", key], ["--totp", "--totp", key], ["-v", "-v", key],
                ["-b", "-b", key], ["--window=2", "-w", "3", key], ["--counter=5",
                                                                    "--verbose=3", key],
                ["--t=5", key], ["--bogus=1", key], ["--bogus", key], ["--help=1"],
                ["-N"], ["--now"], ["-S"], ["-s"], ["-d"], ["-c"], ["-w"], ["-\xe9", key],
                ["--\xe9", key], ["-:", key], ["--totp=sha256", "--totp", key],
                [key, "11", "22", "33"], ["-d", "9", key, "11", "22"], ["-d", "7", key, "1"],
                [key, "-c"], ["-v"], ["-v", "-w", "3"], ["--totp"], [])


def _validation_cases(rng: random.Random) -> Iterator[list[str]]:
    """OTPs inside and outside the window, taken from the real oathtool's own output."""
    keys = (RFC_KEY, _hex(16, rng), _hex(1, rng), "")
    for key in keys:
        for digits in ("6", "7", "8"):
            start = rng.choice((0, 7, 2**32 - 3, 2**64 - 4))
            codes = theirs(["-d", digits, "-c", str(start), "-w", "12", key])[1].split()
            for k in (0, 1, 5, 12):
                otp = codes[k].decode()
                yield ["-c", str(start), "-w", str(k), key, otp]
                yield ["-c", str(start), "-w", str(max(k - 1, 0)), key, otp]
                yield ["-v", "-d", digits, "-c", str(start), "-w", str(k + 3), key, otp]
        for mode in ("", "=SHA256", "=SHA512"):
            digits = rng.choice("678")
            base = rng.randrange(0, 2**33)
            totp = theirs([f"--totp{mode}", "-d", digits, "-N", f"@{base}", "-w", "8",
                           key])[1].split()
            for k in (0, 1, 4, 8):
                otp = totp[k].decode()
                # k steps after "now", then k steps before it: inside the window at k.
                for now in (base, base + 8 * 30):
                    distance = k if now == base else 8 - k
                    for w in {0, max(distance - 1, 0), distance}:
                        yield [f"--totp{mode}", "-N", f"@{now}", "-w", str(w), key, otp]
            yield [f"--totp{mode}", "-v", "-N", f"@{base}", "-w", "3", key, totp[8].decode()]
    for otp in ("12345", "123456789", "1234567890", "", "abcdef", "١٢٣٤٥٦", "000000 ",
                "-12345", "755224"):
        yield ["-w", "3", RFC_KEY, otp]
        yield ["--totp", "-N", "@59", "-w", "3", RFC_KEY, otp]
    yield ["-d", "6", "-w", "3", RFC_KEY, "1234567"]
    yield ["-d", "8", RFC_KEY, "94287082"]
    yield ["--totp", "-S", "@100", "-N", "@50", "-w", "2", "00", "328482"]
    yield ["--totp", "-S", "@100", "-N", "@50", "00"]
    yield ["--totp", "-s", "4294967326", "-N", "@100", "-w", "2", "00", "328482"]
    yield ["--totp", "-s", "0", "-N", "@100", "-w", "2", "00", "887919"]


def matrix() -> list[tuple[list[str], bool]]:
    """The generated command lines, each with whether to run it through main() and argparse:
    every usage case and one in 20 of the others (deterministic for a given oathtool)."""
    rng = random.Random(20260512)
    cases = [(argv, True) for argv in _usage_cases()]
    for group in (_key_cases(rng), _option_cases(rng), _date_cases(), _validation_cases(rng)):
        cases.extend((argv, len(cases) % 20 == 0) for argv in group)
    return cases


def test_generated_matrix() -> None:
    cases = matrix()
    assert len(cases) > 600
    mismatches = []
    for argv, via_main in cases:
        mine, real = ours(argv, via_main=via_main), theirs(argv)
        if mine != real and not deviation(mine, real):
            mismatches.append((argv, mine, real))
    assert not mismatches, "\n".join(
        f"oathtool {argv!r}:\n  ours   {mine!r}\n  theirs {real!r}"
        for argv, mine, real in mismatches[:10])


@settings(deadline=None)
@given(key=st.binary(max_size=80), counter=st.integers(0, 2**64 - 1),
       digits=st.sampled_from(["6", "7", "8"]), window=st.integers(0, 20),
       base32=st.booleans(), verbose=st.booleans())
def test_hotp_generation_agrees(key: bytes, counter: int, digits: str, window: int,
                                base32: bool, verbose: bool) -> None:
    text = base64.b32encode(key).decode().rstrip("=").lower() if base32 else key.hex()
    argv = ["-c", str(counter), "-d", digits, "-w", str(window), text]
    argv[:0] = (["-b"] if base32 else []) + (["-v"] if verbose else [])
    assert_same(argv, via_main=False)


@settings(deadline=None)
@given(key=st.binary(min_size=1, max_size=64), now=st.integers(-(2**40), 2**40),
       start=st.integers(-(2**33), 2**33), step=st.integers(1, 10**6),
       mode=st.sampled_from(["", "=sha1", "=sha256", "=SHA512"]),
       digits=st.sampled_from(["6", "7", "8"]), window=st.integers(0, 6),
       verbose=st.booleans())
def test_totp_generation_agrees(key: bytes, now: int, start: int, step: int, mode: str,
                                digits: str, window: int, verbose: bool) -> None:
    argv = [f"--totp{mode}", "-N", f"@{now}", "-S", f"@{start}", "-s", f"{step}s",
            "-d", digits, "-w", str(window), key.hex()]
    assert_same(argv + (["-v"] if verbose else []), via_main=False)


@settings(deadline=None)
@given(offset=st.integers(-40, 40), window=st.integers(0, 45),
       mode=st.sampled_from(["", "=SHA256", "=SHA512"]), now=st.integers(0, 2**34))
def test_totp_validation_agrees(offset: int, window: int, mode: str, now: int) -> None:
    """A code from ``offset`` steps away, validated with a window that may or may not reach it."""
    code = theirs([f"--totp{mode}", "-N", f"@{now + offset * 30}", RFC_KEY])[1].strip()
    assert_same([f"--totp{mode}", "-N", f"@{now}", "-w", str(window), RFC_KEY, code.decode()],
                via_main=False)


# ---------------------------------------------------------------------------- inputs, processes


def test_inputs_from_stdin_and_files(tmp_path: Path) -> None:
    (tmp_path / "two").write_bytes(b"3132333435363738393031323334353637383930\n969429\n")
    (tmp_path / "crlf").write_bytes(b"00\r\n")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "nonl").write_bytes(b"00")
    (tmp_path / "b32").write_bytes(b"gezd gnbv gy3t qojq gezd gnbv gy3t qojq\n")
    (tmp_path / "dir").mkdir()
    for argv, stdin in (
        (["-"], b"00\n"), (["-"], b"00"), (["-"], b""), (["-v", "-"], b"\n"),
        (["-", "-"], b"00\n328482\n"), (["-", "-"], b"00\n"), (["-w", "3", "-", "812658"],
                                                               b"00\n"),
        (["00", "-"], b"328482\n"), (["@two", "@two"], b""), (["-w", "5", "@two", "@two"], b""),
        (["@two"], b""), (["@two", "-"], b"969429\n"), (["-w9", "-", "@two"], b"00\n"),
        (["@crlf"], b""), (["@empty"], b""), (["@nonl"], b""), (["-b", "@b32"], b""),
        (["@missing"], b""), (["@dir"], b""), (["--", "-two"], b""), (["--", "-missing"], b""),
        (["@two", "@two", "@two"], b""), (["-w", "1", "@", "x"], b""),
    ):
        assert_same(argv, stdin, cwd=tmp_path)


def test_the_installed_entry_point(tmp_path: Path) -> None:
    """``python -m pyotp_hw oathtool`` as a script runs it: raw argv bytes, stdin, statuses."""
    env = {**os.environ, "TZ": "UTC"}
    cases: list[tuple[list[str], bytes]] = [
        (["-"], b"00\n"), (["-w", "10", RFC_KEY, "969429"], b""), (["-c", "1", RFC_KEY,
                                                                   "969429"], b""),
        (["-bw3", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"], b""), (["--bogus"], b""),
        (["--totp", "-v", "-N", "2033-05-18 03:33:20 UTC", "-d8", RFC_KEY], b""),
        (["-h"], b""), (["--", "-"], b"00\n"), (["-d9", "00"], b""),
    ]
    for argv, stdin in cases:
        mine = ours_subprocess(argv, stdin, env)
        real = theirs(argv, stdin)
        assert mine == real or deviation(mine, real), argv
    raw = [b"-\xe9", b"00"]  # not UTF-8: getopt names the byte
    proc = subprocess.run([sys.executable, "-m", "pyotp_hw", "oathtool", *raw],
                          capture_output=True, env=env, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == theirs([os.fsdecode(a) for a in raw])


def _first_lines(command: list[str], count: int) -> list[bytes]:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(count)]
    proc.kill()
    proc.wait()
    return lines


def test_negative_window_prints_without_end() -> None:
    """oathtool's window is a size_t: -1 prints codes until the reader stops reading."""
    for argv in (["-w", "-1", "00"], ["-c", "18446744073709551610", "-w", "-3", RFC_KEY],
                 ["--totp", "-N", "@0", "-w", "-1", "00"]):
        real = _first_lines(["oathtool", *argv], 300)
        mine = _first_lines([sys.executable, "-m", "pyotp_hw", "oathtool", *argv], 300)
        assert mine == real and len(set(real)) > 200


def test_negative_window_validation_finds_the_code() -> None:
    assert assert_same(["-w", "-5", "00", "111111"]) == (0, b"1585325\n", b"")
    assert assert_same(["-v", "-w", "-1", "00", "328482"])[0] == 0


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Asia/Kolkata",
                                  "Australia/Lord_Howe", "EST5EDT", "Foo+3", "UTC"])
def test_local_time_zones(zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    for date in ("2021-03-14 02:30", "2021-03-14 03:30", "2021-11-07 01:30", "2021-03-28 02:30",
                 "2021-10-31 02:30", "2021-06-01", "2021-06-01 12:00", "2021-01-01 EST",
                 "2021-07-01 12:00 EST", "2021-07-01 12:00 EDT", "2021-07-01 12:00 CEST",
                 "2021-07-01 12:00 CET", "2021-03-13 12:00 +1 day", "2021-03-13 12:00 UTC +1 day",
                 "2021-03-14 02:30 UTC", "2021-03-14 02:30 -0500", "2021-10-30 +1 day",
                 "2021-04-05 00:00 +30 min", "TZ=\"Europe/Paris\" 2021-07-01 12:00",
                 "@1615705800", "2021-11-07 01:30 EDT", "2021-11-07 01:30 EST",
                 "2021-10-03 02:15", "1969-12-31 23:00:00 -0100"):
        assert_same(["--totp", "-v", "-N", date, "00"], via_main=False)


def test_times_relative_to_now() -> None:
    """``now``, relative items and day names: both sides read the clock, so retry on a tick."""
    for start, now in (("1 hour ago", "now"), ("yesterday", "tomorrow"), ("", "today"),
                       ("last thursday", "next thursday"), ("thursday", "friday"),
                       ("-3 days", "+2 weeks"), ("last year", "next month"), ("hour", "now"),
                       ("12:00", "13:30"), ("now", "now"), ("this week", "fortnight"),
                       ("2 hours ago", "90 minutes ago"), ("noon", "now"),
                       ("TZ=\"Asia/Tokyo\" 09:00", "TZ=\"UTC\" 00:00")):
        assert_same(["--totp", "-S", start, "-N", now, "-w", "2", "00"], retries=3)
        assert_same(["--totp", "-v", "-S", start, "-N", now, "00"], retries=3)
    assert_same(["--totp", "-v", "00"], retries=3)
    assert_same(["--totp=sha512", "-d", "8", "-w", "3", "00"], retries=3)


def test_version_and_help_shapes() -> None:
    """Same layout, option list, version number and statuses; ours names pyotp-hw."""
    for argv in (["--version"], ["-V"], ["-Vx"], ["--vers"], ["-V", "-h"], ["-V", "--bogus"]):
        mine, real = ours(argv), theirs(argv)
        assert (mine[0], mine[2]) == (real[0], real[2]) == (0, b"")
        mine_lines, real_lines = mine[1].split(b"\n"), real[1].split(b"\n")
        assert len(mine_lines) == len(real_lines)
        assert mine_lines[0].split()[0] == real_lines[0].split()[0] == b"oathtool"
        assert mine_lines[0].split()[-1] == real_lines[0].split()[-1] == b"2.6.7"
        assert b"pyotp-hw" in mine[1] and b"MIT" in mine[1]
    for argv in (["--help"], ["-h"], ["-h", "-V"], ["-hx"], ["--he"], ["-v"], ["--totp"], []):
        mine, real = ours(argv), theirs(argv)
        assert (mine[0], mine[2]) == (real[0], real[2]) == (0, b"")
        assert help_shape(mine[1]) == help_shape(real[1])
        assert len(help_shape(real[1])[1]) == 12 and b"pyotp-hw" in mine[1]


def test_documented_differences() -> None:
    """Each difference from oathtool 2.6.7 is deliberate (module docstring); pin them here."""
    # A zero time step: oathtool dies of SIGFPE.
    for argv in (["--totp", "-v", "-s", "0", "00"], ["--totp", "-s", "T0S", "-N", "@100",
                                                     "00", "111111"]):
        assert theirs(argv) == (-signal.SIGFPE, b"", b"")
        assert ours(argv) == (1, b"", ZERO_STEP_ERROR)
    # Without -v or a failed validation, a zero step is liboath's default of 30 s: agreed.
    assert assert_same(["--totp", "-s", "0", "-N", "@100", "00"]) == (0, b"887919\n", b"")
    # "--=..." never meets pyotp-hw's own parser: oathtool's rules answer it.
    assert theirs(["--=x", "00"])[0] == 1
    assert_same(["--=x", "00"])


def test_standard_input_closed() -> None:
    """A key from ``-`` when the process has no standard input at all (fd 0 closed)."""
    def closed_stdin(*command: str) -> Result:
        proc = subprocess.run(["sh", "-c", 'exec "$0" "$@" <&-', *command],
                              capture_output=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    real = closed_stdin("oathtool", "-")
    assert real == (1, b"", b"oathtool: read file for KEY/OTP: Bad file descriptor\n")
    assert closed_stdin(sys.executable, "-m", "pyotp_hw", "oathtool", "-") == real
