"""Fixtures for the verifier tests: a private PostgreSQL cluster, store URLs, fixed secrets.

The PostgreSQL cluster is real: ``initdb`` and ``pg_ctl`` from the newest
``/usr/lib/postgresql/*/bin`` (Debian's layout), run as the ``postgres`` system user when the tests
run as root (``initdb`` refuses root), listening on 127.0.0.1 only, on a free port, with its data
and socket in a temporary directory. It is stopped at the end of the session whatever happened.
Without the binaries the fixture fails loudly: CI installs them (scripts/system-deps.sh).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyotp_hw.verifier import Verifier

T = 1_700_000_000  # a fixed time: step 56666666 of 30 s
SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238's SHA-1 seed, "12345678901234567890"
SECRET = b"12345678901234567890"


def _pg_bindir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for path in reversed(candidates):
        if os.access(os.path.join(path, "initdb"), os.X_OK):
            return Path(path)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    pytest.fail(
        "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); "
        "install them with scripts/system-deps.sh (Debian package 'postgresql')",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """A throwaway cluster; ``new_database()`` hands out a fresh empty database URL."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.as_root = os.geteuid() == 0
        # As root the server runs as 'postgres', which must reach the directory: /tmp, not a
        # TMPDIR that may sit under root's home.
        self.root = Path(tempfile.mkdtemp(prefix="pyotp-hw-pg-",
                                          dir="/tmp" if self.as_root else None))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "postgres" if self.as_root else pwd.getpwuid(os.geteuid()).pw_name
        self._counter = itertools.count(1)
        if self.as_root:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root but there is no 'postgres' system user to run "
                            "initdb as (Debian's postgresql package creates it)", pytrace=False)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.log = self.root / "server.log"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        try:
            self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
                      "-U", self.user, "--no-sync", "-E", "UTF8", "--locale=C")
        except subprocess.CalledProcessError as exc:
            pytest.fail(f"initdb failed: {exc.stderr.strip()}", pytrace=False)
        # fsync off only makes the throwaway cluster faster; locking and isolation are unchanged.
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                   "-c fsync=off -c full_page_writes=off -c max_connections=200")
        proc = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                         "-o", options, "-w", "-t", "60", "start", check=False)
        if proc.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            pytest.fail(f"PostgreSQL did not start: {proc.stderr.strip()}\n{log[-2000:]}",
                        pytrace=False)

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                      "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> str:
    """The URL of a fresh, empty database."""
    return pg_cluster.new_database()


@pytest.fixture
def key() -> bytes:
    """A fresh data key."""
    return os.urandom(32)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store of each kind."""
    kind = request.param
    if kind == "memory":
        return "memory:"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/verifier.db"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database store (shared by processes): SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/verifier.db"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


@pytest.fixture
def open_verifier(key: bytes) -> Iterator[Callable[..., Verifier]]:
    """Open verifiers (closed at the end of the test)."""
    opened: list[Verifier] = []

    def make(url: str, **kwargs: Any) -> Verifier:
        kwargs.setdefault("key", key)
        v = Verifier.open(url, **kwargs)
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll until ``predicate()`` holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def spy_verifier(key: bytes) -> Iterator[Callable[..., tuple[Verifier, Any]]]:
    """Verifiers over a store wrapped in a SpyStore that records each call."""
    from pyotp_hw.verifier import Policy
    from pyotp_hw.verifier.stores import open_store

    from .helpers import SpyStore

    opened: list[Verifier] = []

    def make(url: str, *, fail: tuple[str, ...] = (), **policy: Any) -> tuple[Verifier, SpyStore]:
        spy = SpyStore(open_store(url), fail=fail)
        v = Verifier(spy, key, policy=Policy(**policy))
        opened.append(v)
        return v, spy

    yield make
    for v in opened:
        v.close()
