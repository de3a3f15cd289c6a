"""A verification round is one store transaction on the SQL stores, whatever it holds.

The transactions are counted by the databases, not by the verifier: on SQLite by SQLite's own
trace of every statement it runs on the store's connections (each ``BEGIN`` opens one, each
statement outside one is a transaction of its own); on PostgreSQL by the server's commit and
rollback counters of the database (``pg_stat_database``), flushed on demand. The same counters
report two transactions for the two-transaction round of the base class, so they can fail.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pyotp_hw.verifier import Reason, Verifier
from pyotp_hw.verifier.records import Decision, State
from pyotp_hw.verifier.stores import Store

from .conftest import SECRET, T, wait_for
from .helpers import new_secret, sql_execute, totp, wrong_code

Counter = Callable[[Callable[[], object]], int]


class _SQLiteTrace:
    """Counts the transactions run on every SQLite connection opened while it is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.transactions = 0
        real = sqlite3.connect

        def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn = real(*args, **kwargs)
            inside = [False]

            def trace(sql: str) -> None:
                words = sql.split(None, 1)
                head = words[0].upper() if words else ""
                if head == "BEGIN":
                    self.transactions += 1
                    inside[0] = True
                elif head in ("COMMIT", "END", "ROLLBACK"):
                    inside[0] = False
                elif not inside[0]:
                    self.transactions += 1  # autocommit: the statement is its own transaction

            conn.set_trace_callback(trace)
            return conn

        monkeypatch.setattr(sqlite3, "connect", connect)

    def count(self, v: Verifier, fn: Callable[[], object]) -> int:
        before = self.transactions
        fn()
        return self.transactions - before


