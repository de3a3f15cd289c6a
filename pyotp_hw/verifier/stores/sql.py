"""What the SQLite and PostgreSQL stores share: the schema, the statements, the commit logic.

Dialects differ in three places, supplied by subclasses: placeholders (``?`` or ``%s::type``),
how a batch of rows enters a statement (``json_each`` or ``unnest`` of arrays) and the names of a
few functions. Every batch statement is one round trip whatever the batch size.

A verification round (:meth:`SQLStore.verify_round`) is one write transaction: it reads the
round's states, lets the verifier decide (gate, decoy, C core: no store writes), then counts the
unknown users, records the events and commits the attempts, so a lone verification costs one
BEGIN/COMMIT. SQLite holds the database's write lock from ``BEGIN IMMEDIATE`` on; PostgreSQL reads
the rows ``FOR UPDATE`` in id order, so the state decided on is the state written and concurrent
rounds lock in one order.

Consumption is atomic because the database evaluates the condition ``last_step < :s`` (and "not
locked, not in its delay") on the current row while it writes it: SQLite holds the write lock for
the whole transaction (``BEGIN IMMEDIATE``), PostgreSQL re-checks the condition on the newest row
version after waiting for a concurrent writer (READ COMMITTED update semantics). The row count,
read back through ``RETURNING``, says which steps this worker actually consumed. Inside a round
the rows are held from the read on, so the condition only confirms what was read; it is what
keeps :meth:`SQLStore.commit` (whose attempts were evaluated on an earlier read) and any
two-transaction round safe.
"""

# Statements are assembled from fixed fragments: placeholders, column names and the dialect's
# function names. Every value travels as a bound parameter, never inside the SQL text.
# ruff: noqa: S608

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import ClassVar, Generic

from ..errors import AlreadyEnrolled, SchemaError, StoreError, StoreNotFound
from ..policy import DELAY_SHIFT_CAP, Policy
from ..records import (
    COLUMNS,
    Attempt,
    Credential,
    CredentialState,
    Decision,
    Event,
    EventKind,
    State,
    Verdict,
)
from .base import (
    SCHEMA_VERSION,
    UNKNOWN_PREFIX,
    Store,
    _check_attempts,
    _check_may_replace,
    _check_users,
    _inherit_lockout,
    unknown_buckets,
)
from .dbapi import C, ConnectionPool, Cursor, Param, Row, Scalar
from .reseal import ResealMixin
from .schema import schema_ddl
from .service import ServiceTables

__all__ = ["SQLStore", "MIGRATIONS"]

_COLS = ", ".join(COLUMNS)
_INSERT_COLS = [c for c in COLUMNS if c != "id"]
# The columns of records.State, in its order.
_STATE_COLS = ("id, user_id, kind, digest, digits, period, t0, sealed, last_step, drift, "
               "next_allowed_at, locked_at")

# Statements that upgrade the schema from version N to N + 1, by N. Version 1 is the first
# released schema, created whole by SQLStore._create; later versions add entries here.
MIGRATIONS: dict[int, Sequence[str]] = {}


def _aggregate(cur: Cursor) -> Row:
    """The one row an aggregate query returns."""
    row = cur.fetchone()
    if row is None:  # pragma: no cover - an aggregate always yields a row
        raise StoreError("the database returned no row for an aggregate query")
    return row


