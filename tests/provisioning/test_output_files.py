"""Files that hold secrets (QR images, export images) are 0600, never follow a link, and a path
that cannot be written is a one-line error before anything is printed or written."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyotp_hw import qr
from pyotp_hw.cli import main
from pyotp_hw.secret_files import OutputFileError

from ..typed_errors import assert_clean_error

SECRET = "ZXCVBNMQWERTYUIOPASDFGHJKL234567"
URI = f"otpauth://totp/ACME:alice?secret={SECRET}&issuer=ACME"


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual umask (022), under which a plain open() makes files readable by everyone."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


WRITERS: dict[str, Callable[[Path], None]] = {
    "png": lambda p: qr.write_png(URI, p),
    "svg": lambda p: qr.write_svg(URI, p),
}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_qr_files_are_created_0600(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"code.{kind}"
    WRITERS[kind](path)
    assert mode(path) == 0o600


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_replacing_a_readable_file_leaves_a_0600_one(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"code.{kind}"
    path.write_text("old")
    path.chmod(0o644)
    WRITERS[kind](path)
    assert mode(path) == 0o600 and path.read_bytes() != b"old"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_symlink_is_refused_and_its_target_untouched(kind: str, tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / f"code.{kind}"
    link.symlink_to(target)
    with pytest.raises(OutputFileError, match="symbolic link") as info:
        WRITERS[kind](link)
    assert_clean_error(info.value, [SECRET])
    assert target.read_text() == "keep me" and link.is_symlink()


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_dangling_symlink_is_refused(kind: str, tmp_path: Path) -> None:
    link = tmp_path / f"code.{kind}"
    link.symlink_to(tmp_path / "created-through-the-link")
    with pytest.raises(OutputFileError, match="symbolic link"):
        WRITERS[kind](link)
    assert not (tmp_path / "created-through-the-link").exists()


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_missing_folder_is_a_typed_error(kind: str, tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="does not exist") as info:
        WRITERS[kind](tmp_path / "missing" / f"code.{kind}")
    assert isinstance(info.value, OSError)
    assert_clean_error(info.value, [SECRET])


# --- the command line ---------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_qr_files_are_0600(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png, svg = tmp_path / "make.png", tmp_path / "make.svg"
    status, _, err = run(capsys, "uri", "make", "--issuer", "I", "--name", "n", "--no-qr",
                         "--png", str(png), "--svg", str(svg))
    assert status == 0, err
    status, _, err = run(capsys, "uri", "qr", URI, "--png", str(tmp_path / "qr.png"))
    assert status == 0, err
    status, _, err = run(capsys, "uri", "export-migration", "--png-prefix",
                         str(tmp_path / "ga"), URI)
    assert status == 0, err
    for name in ("make.png", "make.svg", "qr.png", "ga-1.png"):
        assert mode(tmp_path / name) == 0o600, name


CANNOT_WRITE = [
    ("uri", "qr", URI, "--png", "{bad}"),
    ("uri", "qr", URI, "--svg", "{bad}"),
    ("uri", "make", "--issuer", "I", "--name", "n", "--png", "{bad}"),
    ("uri", "make", "--issuer", "I", "--name", "n", "--svg", "{bad}"),
    ("uri", "export-migration", "--png-prefix", "{bad}", URI),
]


@pytest.mark.parametrize("argv", CANNOT_WRITE, ids=[" ".join(a[:2]) + " " + a[-2]
                                                     for a in CANNOT_WRITE])
def test_an_output_that_cannot_be_written_is_one_line_exit_2_before_any_output(
    argv: tuple[str, ...], tmp_path: Path
) -> None:
    bad = str(tmp_path / "missing" / "out.png")
    args = [a.replace("{bad}", bad) for a in argv]
    result = subprocess.run([sys.executable, "-m", "pyotp_hw", *args], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0]
    assert str(tmp_path / "missing") in lines[0]
    # Nothing was printed: a new secret that could not be saved is not shown either.
    assert result.stdout == ""
    assert SECRET not in result.stderr


def test_export_checks_every_image_before_the_first(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    uris = [URI.replace("alice", f"user{i}") for i in range(12)]
    (tmp_path / "ga-2.png").symlink_to(tmp_path / "elsewhere")
    status, out, err = run(capsys, "uri", "export-migration", "--batch-size", "10",
                           "--png-prefix", str(tmp_path / "ga"), *uris)
    assert status == 2 and "symbolic link" in err and out == ""
    assert not (tmp_path / "ga-1.png").exists() and not (tmp_path / "elsewhere").exists()


def test_stdin_uri_for_qr_then_a_bad_file(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(URI + "\n"))
    link = tmp_path / "q.png"
    link.symlink_to(tmp_path / "target")
    status, _, err = run(capsys, "uri", "qr", "-", "--png", str(link))
    assert status == 2 and "symbolic link" in err and not (tmp_path / "target").exists()
