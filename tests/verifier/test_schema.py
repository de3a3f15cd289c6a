"""Verifier.open creates or upgrades the schema itself; URLs; optional drivers stay optional."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys

import pytest

from pyotp_hw.errors import MissingExtra
from pyotp_hw.verifier import InvalidStoreURL, SchemaError, Verifier
from pyotp_hw.verifier.stores import open_store

from .conftest import SECRET, T
from .helpers import totp


def test_creates_the_schema_in_an_empty_sqlite_file(tmp_path, key) -> None:
    path = tmp_path / "v.db"
    with Verifier.open(f"sqlite:///{path}", key=key) as v:
        v.enroll("alice", SECRET, now=T)
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"otp_meta", "otp_credentials", "otp_events"} <= tables
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(conn.execute("SELECT name, value FROM otp_meta").fetchall())
    assert meta["schema_version"] == "1" and len(bytes.fromhex(meta["salt"])) == 16
    with Verifier.open(f"sqlite:///{path}", key=key) as v:  # reopened: same data, same key
        assert v.verify("alice", totp(SECRET, T), now=T).ok


@pytest.mark.postgres
def test_creates_the_schema_in_an_empty_postgres_database(pg_url, key) -> None:
    import psycopg

    with Verifier.open(pg_url, key=key) as v:
        v.enroll("alice", SECRET, now=T)
    with Verifier.open(pg_url, key=key) as v:
        assert v.verify("alice", totp(SECRET, T), now=T).ok
    with psycopg.connect(pg_url) as conn:
        version = conn.execute(
            "SELECT value FROM otp_meta WHERE name = 'schema_version'").fetchone()
    assert version == ("1",)


def test_a_newer_schema_is_refused(db_url, key) -> None:
    Verifier.open(db_url, key=key).close()
    _execute(db_url, "UPDATE otp_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(SchemaError, match="99"):
        Verifier.open(db_url, key=key)


def test_a_foreign_table_is_not_taken_over(tmp_path, key) -> None:
    path = tmp_path / "v.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE otp_credentials (x INTEGER)")
    with pytest.raises(SchemaError, match="not created by pyotp-hw"):
        Verifier.open(f"sqlite:///{path}", key=key)


def test_an_older_schema_is_upgraded(db_url, key, monkeypatch) -> None:
    # The upgrade machinery, exercised with a hypothetical version 2.
    from pyotp_hw.verifier.stores import sql

    with Verifier.open(db_url, key=key) as v:
        v.enroll("alice", SECRET, now=T)
    monkeypatch.setattr(sql, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(sql.MIGRATIONS, 1, ["ALTER TABLE otp_events ADD COLUMN note TEXT"])
    with Verifier.open(db_url, key=key) as v:
        assert v.verify("alice", totp(SECRET, T), now=T).ok
    _execute(db_url, "SELECT note FROM otp_events")
    assert _query(db_url, "SELECT value FROM otp_meta WHERE name = 'schema_version'") == "2"


def _execute(url: str, sql: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url[len("sqlite:///"):]) as conn:
            conn.execute(sql)
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute(sql)


def _query(url: str, sql: str) -> object:
    if url.startswith("sqlite"):
        with sqlite3.connect(url[len("sqlite:///"):]) as conn:
            return conn.execute(sql).fetchone()[0]
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        return None if row is None else row[0]


def _open_and_enroll(url: str, key: bytes, user: str, barrier) -> None:
    barrier.wait(timeout=60)
    with Verifier.open(url, key=key) as v:
        v.enroll(user, SECRET, now=T)


def test_concurrent_first_opens_agree(db_url, key) -> None:
    # Four processes open an empty database at once: one schema, one salt, one key check.
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_open_and_enroll, args=(db_url, key, f"u{i}", barrier))
             for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with Verifier.open(db_url, key=key) as v:
        assert all(v.verify(f"u{i}", totp(SECRET, T), now=T).ok for i in range(4))


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://relative.db", "sqlite:///", "memory",
                                 "sqlite:///v.db?journal=off", "postgresql://u@127.0.0.1:1/"])
def test_bad_urls(url) -> None:
    with pytest.raises(InvalidStoreURL):
        open_store(url)


def test_postgres_password_is_not_shown() -> None:
    pytest.importorskip("psycopg")
    store = open_store("postgresql://site:s3cret-pw@127.0.0.1:1/otp")
    assert "s3cret-pw" not in store.url and "s3cret-pw" not in repr(store)


def test_psycopg_is_optional(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    with pytest.raises(MissingExtra) as info:
        open_store("postgresql://u@127.0.0.1:1/otp")
    assert info.value.extra == "postgres" and "pyotp-hw[postgres]" in str(info.value)


def test_sqlite_use_imports_no_database_driver(tmp_path) -> None:
    code = (
        "import sys, os\n"
        "from pyotp_hw.verifier import Verifier\n"
        f"v = Verifier.open('sqlite:///{tmp_path}/v.db', key=os.urandom(32))\n"
        "v.enroll('a', b'12345678901234567890'); v.verify('a', '123456'); v.close()\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
