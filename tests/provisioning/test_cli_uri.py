"""``pyotp-hw uri ...``: output, exit codes, and no secret in anything not asked for."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pyotp
import pytest

from pyotp_hw import migration, qr
from pyotp_hw.cli import main
from pyotp_hw.otp import from_uri
from pyotp_hw.uri import OtpAuthURI, parse

from ._images import image_of

SECRET = "ZXCVBNMQWERTYUIOPASDFGHJKL234567"
URI = f"otpauth://totp/ACME%20Co:alice%40example.com?secret={SECRET}&issuer=ACME%20Co&digits=8"
VECTOR = ("otpauth-migration://offline?data="
          "CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC")


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def no_secret(*texts: str) -> bool:
    return not any(SECRET in t or SECRET.lower() in t or SECRET[:12] in t for t in texts)


# --- show ---------------------------------------------------------------------------------------


def test_show_prints_fields_but_not_the_secret(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "uri", "show", URI)
    assert status == 0
    assert "ACME Co" in out and "alice@example.com" in out and "digits:  8" in out
    assert "160 bits, hidden" in out
    assert no_secret(out, err)


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "uri", "show", "--json", URI)
    assert status == 0
    data = json.loads(out)
    assert data["issuer"] == "ACME Co" and data["account"] == "alice@example.com"
    assert data["digits"] == 8 and data["period"] == 30 and data["type"] == "totp"
    assert "secret" not in data and no_secret(out)
    status, out, _ = run(capsys, "uri", "show", "--json", "--show-secret", URI)
    assert json.loads(out)["secret"] == SECRET


def test_show_reads_stdin(capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, _ = run(capsys, "uri", "show", "-", stdin=URI + "\n", monkeypatch=monkeypatch)
    assert status == 0 and "alice@example.com" in out


def test_show_prints_warnings_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the command must not leak Python warnings
        status, _, err = run(capsys, "uri", "show",
                             f"otpauth://totp/Old:bob?secret={SECRET}&issuer=New")
    assert status == 0
    assert "pyotp-hw: warning: issuer parameter 'New' differs" in err


def test_show_migration_lists_accounts_without_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "uri", "show", "--json", VECTOR)
    assert status == 0
    (entry,) = json.loads(out)
    assert entry["label"] == "Example:alice@google.com" and "secret" not in entry
    assert "JBSWY3DPEHPK3PXP" not in out


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"otpauth://totp/A:b?secret={SECRET[:-1]}1", "secret"),
        (f"otpauth://hotp/A:b?secret={SECRET}", "counter"),
        (f"otpauth://xotp/A:b?secret={SECRET}", "type"),
        (f"otpauth://totp/A:b?secret={SECRET}&digits=12", "digits"),
        (f"https://example.com/?secret={SECRET}", "otpauth://"),
    ],
)
def test_show_bad_uri_exits_2_without_the_secret(
    capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    status, out, err = run(capsys, "uri", "show", text)
    assert status == 2
    assert out == ""
    assert err.startswith("pyotp-hw: error:") and words in err
    assert no_secret(err)


def test_show_several_and_stray_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    other = f"otpauth://hotp/B:c?secret={SECRET}&counter=3"
    status, out, _ = run(capsys, "uri", "show", "--json", URI, other)
    assert status == 0
    assert [e["type"] for e in json.loads(out)] == ["totp", "hotp"]
    assert no_secret(out)
    status, _, err = run(capsys, "uri", "show", URI, other.replace("counter=3", "counter=x"))
    assert status == 2 and "URI 2" in err and "counter" in err and no_secret(err)
    status, _, err = run(capsys, "uri", "qr", URI, other)
    assert status == 2 and "one URI at a time" in err and no_secret(err)


# --- make ---------------------------------------------------------------------------------------


def test_make_issues_a_new_secret_and_draws_it(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    png = tmp_path / "enroll.png"
    status, out, err = run(capsys, "uri", "make", "--issuer", "My Site", "--name", "bob@x.org",
                           "--digits", "8", "--digest", "SHA256", "--png", str(png))
    assert status == 0, err
    lines = out.splitlines()
    entry = parse(lines[0])
    assert (entry.issuer, entry.account, entry.digits, entry.digest) == (
        "My Site", "bob@x.org", 8, "sha256")
    assert len(entry.secret) == 20
    # The terminal code that follows scans as the same URI.
    drawing = "\n".join(lines[1:-1]) + "\n"
    modules = qr.terminal_modules(drawing)
    shot = tmp_path / "terminal.png"
    image_of(modules).save(shot)
    assert qr.read_image(shot) == [lines[0]]
    assert qr.read_image(png) == [lines[0]]
    # The secret for typing in by hand is the URI's secret, and pyotp agrees on the codes.
    typed = lines[-1].split(":", 1)[1].replace(" ", "")
    assert typed == entry.secret_base32
    assert pyotp.TOTP(typed, digits=8, digest="sha256").at(1234) == from_uri(entry).at(1234)


def test_make_gives_a_fresh_secret_each_time(capsys: pytest.CaptureFixture[str]) -> None:
    secrets = set()
    for _ in range(3):
        status, out, _ = run(capsys, "uri", "make", "--issuer", "I", "--name", "n", "--json")
        assert status == 0
        data = json.loads(out)
        assert parse(data["uri"]).secret_base32 == data["secret"]
        secrets.add(data["secret"])
    assert len(secrets) == 3


def test_make_hotp_and_svg(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    svg = tmp_path / "code.svg"
    status, out, _ = run(capsys, "uri", "make", "--issuer", "I", "--name", "n", "--hotp",
                         "--counter", "5", "--no-qr", "--svg", str(svg))
    assert status == 0
    entry = parse(out.splitlines()[0])
    assert entry.kind == "hotp" and entry.counter == 5
    assert "\u2588" not in out and svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    "args",
    [["--digits", "11"], ["--period", "0"], ["--counter", "3"]],
)
def test_make_bad_parameters_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    status, out, err = run(capsys, "uri", "make", "--issuer", "I", "--name", "n", *args)
    assert status == 2 and out == "" and "pyotp-hw: error:" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["uri", "make", "--name", "n"])  # --issuer missing
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["uri", "make", "--issuer", "I", "--name", "n", "--digest", "md5"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["uri", "qr", URI, "--png", "a.png", "--svg", "a.svg"])
    assert info.value.code == 2
    _, err = capsys.readouterr()
    assert no_secret(err)


# --- qr -----------------------------------------------------------------------------------------


def test_qr_terminal_png_svg(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, _ = run(capsys, "uri", "qr", URI)
    assert status == 0
    shot = tmp_path / "t.png"
    image_of(qr.terminal_modules(out)).save(shot)
    assert qr.read_image(shot) == [URI]
    status, out, _ = run(capsys, "uri", "qr", URI, "--png", str(tmp_path / "q.png"))
    assert status == 0 and out == "" and qr.read_image(tmp_path / "q.png") == [URI]
    status, out, _ = run(capsys, "uri", "qr", URI, "--svg", str(tmp_path / "q.svg"))
    assert status == 0 and (tmp_path / "q.svg").stat().st_size > 0


# --- import / export ----------------------------------------------------------------------------


def test_import_migration_vector(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "uri", "import-migration", VECTOR)
    assert status == 0
    (line,) = out.splitlines()
    # pyotp refuses this vector's 80-bit secret, so the fields are checked by hand.
    assert line == ("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP"
                    "&issuer=Example")
    status, out, _ = run(capsys, "uri", "import-migration", "--json", VECTOR)
    (data,) = json.loads(out)
    assert data["secret"] == "JBSWY3DPEHPK3PXP" and data["uri"] == line


def test_export_then_import_round_trip(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    accounts = [
        OtpAuthURI(kind="totp", secret=bytes([i + 1]) * 20, account=f"user {i}", issuer=f"Site {i}",
                   digits=[6, 8][i % 2], digest=["sha1", "sha256", "sha512"][i % 3])
        for i in range(5)
    ]
    uris = [a.to_uri() for a in accounts]
    status, out, err = run(capsys, "uri", "export-migration", "--batch-size", "2",
                           "--png-prefix", str(tmp_path / "ga"), *uris)
    assert status == 0, err
    exported = out.splitlines()
    assert len(exported) == 3 and all(migration.is_migration_uri(u) for u in exported)
    # Each QR image holds its batch.
    for index, text in enumerate(exported, 1):
        assert qr.read_image(tmp_path / f"ga-{index}.png") == [text]
    # Batches in a different order, read from stdin.
    status, out, _ = run(capsys, "uri", "import-migration", "-",
                         stdin="\n".join(reversed(exported)) + "\n", monkeypatch=monkeypatch)
    assert status == 0
    assert [parse(line) for line in out.splitlines()] == accounts


def test_import_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "uri", "import-migration", URI)
    assert status == 2 and "otpauth-migration" in err and no_secret(err)
    exported = migration.encode(
        [OtpAuthURI(kind="totp", secret=bytes([i]) * 10, account=str(i)) for i in range(3)],
        batch_size=1)
    status, _, err = run(capsys, "uri", "import-migration", exported[0], exported[2])
    assert status == 2 and "batch 2 of 3 is missing" in err


def test_export_errors_name_the_uri(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "uri", "export-migration", URI,
                         f"otpauth://totp/x?secret={SECRET}&digits=7")
    assert status == 2 and "account 2" in err and no_secret(err)
    status, _, err = run(capsys, "uri", "export-migration", URI, f"otpauth://totp/x?secret={SECRET}0")
    assert status == 2 and "URI 2" in err and no_secret(err)


# --- read-qr ------------------------------------------------------------------------------------


def test_read_qr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "shot.png"
    qr.write_png(URI, path)
    status, out, _ = run(capsys, "uri", "read-qr", str(path))
    assert status == 0 and out == URI + "\n"
    status, out, _ = run(capsys, "uri", "read-qr", "--json", str(path))
    assert json.loads(out) == [{"kind": "otpauth", "text": URI}]
    qr.write_png(VECTOR, path)
    status, out, _ = run(capsys, "uri", "read-qr", "--json", str(path))
    assert json.loads(out) == [{"kind": "otpauth-migration", "text": VECTOR}]


def test_read_qr_nothing_found_or_not_an_image(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    status, _, err = run(capsys, "uri", "read-qr", str(blank))
    assert status == 2 and "no QR code found" in err
    status, _, err = run(capsys, "uri", "read-qr", str(tmp_path / "missing.png"))
    assert status == 2 and "not found" in err
