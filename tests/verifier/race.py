"""The race harness: many workers submit the same valid code for the same user at once.

Used by test_concurrency.py, in-process with threads and across processes (spawned, so each has
its own verifier, connections and key cache, as separate servers would). Also holds the
deliberately non-atomic stores that show the harness catches a check-then-act race.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from pyotp_hw.verifier import Policy, Verifier
from pyotp_hw.verifier.stores import Store, open_store
from pyotp_hw.verifier.stores.sqlite import SQLiteStore

#: How long the non-atomic stores wait between reading a state and consuming a step.
RACE_GAP_SECONDS = 0.005

ATOMIC_CONDITION = "AND (c.last_step IS NULL OR c.last_step < b.step) "
#: The same condition in the statement that consumes one attempt (SQLite runs it per attempt).
ATOMIC_ONE_CONDITION = " AND (last_step IS NULL OR last_step < ?)"


class _NonAtomic:
    """Consumes a step without re-checking the stored one: it trusts the state it read before
    evaluating the code (check-then-act), which is the bug the checklist's line 6 forbids.

    Its verification rounds read the state in a transaction of their own (``Store``'s default
    ``verify_round``): the real store's round holds the rows from the read to the commit, which
    alone would hide the missing re-check from the harness.
    """

    def verify_round(self, users: Any, decide: Any, now: float, policy: Any) -> Any:
        def slow_decide(states: Any) -> Any:
            # Widen the gap between the check and the act, so that workers overlap in it even
            # on a loaded machine (a CI run once saw every round's submitters go one by one).
            decision = decide(states)
            time.sleep(RACE_GAP_SECONDS)
            return decision

        return Store.verify_round(self, users, slow_decide, now, policy)  # type: ignore[arg-type]

    def _consume_sql(self) -> tuple[str, Any]:
        sql, names = super()._consume_sql()  # type: ignore[misc]
        assert ATOMIC_CONDITION in sql, "the consume statement changed; update the race test"
        return sql.replace(ATOMIC_CONDITION, ""), names

    def _consume_one_sql(self) -> str:
        sql: str = super()._consume_one_sql()  # type: ignore[misc]
        assert sql.endswith(ATOMIC_ONE_CONDITION), \
            "the consume statement changed; update the race test"
        # The step is still bound (the statement's parameters stay as they are), never compared.
        return sql[: -len(ATOMIC_ONE_CONDITION)] + " AND ? IS NOT NULL"


class NonAtomicSQLiteStore(_NonAtomic, SQLiteStore):
    """SQLite without the conditional consume."""


def _postgres_non_atomic(url: str) -> Store:
    from pyotp_hw.verifier.stores.postgres import PostgresStore

    class NonAtomicPostgresStore(_NonAtomic, PostgresStore):
        """PostgreSQL without the conditional consume."""

    return NonAtomicPostgresStore(url)


def make_store(url: str, atomic: bool) -> Store:
    """The real store for ``url``, or its non-atomic variant."""
    if atomic:
        return open_store(url)
    if url.startswith("sqlite"):
        return NonAtomicSQLiteStore(url)
    return _postgres_non_atomic(url)


def run_rounds(v: Verifier, rounds: list[tuple[str, str, int]], threads: int,
               outer: Any = None) -> list[Counter[str]]:
    """For each round, ``threads`` threads verify the round's (user, code) at once.

    ``outer`` (a multiprocessing barrier) lines up the processes before each round. Returns, per
    round, how many threads got each reason.
    """
    out: list[Counter[str]] = []
    gate = threading.Barrier(threads)
    for user, code, now in rounds:
        if outer is not None:
            outer.wait(timeout=60)
        tally: Counter[str] = Counter()
        lock = threading.Lock()
        workers = [threading.Thread(target=_submit, args=(v, gate, user, code, now, tally, lock))
                   for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        out.append(tally)
    return out


def _submit(v: Verifier, gate: threading.Barrier, user: str, code: str, now: int,
            tally: Counter[str], lock: threading.Lock) -> None:
    gate.wait(timeout=60)
    result = v.verify(user, code, now=now)
    with lock:
        tally[result.reason.value] += 1


def process_main(url: str, key: bytes, atomic: bool, rounds: list[tuple[str, str, int]],
                 threads: int, barrier: Any, queue: Any) -> None:
    """Entry point of a spawned worker process."""
    try:
        v = Verifier(make_store(url, atomic), key, policy=Policy())
        try:
            queue.put(("ok", [dict(t) for t in run_rounds(v, rounds, threads, barrier)]))
        finally:
            v.close()
    except BaseException as exc:  # reported to the parent, which fails the test
        barrier.abort()
        queue.put(("error", repr(exc)))