class SQLStore(ResealMixin, ServiceTables, Store, Generic[C]):
    """A store over pooled DB-API connections (of type ``C``); subclasses give the dialect.

    The service's tables (contacts, notice outbox, API keys) come from :class:`ServiceTables`;
    re-sealing under a new data key (``Verifier.rekey``) from :class:`ResealMixin`.
    """

    #: Column types, by abstract name, for the DDL.
    TYPES: ClassVar[dict[str, str]] = {}

    #: Idle connections kept for reuse; more concurrent transactions open more, closed after.
    MAX_IDLE = 16

    def __init__(self) -> None:
        self._pool: ConnectionPool[C] = ConnectionPool(self._connect, self._broken,
                                                      self.MAX_IDLE)

    # ------------------------------------------------------------------ dialect hooks

    @abc.abstractmethod
    def _p(self, kind: str) -> str:
        """A placeholder for a parameter of abstract type ``kind`` (int, float, text, bytes)."""

    @abc.abstractmethod
    def _source(self, names: Sequence[tuple[str, str]], rows: Sequence[Sequence[Scalar]]
                ) -> tuple[str, list[Param]]:
        """A FROM item ``... AS b`` yielding ``rows`` with the given (name, type) columns."""

    @abc.abstractmethod
    def _in_list(self, column: str, values: Sequence[Scalar], kind: str
                 ) -> tuple[str, list[Param]]:
        """A condition ``column IN (values)`` taking one parameter."""

    @abc.abstractmethod
    def _least(self, a: str, b: str) -> str:
        """SQL for the smaller of two expressions."""

    @abc.abstractmethod
    def _shift(self, exponent: str) -> str:
        """SQL for ``1 << exponent`` as a 64-bit integer."""

    @abc.abstractmethod
    def _connect(self) -> C:
        """A new connection, configured."""

    @abc.abstractmethod
    def _tx(self, *, write: bool = True) -> AbstractContextManager[Cursor]:
        """A cursor inside one transaction, committed on success; StoreError on failure."""

    @abc.abstractmethod
    def _schema_lock(self, cur: Cursor) -> None:
        """Serialise schema creation among concurrent openers (inside the transaction)."""

    @abc.abstractmethod
    def _table_exists(self, cur: Cursor, name: str) -> bool:
        """True when a table of this name exists."""

    def _broken(self, conn: C) -> bool:
        """True when a connection that raised cannot be used again."""
        return False

    def close(self) -> None:
        """Close every idle connection; connections in use close when their transaction ends."""
        self._pool.close()

    # ------------------------------------------------------------------ schema

    def _current_version(self) -> int | None:
        with self._tx(write=False) as cur:
            if not self._table_exists(cur, "otp_meta"):
                return None
            cur.execute(f"SELECT value FROM otp_meta WHERE name = {self._p('text')}",
                        ["schema_version"])
            found = cur.fetchone()
        return None if found is None else int(found[0])

    def migrate(self, *, create: bool = True) -> None:
        """Create or upgrade the schema, serialised against concurrent openers.

        A store already at this version is only read (so a read-only database still opens).
        """
        p = self._p
        current = self._current_version()
        if current == SCHEMA_VERSION:
            return
        if current is None and not create:
            raise StoreNotFound(f"no verifier store at {self.url}")
        with self._tx() as cur:
            self._schema_lock(cur)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS otp_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            cur.execute(f"SELECT value FROM otp_meta WHERE name = {p('text')}", ["schema_version"])
            found = cur.fetchone()
            if found is None:
                if self._table_exists(cur, "otp_credentials"):
                    raise SchemaError(
                        "the database has an otp_credentials table but no schema version; "
                        "it was not created by pyotp-hw"
                    )
                for stmt in schema_ddl(self.TYPES):
                    cur.execute(stmt)
                version = SCHEMA_VERSION
                cur.execute(
                    f"INSERT INTO otp_meta (name, value) VALUES ({p('text')}, {p('text')})",
                    ["schema_version", str(version)],
                )
                return
            version = int(found[0])
            if version > SCHEMA_VERSION:
                raise SchemaError(
                    f"the verifier store has schema version {version}, newer than the "
                    f"{SCHEMA_VERSION} this pyotp-hw understands; upgrade pyotp-hw"
                )
            while version < SCHEMA_VERSION:
                for stmt in MIGRATIONS[version]:
                    cur.execute(stmt)
                version += 1
            cur.execute(
                f"UPDATE otp_meta SET value = {p('text')} WHERE name = {p('text')}",
                [str(version), "schema_version"],
            )

    def init_meta(self, values: dict[str, str]) -> dict[str, str]:
        """Insert missing entries (first writer wins); return all."""
        p = self._p
        with self._tx(write=False) as cur:
            cur.execute("SELECT name, value FROM otp_meta")
            stored = {str(n): str(v) for n, v in cur.fetchall()}
        if all(name in stored for name in values):
            return stored
        with self._tx() as cur:
            for name, value in values.items():
                cur.execute(
                    f"INSERT INTO otp_meta (name, value) VALUES ({p('text')}, {p('text')}) "
                    "ON CONFLICT (name) DO NOTHING",
                    [name, value],
                )
            cur.execute("SELECT name, value FROM otp_meta")
            return {str(n): str(v) for n, v in cur.fetchall()}

    # ------------------------------------------------------------------ reads

    def load_states(self, users: Sequence[str]) -> dict[str, State]:
        """One SELECT of the mutable columns for the whole batch."""
        if not users:
            return {}
        cond, params = self._in_list("user_id", list(users), "text")
        with self._tx(write=False) as cur:
            cur.execute(f"SELECT {_STATE_COLS} FROM otp_credentials "
                        f"WHERE state = 'active' AND {cond}", params)
            rows = cur.fetchall()
        new = tuple.__new__  # State._make without its Python-level checks (12 known columns)
        return {r[1]: new(State, r) for r in rows}

    def get(self, user: str, state: CredentialState) -> Credential | None:
        """One row."""
        p = self._p
        with self._tx(write=False) as cur:
            cur.execute(
                f"SELECT {_COLS} FROM otp_credentials WHERE user_id = {p('text')} "
                f"AND state = {p('text')}",
                [user, state],
            )
            r = cur.fetchone()
        return None if r is None else Credential(*r)

    # ------------------------------------------------------------------ commit

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

    def _consume(self, cur: Cursor, rows: list[tuple[int, int, int]], now: float) -> set[int]:
        sql, names = self._consume_sql()
        src, params = self._source(names, rows)
        cur.execute(sql.format(src=src), [*params, now])
        return {int(r[0]) for r in cur.fetchall()}

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
        verdicts = [Verdict.FAILED] * len(attempts)
        events: list[Event] = []
        wins = [(a.cred_id, a.step, a.drift) for a in attempts
                if a.step is not None and not a.replay]
        won = self._consume(cur, wins, now) if wins else set()
        if len(won) == len(attempts):
            # Every attempt consumed its step (ids are distinct): all accepted, no failure
            # to count and no event, as the general path below would conclude.
            return [Verdict.ACCEPTED] * len(attempts), events
        lost = [a.cred_id for a in attempts
                if a.step is not None and not a.replay and a.cred_id not in won]
        # A step this worker found valid but could not consume: locked or throttled since it
        # was read, or consumed by another worker first (then it is a replay).
        lost_state = self._states(cur, lost) if lost else {}
        failing: list[tuple[int, int]] = []
        for i, a in enumerate(attempts):
            if a.cred_id in won:
                verdicts[i] = Verdict.ACCEPTED
                continue
            replay = a.replay or a.step is not None
            if a.cred_id in lost_state:
                locked_at, next_allowed = lost_state[a.cred_id]
                if locked_at is not None:
                    verdicts[i] = Verdict.LOCKED
                    continue
                if next_allowed > now:
                    verdicts[i] = Verdict.THROTTLED
                    continue
            verdicts[i] = Verdict.REPLAY if replay else Verdict.FAILED
            failing.append((a.cred_id, int(replay)))
        counted = {r[0]: r for r in self._count_failures(cur, failing, now, policy)} \
            if failing else {}
        uncounted = [cid for cid, _ in failing if cid not in counted]
        uncounted_state = self._states(cur, uncounted) if uncounted else {}
        for i, a in enumerate(attempts):
            if verdicts[i] not in (Verdict.FAILED, Verdict.REPLAY):
                continue
            row = counted.get(a.cred_id)
            if row is None:
                if a.cred_id not in uncounted_state:
                    verdicts[i] = Verdict.GONE
                    continue
                locked_at, _ = uncounted_state[a.cred_id]
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
            cur.execute(f"SELECT {_STATE_COLS} FROM otp_credentials "
                        f"WHERE state = 'active' AND {cond}"
                        + (f" ORDER BY id {lock}" if lock else ""), params)
            new = tuple.__new__  # as in load_states
            attempts, unknown, events = decide({r[1]: new(State, r) for r in cur.fetchall()})
            _check_attempts(attempts)
            if unknown:
                self._count_unknown(cur, unknown)
            self._insert_events(cur, events)
            return self._apply(cur, attempts, now, policy) if attempts else ([], [])

    # ------------------------------------------------------------------ administration

    def _insert(self, cur: Cursor, creds: Sequence[Credential], state: CredentialState) -> None:
        p = self._p
        kinds = {"sealed": "bytes", "next_allowed_at": "float", "locked_at": "float",
                 "created_at": "float", "expires_at": "float", "user_id": "text",
                 "state": "text", "kind": "text", "digest": "text", "issuer": "text",
                 "account": "text"}
        holders = ", ".join(p(kinds.get(c, "int")) for c in _INSERT_COLS)
        attrs = ["user" if c == "user_id" else c for c in _INSERT_COLS]
        at_state = _INSERT_COLS.index("state")
        rows = []
        for cred in creds:
            values = [getattr(cred, a) for a in attrs]
            values[at_state] = state
            rows.append(values)
        cur.executemany(
            f"INSERT INTO otp_credentials ({', '.join(_INSERT_COLS)}) VALUES ({holders})", rows
        )

    def _take(self, cur: Cursor, user: str, state: CredentialState) -> Credential | None:
        p = self._p
        cur.execute(
            f"DELETE FROM otp_credentials WHERE user_id = {p('text')} AND state = {p('text')} "
            f"RETURNING {_COLS}",
            [user, state],
        )
        r = cur.fetchone()
        return None if r is None else Credential(*r)

    def put_active(
        self,
        creds: Sequence[Credential],
        *,
        replace: bool,
        events: Sequence[Event],
        on_replace: Callable[[Credential], Event],
        may_replace: Callable[[Credential], bool] | None = None,
    ) -> list[Credential]:
        """Read the users' active rows, delete them, insert the new ones: one transaction."""
        _check_users(creds)
        if not creds:
            return []
        with self._tx() as cur:
            cond, params = self._in_list("user_id", [c.user for c in creds], "text")
            cur.execute(f"SELECT {_COLS} FROM otp_credentials WHERE state = 'active' AND {cond}",
                        params)
            olds = [Credential(*r) for r in cur.fetchall()]
            if olds and not replace:
                raise AlreadyEnrolled(f"user {olds[0].user!r} already has an active credential")
            _check_may_replace(olds, may_replace)
            if olds:
                cond, params = self._in_list("id", [o.id for o in olds], "int")
                cur.execute(f"DELETE FROM otp_credentials WHERE {cond}", params)
            self._insert(cur, _inherit_lockout(creds, olds), "active")
            self._insert_events(cur, [*events, *(on_replace(o) for o in olds)])
        return olds

    def put_pending(self, cred: Credential, *, events: Sequence[Event]) -> None:
        """Replace the pending row."""
        with self._tx() as cur:
            self._take(cur, cred.user, "pending")
            self._insert(cur, [cred], "pending")
            self._insert_events(cur, events)

    def promote(
        self,
        pending_id: int,
        step: int,
        drift: int,
        now: float,
        events: Sequence[Event],
        replaced_events: Sequence[Event] = (),
        may_replace: Callable[[Credential], bool] | None = None,
    ) -> tuple[bool, Credential | None]:
        """Check the pending row under the write lock, then swap it in."""
        p = self._p
        with self._tx() as cur:
            cur.execute(
                f"SELECT user_id FROM otp_credentials WHERE id = {p('int')} AND state = 'pending' "
                f"AND (expires_at IS NULL OR expires_at > {p('float')}) AND locked_at IS NULL "
                f"AND next_allowed_at <= {p('float')} {self._lock_clause()}",
                [pending_id, now, now],
            )
            found = cur.fetchone()
            if found is None:
                return False, None
            cur.execute(
                f"SELECT {_COLS} FROM otp_credentials WHERE user_id = {p('text')} "
                f"AND state = 'active' {self._lock_clause()}", [str(found[0])])
            r = cur.fetchone()
            old = None if r is None else Credential(*r)
            if old is not None and may_replace is not None and not may_replace(old):
                return False, old
            if old is not None:
                cur.execute(f"DELETE FROM otp_credentials WHERE id = {p('int')}", [old.id])
            failures, delayed, locked = (0, 0.0, None) if old is None else (
                old.failures, old.next_allowed_at, old.locked_at)
            cur.execute(
                "UPDATE otp_credentials SET state = 'active', expires_at = NULL, "
                f"last_step = {p('int')}, drift = {p('int')}, failures = {p('int')}, "
                f"next_allowed_at = {p('float')}, locked_at = {p('float')}, "
                f"accepted = accepted + 1 WHERE id = {p('int')}",
                [step, drift, failures, delayed, locked, pending_id],
            )
            # Together, so that a replacement is one notice (see stores.service).
            self._insert_events(cur, [*events, *replaced_events] if old is not None else events)
        return True, old

    def _lock_rows(self, cur: Cursor, ids: list[int]) -> None:
        """Lock a batch's rows in id order before changing them (no-op where the whole
        database is locked for the transaction), so that concurrent batches cannot deadlock."""

    def _lock_clause(self) -> str:
        """Row-lock suffix for a SELECT that precedes an update in the same transaction."""
        return ""

    def delete(
        self, user: str, states: Sequence[CredentialState], events: Sequence[Event], *,
        forget: bool = False
    ) -> list[int]:
        """Delete rows (and with ``forget`` events)."""
        p = self._p
        gone: list[int] = []
        with self._tx() as cur:
            for state in states:
                old = self._take(cur, user, state)
                if old is not None:
                    gone.append(old.id)
            if forget:
                cur.execute(f"DELETE FROM otp_events WHERE user_id = {p('text')}", [user])
            if gone:
                self._insert_events(cur, events)
        return gone

    def _step_time(self) -> str:
        """SQL for the time of a row's stored TOTP step, in floating point (never overflows);
        it takes one parameter, 1.0."""
        return f"(t0 + last_step * {self._p('float')} * period)"

    def unlock(
        self, user: str, events: Sequence[Event], *, now: float = 0.0, max_gap: float = 0.0
    ) -> bool:
        """Reset throttling on the user's rows (and forget a stored step far from ``now``)."""
        p = self._p
        with self._tx() as cur:
            cur.execute(
                "UPDATE otp_credentials SET failures = 0, next_allowed_at = 0, locked_at = NULL, "
                f"last_step = CASE WHEN kind = 'totp' AND last_step IS NOT NULL "
                f"AND {p('float')} > 0 AND abs({self._step_time()} - {p('float')}) > "
                f"{p('float')} THEN NULL ELSE last_step END "
                f"WHERE user_id = {p('text')} RETURNING id",
                [max_gap, 1.0, now, max_gap, user],
            )
            found = bool(cur.fetchall())
            if found:
                self._insert_events(cur, events)
        return found

    def count_unknown(self, users: Sequence[str]) -> None:
        """One upsert per bucket."""
        if not users:
            return
        with self._tx() as cur:
            self._count_unknown(cur, users)

    def _count_unknown(self, cur: Cursor, users: Sequence[str]) -> None:
        # Buckets in name order: concurrent transactions lock them in the same order.
        p = self._p
        cur.executemany(
            f"INSERT INTO otp_meta (name, value) VALUES ({p('text')}, {p('text')}) "
            "ON CONFLICT (name) DO UPDATE SET value = "
            f"CAST(CAST(otp_meta.value AS BIGINT) + {p('int')} AS TEXT)",
            [(name, str(n), n) for name, n in sorted(unknown_buckets(users).items())],
        )

    def latest_use(self) -> float | None:
        """One aggregate over the active TOTP rows."""
        with self._tx(write=False) as cur:
            cur.execute(f"SELECT max({self._step_time()}) FROM otp_credentials "
                        "WHERE state = 'active' AND kind = 'totp' AND last_step IS NOT NULL",
                        [1.0])
            row = cur.fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def add_events(self, events: Sequence[Event]) -> None:
        """Insert events."""
        if events:
            with self._tx() as cur:
                self._insert_events(cur, events)

    def events(self, user: str | None = None, after: int = 0, limit: int = 1000) -> list[Event]:
        """Events in id order."""
        p = self._p
        sql = f"SELECT id, user_id, kind, at, detail FROM otp_events WHERE id > {p('int')}"
        params: list[Param] = [after]
        if user is not None:
            sql += f" AND user_id = {p('text')}"
            params.append(user)
        sql += f" ORDER BY id LIMIT {p('int')}"
        params.append(limit)
        with self._tx(write=False) as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        return [Event(EventKind(r[2]), str(r[1]), float(r[3]), str(r[4]), int(r[0]))
                for r in rows]

    def stats(self) -> dict[str, int]:
        """Aggregates over rows and lock events."""
        with self._tx(write=False) as cur:
            cur.execute(
                "SELECT COUNT(*), "
                "COALESCE(SUM(CASE WHEN state = 'active' THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN locked_at IS NOT NULL THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(accepted), 0), COALESCE(SUM(rejected), 0), "
                "COALESCE(SUM(replayed), 0) FROM otp_credentials"
            )
            r = _aggregate(cur)
            cur.execute("SELECT COUNT(*) FROM otp_events WHERE kind = 'locked'")
            lockouts = _aggregate(cur)[0]
            cur.execute(f"SELECT value FROM otp_meta WHERE name LIKE {self._p('text')}",
                        [UNKNOWN_PREFIX + "%"])
            unknown = sum(int(r[0]) for r in cur.fetchall())
        names = ("credentials", "active", "pending", "locked", "accepted", "rejected", "replayed")
        out = {n: int(v) for n, v in zip(names, r, strict=True)}
        out["lockouts"] = int(lockouts)
        out["unknown"] = unknown
        return out

