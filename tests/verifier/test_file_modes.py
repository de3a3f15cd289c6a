"""Files that hold sealed seeds are the owner's only; a loose key file is reported (3.11)."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pyotp_hw.verifier import KeyFile, Verifier

from .conftest import SECRET, T
from .helpers import totp


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask (022), under which a plain open() makes files readable by everyone."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: os.PathLike[str] | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_files_are_created_owner_only(tmp_path, key, loose_umask) -> None:
    path = tmp_path / "v.db"
    v = Verifier.open(f"sqlite:///{path}", key=key)
    try:
        v.enroll("alice", SECRET, now=T)
        assert v.verify("alice", totp(SECRET, T), now=T).ok
        # While it is open the write-ahead log and its index exist too.
        for name in ("v.db", "v.db-wal", "v.db-shm"):
            assert (tmp_path / name).exists(), name
            assert _mode(tmp_path / name) == 0o600, (name, oct(_mode(tmp_path / name)))
    finally:
        v.close()


def test_cli_init_creates_owner_only_files(tmp_path) -> None:
    db = tmp_path / "cli.db"
    env = dict(os.environ, PYOTP_HW_VERIFIER_KEY=os.urandom(32).hex())
    done = subprocess.run(
        ["sh", "-c", 'umask 022 && exec "$0" -m pyotp_hw verifier init --db "$1"',
         sys.executable, f"sqlite:///{db}"],
        env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _mode(db) == 0o600
    for extra in ("cli.db-wal", "cli.db-shm"):
        if (tmp_path / extra).exists():
            assert _mode(tmp_path / extra) == 0o600, extra


def test_an_existing_file_keeps_its_mode(tmp_path, key, loose_umask) -> None:
    # An operator's own choice (say 0640 for a backup group) is left alone.
    path = tmp_path / "v.db"
    Verifier.open(f"sqlite:///{path}", key=key).close()
    os.chmod(path, 0o640)
    Verifier.open(f"sqlite:///{path}", key=key).close()
    assert _mode(path) == 0o640


def _key_file(tmp_path, mode: int) -> KeyFile:
    path = tmp_path / f"key{mode:o}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(os.urandom(32).hex())
    os.chmod(path, mode)  # the loose file under test
    return KeyFile(path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_readable_by_others_is_reported(tmp_path, caplog, mode) -> None:
    provider = _key_file(tmp_path, mode)
    with caplog.at_level(logging.WARNING, logger="pyotp_hw.verifier"):
        Verifier.open("memory:", key=provider).close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert str(provider.path) in warnings[0] and "chmod 600" in warnings[0]
    assert oct(mode)[2:] in warnings[0]


def test_an_owner_only_key_file_is_not_reported(tmp_path, caplog) -> None:
    provider = _key_file(tmp_path, 0o600)
    with caplog.at_level(logging.WARNING, logger="pyotp_hw.verifier"):
        Verifier.open("memory:", key=provider).close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_cli_warns_once_on_stderr_about_a_loose_key_file(tmp_path) -> None:
    provider = _key_file(tmp_path, 0o644)
    done = subprocess.run(
        [sys.executable, "-m", "pyotp_hw", "verifier", "init", "--db",
         f"sqlite:///{tmp_path}/v.db", "--key-file", str(provider.path)],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("pyotp-hw: warning: key file") and "chmod 600" in lines[0]
