"""What a new user hits at the command line: unknown options named (never a value), the usage of
the sub-command at fault, a QR code too wide for the terminal, an SVG given to read-qr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyotp_hw import qr
from pyotp_hw.cli import _common, main

SECRET = "ZXCVBNMQWERTYUIOPASDFGHJKL234567"
URI = f"otpauth://totp/ACME:alice?secret={SECRET}&issuer=ACME"


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pyotp_hw", *argv], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(
    ("argv", "usage", "named"),
    [
        (("uri", "make", "--issuer", "X", "--name", "N", "--frob", SECRET),
         "usage: pyotp-hw uri make", "--frob"),
        (("uri", "make", "--issuer", "X", "--name", "N", f"--isuer={SECRET}"),
         "usage: pyotp-hw uri make", "--isuer (did you mean --issuer?)"),
        (("uri", "show", URI, "--show-secrt"), "usage: pyotp-hw uri show",
         "--show-secrt (did you mean --show-secret?)"),
        (("token", "password", "set", "--bogus", SECRET), "usage: pyotp-hw token password set",
         "--bogus"),
        (("--frob", "uri", "show", URI), "usage: pyotp-hw [-h]", "--frob"),
    ],
)
def test_an_unknown_option_is_named_under_its_sub_command_usage(
    argv: tuple[str, ...], usage: str, named: str
) -> None:
    result = cli(*argv)
    assert result.returncode == 2
    assert result.stderr.startswith(usage), result.stderr
    assert named in result.stderr
    assert SECRET not in result.stderr and SECRET[:10] not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ("uri", "make", "--issuer", "X", "--name", "N", "--digest", SECRET),
        ("uri", "make", "--issuer", "X", "--name", "N", "--digits", SECRET),
        ("uri", "qr", URI, "--scale", SECRET),
    ],
)
def test_a_bad_value_is_not_repeated(argv: tuple[str, ...]) -> None:
    result = cli(*argv)
    assert result.returncode == 2 and "invalid" in result.stderr
    assert SECRET not in result.stderr.upper()  # --digest lower-cases what it echoes


@pytest.mark.parametrize(
    "argv",
    [("uri", "qr", URI), ("uri", "make", "--issuer", "ACME", "--name", "alice")],
)
def test_a_terminal_too_narrow_for_the_code_gets_a_warning_instead(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    width = len(qr.render_terminal(URI).splitlines()[0])
    monkeypatch.setattr(_common, "terminal_columns", lambda: 40)
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    assert "\u2584" not in out and "\u2580" not in out  # no wrapped, unscannable drawing
    assert "terminal has 40" in err and "--png" in err
    assert f"{width} columns" in err or "columns wide" in err
    # Wide enough: drawn as before.
    monkeypatch.setattr(_common, "terminal_columns", lambda: 200)
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    assert "\u2584" in out and "warning" not in err


def test_read_qr_of_an_svg_says_how_to_convert_it(tmp_path: Path) -> None:
    svg = tmp_path / "code.svg"
    qr.write_svg(URI, svg)
    result = cli("uri", "read-qr", str(svg))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "SVG" in result.stderr and "rsvg-convert" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(qr.QRImageError, match="SVG"):
        qr.read_image(svg)