class _PostgresCounters:
    """Reads the database's ``xact_commit + xact_rollback`` from another database's session."""

    def __init__(self, cluster: Any, url: str) -> None:
        import psycopg

        self.db = url.rsplit("/", 1)[1]
        self.admin = psycopg.connect(cluster.url(), autocommit=True)

    def _one(self, sql: str) -> int:
        row = self.admin.execute(sql, [self.db]).fetchone()
        assert row is not None
        return int(row[0])

    def _total(self, v: Verifier) -> int:
        # A backend reports its counts when it goes idle (before its answer reaches the
        # client), at most once a second unless told to; a forced report waits for a statement
        # that leaves table counters behind. Both run unprepared: preparing a statement
        # outside a transaction block is a transaction of its own.
        with v.store._pool.lease() as conn:  # type: ignore[attr-defined]
            conn.execute("SELECT pg_stat_force_next_flush()", prepare=False)
            conn.execute("SELECT count(*) FROM otp_meta", prepare=False)
        self.admin.execute("SELECT pg_stat_clear_snapshot()")
        return self._one("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                         "WHERE datname = %s")

    def count(self, v: Verifier, fn: Callable[[], object]) -> int:
        before = self._total(v)
        fn()
        after = self._total(v)
        # Every transaction on the database went through the connection that was flushed.
        assert self._one("SELECT count(*) FROM pg_stat_activity WHERE datname = %s") == 1
        return after - before - 2  # the two statements of a report are transactions too

    def close(self) -> None:
        self.admin.close()


@pytest.fixture
def quiet_cluster(pg_cluster: Any) -> Iterator[Any]:
    """The cluster without autovacuum, whose workers' transactions would add to the counts."""
    import psycopg

    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute("ALTER SYSTEM SET autovacuum = off")
        admin.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while admin.execute("SELECT count(*) FROM pg_stat_activity "
                            "WHERE backend_type = 'autovacuum worker'").fetchone() != (0,):
            assert time.monotonic() < deadline, "autovacuum workers did not finish"
            time.sleep(0.05)
        try:
            yield pg_cluster
        finally:
            admin.execute("ALTER SYSTEM RESET autovacuum")
            admin.execute("SELECT pg_reload_conf()")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def counted(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
            key: bytes) -> Iterator[tuple[Verifier, Counter]]:
    """A verifier on a real database and a function counting the transactions a call runs."""
    if request.param == "sqlite":
        trace = _SQLiteTrace(monkeypatch)
        v = Verifier.open(f"sqlite:///{tmp_path}/verifier.db", key=key)
        try:
            yield v, functools.partial(trace.count, v)
        finally:
            v.close()
        return
    cluster = request.getfixturevalue("quiet_cluster")
    url = cluster.new_database()
    counters = _PostgresCounters(cluster, url)
    v = Verifier.open(url, key=key)
    try:
        yield v, functools.partial(counters.count, v)
    finally:
        v.close()
        counters.close()


def _two_transaction_rounds(v: Verifier) -> None:
    """Make the verifier's store use the base class's round: a read, then a commit."""
    store = v.store
    store.verify_round = functools.partial(Store.verify_round, store)  # type: ignore[method-assign]


def test_a_lone_verification_is_one_transaction(counted) -> None:
    v, count = counted
    v.enroll_many([("alice", SECRET), ("bob", SECRET)], now=T)
    assert v.verify("bob", totp(SECRET, T), now=T).ok  # connections opened, keys cached
    results: list[Any] = []
    now = T + 30

    def lone(user: str, code: str) -> Callable[[], None]:
        return lambda: results.append(v.verify(user, code, now=now))

    assert count(lone("alice", totp(SECRET, now))) == 1
    assert count(lone("alice", totp(SECRET, now))) == 1
    assert count(lone("bob", wrong_code(SECRET, now))) == 1
    assert count(lone("nobody", "123456")) == 1
    assert [r.reason for r in results] == [Reason.OK, Reason.REPLAY, Reason.INVALID,
                                           Reason.NO_CREDENTIAL]
    # What the four transactions wrote: a consumed step, two failures, an unknown attempt.
    alice, bob = v.credential("alice"), v.credential("bob")
    assert alice is not None and bob is not None
    assert (alice.last_used, alice.failures, alice.replayed) == (now // 30, 1, 1)
    assert (bob.failures, bob.rejected) == (1, 1)
    assert v.stats()["unknown"] == 1


def test_verify_many_is_one_transaction(counted) -> None:
    v, count = counted
    secrets = {f"u{i:03d}": new_secret() for i in range(300)}
    v.enroll_many(list(secrets.items()), now=T)
    assert v.verify("u000", totp(secrets["u000"], T), now=T).ok
    now = T + 30
    batch = [(u, totp(s, now) if i % 3 else wrong_code(s, now))
             for i, (u, s) in enumerate(secrets.items())]
    batch += [(f"ghost{i}", "654321") for i in range(20)]
    out: list[Any] = []
    assert count(lambda: out.extend(v.verify_many(batch, now=now))) == 1
    assert [r.reason for r in out] == [Reason.OK if i % 3 else Reason.INVALID
                                       for i in range(300)] + [Reason.NO_CREDENTIAL] * 20
    assert v.stats()["accepted"] == 200 + 1 and v.stats()["unknown"] == 20


def test_the_counters_see_the_two_transactions_of_the_base_round(counted) -> None:
    # The base class's round (a read, then a commit), as every verification took before.
    v, count = counted
    v.enroll("alice", SECRET, now=T)
    assert v.verify("alice", totp(SECRET, T), now=T).ok
    _two_transaction_rounds(v)
    now = T + 30
    assert count(lambda: v.verify("alice", totp(SECRET, now), now=now)) == 2
    assert v.credential("alice").last_used == now // 30  # type: ignore[union-attr]


def test_a_failing_decision_writes_nothing_and_releases_the_rows(db_url, open_verifier) -> None:
    v = open_verifier(db_url)
    v.enroll("alice", SECRET, now=T)
    seen: list[dict[str, State]] = []

    def boom(states: dict[str, State]) -> Decision:
        seen.append(states)
        raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError, match="the decision failed"):
        v.store.verify_round(["alice", "nobody"], boom, T, v.policy)
    assert list(seen[0]) == ["alice"]
    # Rolled back: the connection and the rows serve the next round at once.
    assert v.verify("alice", totp(SECRET, T), now=T).ok
    assert v.stats()["unknown"] == 0


def test_a_write_that_fails_takes_the_whole_round_with_it(db_url, open_verifier, caplog) -> None:
    # The database refuses the round's update of a credential: nothing of the round is kept,
    # the unknown user's attempt included (it would be counted in a transaction of its own
    # by a two-transaction round).
    v = open_verifier(db_url)
    v.enroll("alice", SECRET, now=T)
    if db_url.startswith("sqlite"):
        sql_execute(db_url, "CREATE TRIGGER refuse BEFORE UPDATE ON otp_credentials "
                            "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END")
        drop = "DROP TRIGGER refuse"
    else:
        sql_execute(db_url,
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused by a trigger'; END $$",
                    "CREATE TRIGGER refuse BEFORE UPDATE ON otp_credentials "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()")
        drop = "DROP TRIGGER refuse ON otp_credentials"
    code = totp(SECRET, T)
    with caplog.at_level(logging.WARNING, logger="pyotp_hw.verifier"):
        results = v.verify_many([("alice", code), ("nobody", "123456")], now=T)
    assert [r.reason for r in results] == [Reason.STORE, Reason.NO_CREDENTIAL]
    assert "cannot write the store" in caplog.text
    assert v.stats()["unknown"] == 0
    sql_execute(db_url, drop)
    assert v.verify("alice", code, now=T).ok  # the step was not consumed


def test_a_store_that_cannot_write_answers_alike_for_known_and_unknown_users(
        tmp_path, open_verifier) -> None:
    # The round starts by taking the write lock, so a store that cannot be written refuses every
    # code the same way before reading anything: the answer does not tell who is enrolled.
    path = tmp_path / "v.db"
    v = open_verifier(f"sqlite:///{path}?timeout=0.2")
    v.enroll("alice", SECRET, now=T)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        results = v.verify_many([("alice", wrong_code(SECRET, T)), ("nobody", "123456")], now=T)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert [r.reason for r in results] == [Reason.STORE, Reason.STORE]
    assert v.credential("alice").failures == 0  # type: ignore[union-attr]
    assert v.verify("nobody", "123456", now=T).reason is Reason.NO_CREDENTIAL


@pytest.mark.postgres
def test_a_round_that_loses_a_deadlock_decides_again(pg_cluster, pg_url, key) -> None:
    # PostgreSQL rolls back a transaction that loses a deadlock; the store retries the whole
    # round, reading and deciding again. Another worker, waiting for bob's row while the first
    # try holds it, locks bob out before the second try reads him: only the second decision is
    # the right one, and only it may be committed.
    import threading

    import psycopg

    from pyotp_hw.verifier import Policy
    from pyotp_hw.verifier.stores.postgres import PostgresStore

    db = pg_url.rsplit("/", 1)[1]
    other = Verifier.open(pg_url, key=key, lockout_after=1)
    decisions: list[Decision] = []
    theirs: list[Any] = []

    def waiting_for_a_row_lock() -> bool:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                                "AND wait_event_type = 'Lock'", [db]).fetchone()
        return row is not None and row[0] == 1

    class LosesOnce(PostgresStore):
        def verify_round(self, users, decide, now, policy):  # type: ignore[no-untyped-def]
            def counted(states: dict[str, State]) -> Decision:
                decisions.append(decide(states))
                return decisions[-1]
            return super().verify_round(users, counted, now, policy)

        @contextmanager
        def _tx(self, *, write=True):  # type: ignore[no-untyped-def]
            # After a rollback the row is free: PostgreSQL does not hand it to the waiting
            # worker first (a new locker of an unlocked row does not queue), so the retry could
            # read bob before the worker's lockout. Let the worker commit first, as it would
            # when it wins the deadlock.
            if len(decisions) == 1:
                worker.join(timeout=30)
            with super()._tx(write=write) as cur:
                yield cur

        def _apply(self, cur, attempts, now, policy):  # type: ignore[no-untyped-def]
            if len(decisions) == 1:
                worker.start()
                assert wait_for(waiting_for_a_row_lock)
                raise psycopg.errors.DeadlockDetected("deadlock detected (injected)")
            return super()._apply(cur, attempts, now, policy)

    worker = threading.Thread(target=lambda: theirs.append(
        other.verify("bob", wrong_code(SECRET, T), now=T)))
    v = Verifier(LosesOnce(pg_url), key, policy=Policy(lockout_after=1))
    try:
        v.enroll_many([("alice", SECRET), ("bob", SECRET)], now=T)
        code = totp(SECRET, T)
        results = v.verify_many([("alice", code), ("bob", code), ("nobody", "123456")], now=T)
        worker.join(timeout=30)
        assert [r.reason for r in theirs] == [Reason.INVALID]
        assert [len(d.attempts) for d in decisions] == [2, 1]  # bob was locked the second time
        assert [r.reason for r in results] == [Reason.OK, Reason.LOCKED, Reason.NO_CREDENTIAL]
        assert v.stats()["unknown"] == 1  # counted once: the first try was rolled back
        alice, bob = v.credential("alice"), v.credential("bob")
        assert alice is not None and bob is not None
        assert (alice.accepted, bob.accepted, bob.failures) == (1, 0, 1)
    finally:
        v.close()
        other.close()
