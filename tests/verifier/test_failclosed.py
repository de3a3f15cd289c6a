"""Checklist 7: fail closed. If the consumed state cannot be written, the answer is "rejected"."""

from __future__ import annotations

import logging

import pytest

from pyotp_hw.verifier import Reason, Verifier, WrongKey

from .conftest import SECRET, T
from .helpers import totp


def test_commit_failure_rejects_every_code(store_url, spy_verifier, caplog) -> None:
    v, spy = spy_verifier(store_url)
    v.enroll_many([("alice", SECRET), ("bob", SECRET)], now=T)
    code = totp(SECRET, T)
    spy.fail = {"commit"}
    with caplog.at_level(logging.WARNING, logger="pyotp_hw.verifier"):
        results = v.verify_many([("alice", code), ("bob", code)], now=T)
    assert [(r.ok, r.reason) for r in results] == [(False, Reason.STORE)] * 2
    assert "cannot write the store" in caplog.text and code not in caplog.text
    spy.fail = set()
    # Nothing was consumed: the same codes still verify once the store works again.
    assert [r.ok for r in v.verify_many([("alice", code), ("bob", code)], now=T)] == [True, True]


def test_read_failure_rejects(store_url, spy_verifier) -> None:
    v, spy = spy_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    spy.fail = {"load_states"}
    assert v.verify("alice", totp(SECRET, T), now=T) == (False, Reason.STORE, None)


def test_sqlite_that_cannot_write(tmp_path, open_verifier) -> None:
    # A real write failure inside SQLite: another connection holds the write lock longer than
    # the verifier waits for it. Reading still works (WAL), writing the consumed step does not.
    import sqlite3

    path = tmp_path / "v.db"
    v = open_verifier(f"sqlite:///{path}?timeout=0.2")
    v.enroll("alice", SECRET, now=T)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.STORE
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert v.verify("alice", totp(SECRET, T), now=T).ok


@pytest.mark.postgres
def test_postgres_that_cannot_write(pg_cluster, pg_url, open_verifier) -> None:
    # The database turned read-only: the state can be read, the consumed step cannot be written.
    import psycopg

    v = open_verifier(pg_url)
    v.enroll("alice", SECRET, now=T)
    v.close()
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    reader = open_verifier(pg_url)
    assert reader.verify("alice", totp(SECRET, T), now=T).reason is Reason.STORE
    reader.close()
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
    assert open_verifier(pg_url).verify("alice", totp(SECRET, T), now=T).ok


@pytest.mark.postgres
def test_postgres_connection_killed(pg_cluster, pg_url, open_verifier) -> None:
    # The server ends the verifier's sessions: rejected, never accepted; then it reconnects.
    import psycopg

    v = open_verifier(pg_url)
    v.enroll("alice", SECRET, now=T)
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            [name]).fetchone()
    assert killed is not None and killed[0] >= 1
    assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.STORE
    assert v.verify("alice", totp(SECRET, T), now=T).ok


def test_tampered_seed_is_rejected(tmp_path, open_verifier) -> None:
    import sqlite3

    path = tmp_path / "v.db"
    v = open_verifier(f"sqlite:///{path}")
    v.enroll("alice", SECRET, now=T)
    with sqlite3.connect(path) as conn:
        sealed = conn.execute("SELECT sealed FROM otp_credentials").fetchone()[0]
        flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
        conn.execute("UPDATE otp_credentials SET sealed = ?", [flipped])
    assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.UNREADABLE


def test_wrong_key_cannot_open(db_url, key) -> None:
    Verifier.open(db_url, key=key).close()
    with pytest.raises(WrongKey):
        Verifier.open(db_url, key=bytes(32))
    Verifier.open(db_url, key=key).close()


def test_failing_callback_does_not_change_the_answer(open_verifier, caplog) -> None:
    v = open_verifier("memory:")
    v.enroll("alice", SECRET, now=T)

    def broken(event):
        raise RuntimeError("mailer down")

    v.on_event(broken)
    code = totp(SECRET, T)
    assert v.verify("alice", code, now=T).ok
    with caplog.at_level(logging.ERROR, logger="pyotp_hw.verifier"):
        assert v.verify("alice", code, now=T).reason is Reason.REPLAY
    assert "event callback failed" in caplog.text
