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


def test_seed_read_failure_rejects(store_url, spy_verifier) -> None:
    v, spy = spy_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    spy.fail = {"load_credentials"}
    assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.STORE


def test_sqlite_that_cannot_write(tmp_path, open_verifier) -> None:
    # A real write failure inside SQLite: the verifier's connection turned read-only.
    v = open_verifier(f"sqlite:///{tmp_path}/v.db")
    v.enroll("alice", SECRET, now=T)
    v.store._conn().execute("PRAGMA query_only = 1")
    assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.STORE
    v.store._conn().execute("PRAGMA query_only = 0")
    assert v.verify("alice", totp(SECRET, T), now=T).ok


@pytest.mark.postgres
def test_postgres_that_cannot_write(pg_url, open_verifier) -> None:
    v = open_verifier(pg_url)
    v.enroll("alice", SECRET, now=T)
    v.store._conn().execute("SET default_transaction_read_only = on")
    assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.STORE
    v.store._conn().execute("SET default_transaction_read_only = off")
    assert v.verify("alice", totp(SECRET, T), now=T).ok


@pytest.mark.postgres
def test_postgres_server_gone(pg_cluster, pg_url, open_verifier) -> None:
    # The connection is killed under the verifier: rejected, never accepted.
    import psycopg

    v = open_verifier(pg_url)
    v.enroll("alice", SECRET, now=T)
    pid = v.store._conn().info.backend_pid
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.STORE
    # A new connection is made for the next call.
    assert v.verify("alice", totp(SECRET, T), now=T).ok


def test_tampered_seed_is_rejected(tmp_path, open_verifier) -> None:
    v = open_verifier(f"sqlite:///{tmp_path}/v.db")
    v.enroll("alice", SECRET, now=T)
    conn = v.store._conn()
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
