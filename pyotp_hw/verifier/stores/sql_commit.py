"""A verification round's writes in the SQL stores: consuming steps, counting failures and
unknown users, recording events.

A verification round (:meth:`CommitMixin.verify_round`) is one write transaction: it reads the
round's states, lets the verifier decide (gate, decoy, C core: no store writes), then counts the
unknown users, records the events and commits the attempts, so a lone verification costs one
BEGIN/COMMIT. SQLite holds the database's write lock from ``BEGIN IMMEDIATE`` on; PostgreSQL reads
the rows ``FOR UPDATE`` in id order, so the state decided on is the state written and concurrent
rounds lock in one order.

Consumption is atomic because the database evaluates the condition ``last_step < :s`` (and "not
locked, not in its delay") on the current row while it writes it: SQLite holds the write lock for
the whole transaction (``BEGIN IMMEDIATE``), PostgreSQL re-checks the condition on the newest row
version after waiting for a concurrent writer (READ COMMITTED update semantics). The rows
written, read back through ``RETURNING`` (SQLite: the summed row count of one prepared statement
per attempt, falling back to ``RETURNING`` when it is short), say which steps this worker
actually consumed. Inside a round
the rows are held from the read on, so the condition only confirms what was read; it is what
keeps :meth:`CommitMixin.commit` (whose attempts were evaluated on an earlier read) and any
two-transaction round safe.
"""

# Statements are assembled from fixed fragments: placeholders, column names and the dialect's
# function names. Every value travels as a bound parameter, never inside the SQL text.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..policy import DELAY_SHIFT_CAP, Policy
from ..records import Attempt, Attempts, Decision, Event, EventKind, State, Verdict
from .base import _check_attempts, unknown_buckets
from .dbapi import Cursor, Param
from .sql_dialect import STATE_COLS, SQLDialect

__all__ = ["CommitMixin"]


