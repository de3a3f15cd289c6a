"""``token enroll`` checks where the site's half goes before it stores anything on the token.

The token's half and the site's half are one secret: storing it on the token while the URI
cannot be handed on (a missing folder, a symbolic link, no output asked for at all) would leave
an account nobody can ever enroll at the site.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyotp_hw.token import open_token
from pyotp_hw.uri import parse

pytestmark = pytest.mark.pcsc

ENROLL = ("token", "enroll", "--issuer", "Shop", "--name", "erin")


def on_token() -> list[str]:
    with open_token() as tok:
        return [c.id for c in tok.list()]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_uri_file_in_a_missing_folder_stores_nothing(
    cli: Callable[..., subprocess.CompletedProcess[str]], token: Any, tmp_path: Path
) -> None:
    line = one_line_error(cli(*ENROLL, "--uri-file", str(tmp_path / "missing" / "f")))
    assert "does not exist" in line and str(tmp_path / "missing") in line
    assert on_token() == []


def test_no_output_for_the_site_is_refused(
    cli: Callable[..., subprocess.CompletedProcess[str]], token: Any
) -> None:
    line = one_line_error(cli(*ENROLL))
    assert "--show-uri" in line and "--uri-file" in line
    assert on_token() == []


def test_a_symlinked_uri_file_is_refused_and_its_target_kept(
    cli: Callable[..., subprocess.CompletedProcess[str]], token: Any, tmp_path: Path
) -> None:
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    link = tmp_path / "site.uri"
    link.symlink_to(target)
    line = one_line_error(cli(*ENROLL, "--uri-file", str(link)))
    assert "symbolic link" in line
    assert target.read_text() == "keep me\n" and on_token() == []


def test_an_existing_uri_file_is_not_overwritten(
    cli: Callable[..., subprocess.CompletedProcess[str]], token: Any, tmp_path: Path
) -> None:
    existing = tmp_path / "site.uri"
    existing.write_text("an earlier enrollment's secret\n")
    line = one_line_error(cli(*ENROLL, "--uri-file", str(existing)))
    assert "exists" in line
    assert existing.read_text() == "an earlier enrollment's secret\n" and on_token() == []


def test_the_uri_file_is_0600_under_an_open_umask(
    cli: Callable[..., subprocess.CompletedProcess[str]], token: Any, tmp_path: Path
) -> None:
    path = tmp_path / "site.uri"
    old = os.umask(0o022)  # inherited by the CLI process
    try:
        result = cli(*ENROLL, "--uri-file", str(path), "--json")
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    assert parse(path.read_text().strip()).account == "erin"
    assert "uri" not in json.loads(result.stdout)  # not asked to show it
    assert on_token() == ["Shop:erin"]


def test_a_failed_write_after_storing_takes_the_account_back(
    token: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pyotp_hw import secret_files
    from pyotp_hw.cli import main

    def full_disk(self: Any, data: bytes) -> None:
        raise secret_files.OutputFileError(f"cannot write {self.path}: no space left")

    monkeypatch.setattr(secret_files.Reservation, "fill", full_disk)
    path = tmp_path / "site.uri"
    status = main([*ENROLL, "--uri-file", str(path)])
    err = capsys.readouterr().err
    assert status == 2 and "no space left" in err and "removed from the token" in err
    assert on_token() == [] and not path.exists()