class CommitMixin(SQLDialect):
    """``commit`` and ``verify_round``, and the event and unknown-user writes they share."""

    if TYPE_CHECKING:  # provided by ServiceTables
        def _write_notices(self, cur: Cursor, events: Sequence[Event]) -> None: ...

    def _consume_sql(self) -> tuple[str, Sequence[tuple[str, str]]]:
        """The conditional UPDATE that consumes steps (one statement for the batch).

        ``{src}`` is the batch; the trailing placeholder is ``now``. The WHERE clause is the
        whole of replay safety: a step is consumed only above the stored one.
        """
        p = self._p
        sql = (
            "UPDATE otp_credentials AS c SET last_step = b.step, drift = b.drift, failures = 0, "
            "next_allowed_at = 0, accepted = c.accepted + 1 FROM {src} "
            "WHERE c.id = b.cid AND c.locked_at IS NULL "
            f"AND c.next_allowed_at <= {p('float')} "
            "AND (c.last_step IS NULL OR c.last_step < b.step) RETURNING id"
        )
        return sql, (("cid", "int"), ("step", "int"), ("drift", "int"))

    def _consume_one_sql(self) -> str:
        """The consume statement for one attempt (parameters: step, drift, id, now, step): the
        write and the condition of :meth:`_consume_sql`, for a dialect that runs it once per
        attempt (SQLite, through ``executemany``)."""
        i, f = self._p("int"), self._p("float")
        return (
            f"UPDATE otp_credentials SET last_step = {i}, drift = {i}, failures = 0, "
            f"next_allowed_at = 0, accepted = accepted + 1 WHERE id = {i} "
            f"AND locked_at IS NULL AND next_allowed_at <= {f} "
            f"AND (last_step IS NULL OR last_step < {i})"
        )

    def _consume(self, cur: Cursor, ids: Sequence[int], steps: Sequence[int | None],
                 drifts: Sequence[int], now: float) -> set[int] | None:
        """Consume ``steps[k]`` of credential ``ids[k]`` (none None): None when every one was
        consumed, else the ids of those that were."""
        sql, names = self._consume_sql()
        src, params = self._source(names, list(zip(ids, steps, drifts, strict=True)))
        cur.execute(sql.format(src=src), [*params, now])
        won = {int(r[0]) for r in cur.fetchall()}
        return None if len(won) == len(ids) else won

    def _count_failures(
        self, cur: Cursor, rows: list[tuple[int, int]], now: float, policy: Policy
    ) -> list[tuple[int, str, int, float | None]]:
        p = self._p
        src, params = self._source((("cid", "int"), ("replay", "int")), rows)
        shift = self._shift(self._least(f"c.failures - {p('int')}", str(DELAY_SHIFT_CAP)))
        delay = self._least(p("float"), f"{p('float')} * {shift}")
        sql = (
            "UPDATE otp_credentials AS c SET failures = c.failures + 1, "
            f"next_allowed_at = CASE WHEN c.failures + 1 > {p('int')} "
            f"THEN {p('float')} + {delay} "
            "ELSE c.next_allowed_at END, "
            f"locked_at = CASE WHEN c.failures + 1 >= {p('int')} THEN {p('float')} ELSE NULL END, "
            "rejected = c.rejected + 1 - b.replay, replayed = c.replayed + b.replay "
            f"FROM {src} WHERE c.id = b.cid AND c.locked_at IS NULL "
            f"AND c.next_allowed_at <= {p('float')} "
            "RETURNING id, user_id, failures, locked_at"
        )
        args: list[Param] = [
            policy.delay_after, now, policy.max_delay, policy.base_delay, policy.delay_after,
            policy.lockout_after, now, *params, now,
        ]
        cur.execute(sql, args)
        return [(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in cur.fetchall()]

    def _states(self, cur: Cursor, ids: Sequence[int]) -> dict[int, tuple[float | None, float]]:
        cond, params = self._in_list("id", list(ids), "int")
        cur.execute(f"SELECT id, locked_at, next_allowed_at FROM otp_credentials WHERE {cond}",
                    params)
        return {int(r[0]): (r[1], float(r[2])) for r in cur.fetchall()}

    def _insert_events(self, cur: Cursor, events: Sequence[Event]) -> None:
        if not events:
            return
        p = self._p
        cur.executemany(
            "INSERT INTO otp_events (user_id, kind, at, detail) "
            f"VALUES ({p('text')}, {p('text')}, {p('float')}, {p('text')})",
            [(e.user, e.kind.value, e.at, e.detail) for e in events],
        )
        self._write_notices(cur, events)

    def commit(
        self, attempts: Sequence[Attempt], now: float, policy: Policy
    ) -> tuple[list[Verdict], list[Event]]:
        """Consume, count failures, record events: one transaction."""
        _check_attempts(attempts)
        if not attempts:
            return [], []
        with self._tx() as cur:
            self._lock_rows(cur, sorted(a.cred_id for a in attempts))
            return self._apply(cur, attempts, now, policy)

    def _apply(self, cur: Cursor, attempts: Sequence[Attempt], now: float, policy: Policy
               ) -> tuple[list[Verdict], list[Event]]:
        """The commit logic, inside the caller's transaction (the rows' locks already held)."""
        cols = Attempts.of(attempts)
        ids, steps, replays = cols.ids, cols.steps, cols.replays
        n = len(ids)
        if None not in steps and True not in replays:  # the usual batch: every code matched
            wins: Sequence[int] = range(n)
            won = self._consume(cur, ids, steps, cols.drifts, now)
        else:
            wins = [k for k in range(n) if steps[k] is not None and not replays[k]]
            won = self._consume(cur, [ids[k] for k in wins], [steps[k] for k in wins],
                                [cols.drifts[k] for k in wins], now) if wins else set()
        if won is None:
            if len(wins) == n:
                # Every attempt consumed its step (ids are distinct): all accepted, no failure
                # to count and no event, as the general path below would conclude.
                return [Verdict.ACCEPTED] * n, []
            won = {ids[k] for k in wins}
        return self._settle(cur, cols, won, [ids[k] for k in wins if ids[k] not in won], now,
                            policy)

    def _settle(self, cur: Cursor, cols: Attempts, won: set[int], lost: list[int], now: float,
                policy: Policy) -> tuple[list[Verdict], list[Event]]:
        """The verdicts of a batch whose consumed steps are ``won`` (``lost``: the matched
        steps not consumed); counts the failures and records their events."""
        ids, steps, replays = cols.ids, cols.steps, cols.replays
        verdicts = [Verdict.FAILED] * len(ids)
        events: list[Event] = []
        # A step this worker found valid but could not consume: locked or throttled since it
        # was read, or consumed by another worker first (then it is a replay).
        lost_state = self._states(cur, lost) if lost else {}
        failing: list[tuple[int, int]] = []
        for i, cid in enumerate(ids):
            if cid in won:
                verdicts[i] = Verdict.ACCEPTED
                continue
            replay = replays[i] or steps[i] is not None
            if cid in lost_state:
                locked_at, next_allowed = lost_state[cid]
                if locked_at is not None:
                    verdicts[i] = Verdict.LOCKED
                    continue
                if next_allowed > now:
                    verdicts[i] = Verdict.THROTTLED
                    continue
            verdicts[i] = Verdict.REPLAY if replay else Verdict.FAILED
            failing.append((cid, int(replay)))
        counted = {r[0]: r for r in self._count_failures(cur, failing, now, policy)} \
            if failing else {}
        uncounted = [cid for cid, _ in failing if cid not in counted]
        uncounted_state = self._states(cur, uncounted) if uncounted else {}
        for i, cid in enumerate(ids):
            if verdicts[i] not in (Verdict.FAILED, Verdict.REPLAY):
                continue
            row = counted.get(cid)
            if row is None:
                if cid not in uncounted_state:
                    verdicts[i] = Verdict.GONE
                    continue
                locked_at, _ = uncounted_state[cid]
                verdicts[i] = Verdict.THROTTLED if locked_at is None else Verdict.LOCKED
                continue
            _, user, failures, locked_at = row
            if verdicts[i] is Verdict.REPLAY:
                events.append(Event(EventKind.REPLAY, user, now))
            if locked_at is not None and failures >= policy.lockout_after:
                events.append(Event(EventKind.LOCKED, user, now, f"{failures} failures"))
        self._insert_events(cur, events)
        return verdicts, events

    def verify_round(
        self, users: Sequence[str], decide: Callable[[dict[str, State]], Decision], now: float,
        policy: Policy,
    ) -> tuple[list[Verdict], list[Event]]:
        """Read, decide, commit: one write transaction.

        The transaction is a write one from its start (SQLite: ``BEGIN IMMEDIATE``, the
        database's write lock; PostgreSQL: the rows read ``FOR UPDATE``, in id order so that
        concurrent rounds cannot deadlock), so no other writer changes the rows between the
        read and the commit. The commit's conditional writes stay as in :meth:`commit`.
        """
        cond, params = self._in_list("user_id", list(users), "text")
        lock = self._lock_clause()
        with self._tx() as cur:
            cur.execute(f"SELECT {STATE_COLS} FROM otp_credentials "
                        f"WHERE state = 'active' AND {cond}"
                        + (f" ORDER BY id {lock}" if lock else ""), params)
            new = tuple.__new__  # as in load_states
            # Row by row: a list of all rows would keep twice the objects alive meanwhile.
            attempts, unknown, events = decide({r[1]: new(State, r) for r in cur})
            _check_attempts(attempts)
            if unknown:
                self._count_unknown(cur, unknown)
            self._insert_events(cur, events)
            return self._apply(cur, attempts, now, policy) if attempts else ([], [])

    def _count_unknown(self, cur: Cursor, users: Sequence[str]) -> None:
        # Buckets in name order: concurrent transactions lock them in the same order.
        p = self._p
        cur.executemany(
            f"INSERT INTO otp_meta (name, value) VALUES ({p('text')}, {p('text')}) "
            "ON CONFLICT (name) DO UPDATE SET value = "
            f"CAST(CAST(otp_meta.value AS BIGINT) + {p('int')} AS TEXT)",
            [(name, str(n), n) for name, n in sorted(unknown_buckets(users).items())],
        )
