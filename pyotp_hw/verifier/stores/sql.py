"""The SQLite and PostgreSQL stores' common class: schema, reads, enrollment, administration.

:class:`SQLStore` puts together what the two dialects share: the schema (created from
:mod:`.schema`, upgraded by ``MIGRATIONS``), the commit logic (:mod:`.sql_commit`), the
service's tables (:mod:`.service`) and re-sealing (:mod:`.reseal`), over the hooks a dialect
supplies (:mod:`.sql_dialect`). Every public method is one transaction.
"""

# Statements are assembled from fixed fragments: placeholders, column names and the dialect's
# function names. Every value travels as a bound parameter, never inside the SQL text.
# ruff: noqa: S608

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Generic

from ..errors import SchemaError, StoreError, StoreNotFound
from ..records import Credential, CredentialState, Event, EventKind, State
from .base import (
    SCHEMA_VERSION,
    UNKNOWN_PREFIX,
    Store,
    _check_replace,
    _check_users,
    _inherit_lockout,
    _lockout_of,
)
from .dbapi import C, ConnectionPool, Cursor, Param, Row
from .reseal import ResealMixin
from .schema import schema_ddl
from .service import ServiceTables
from .sql_commit import CommitMixin
from .sql_dialect import COLS, INSERT_COLS, STATE_COLS

__all__ = ["SQLStore", "MIGRATIONS"]

# Statements that upgrade the schema from version N to N + 1, by N. Version 1 is the first
# released schema, created whole by SQLStore.migrate; later versions add entries here.
MIGRATIONS: dict[int, Sequence[str]] = {}


def _aggregate(cur: Cursor) -> Row:
    """The one row an aggregate query returns."""
    row = cur.fetchone()
    if row is None:  # pragma: no cover - an aggregate always yields a row
        raise StoreError("the database returned no row for an aggregate query")
    return row


class SQLStore(CommitMixin, ResealMixin, ServiceTables, Store, Generic[C]):
    """A store over pooled DB-API connections (of type ``C``); subclasses give the dialect
    (the hooks of :class:`~.sql_dialect.SQLDialect`).

    Commits and verification rounds come from :class:`CommitMixin`; the service's tables
    (contacts, notice outbox, API keys) from :class:`ServiceTables`; re-sealing under a new data
    key (``Verifier.rekey``) from :class:`ResealMixin`.
    """

    #: Idle connections kept for reuse; more concurrent transactions open more, closed after.
    MAX_IDLE = 16

    def __init__(self) -> None:
        self._pool: ConnectionPool[C] = ConnectionPool(self._connect, self._broken,
                                                      self.MAX_IDLE)

    @abc.abstractmethod
    def _connect(self) -> C:
        """A new connection, configured."""

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
            cur.execute(f"SELECT {STATE_COLS} FROM otp_credentials "
                        f"WHERE state = 'active' AND {cond}", params)
            rows = cur.fetchall()
        new = tuple.__new__  # State._make without its Python-level checks (12 known columns)
        return {r[1]: new(State, r) for r in rows}

    def get(self, user: str, state: CredentialState) -> Credential | None:
        """One row."""
        p = self._p
        with self._tx(write=False) as cur:
            cur.execute(
                f"SELECT {COLS} FROM otp_credentials WHERE user_id = {p('text')} "
                f"AND state = {p('text')}",
                [user, state],
            )
            r = cur.fetchone()
        return None if r is None else Credential(*r)

    # ------------------------------------------------------------------ administration

    def _insert(self, cur: Cursor, creds: Sequence[Credential], state: CredentialState) -> None:
        p = self._p
        kinds = {"sealed": "bytes", "next_allowed_at": "float", "locked_at": "float",
                 "created_at": "float", "expires_at": "float", "user_id": "text",
                 "state": "text", "kind": "text", "digest": "text", "issuer": "text",
                 "account": "text"}
        holders = ", ".join(p(kinds.get(c, "int")) for c in INSERT_COLS)
        attrs = ["user" if c == "user_id" else c for c in INSERT_COLS]
        at_state = INSERT_COLS.index("state")
        rows = []
        for cred in creds:
            values = [getattr(cred, a) for a in attrs]
            values[at_state] = state
            rows.append(values)
        cur.executemany(
            f"INSERT INTO otp_credentials ({', '.join(INSERT_COLS)}) VALUES ({holders})", rows
        )

    def _take(self, cur: Cursor, user: str, state: CredentialState) -> Credential | None:
        p = self._p
        cur.execute(
            f"DELETE FROM otp_credentials WHERE user_id = {p('text')} AND state = {p('text')} "
            f"RETURNING {COLS}",
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
            cur.execute(f"SELECT {COLS} FROM otp_credentials WHERE state = 'active' AND {cond}",
                        params)
            olds = [Credential(*r) for r in cur.fetchall()]
            _check_replace(olds, replace, may_replace)
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
                f"SELECT {COLS} FROM otp_credentials WHERE user_id = {p('text')} "
                f"AND state = 'active' {self._lock_clause()}", [str(found[0])])
            r = cur.fetchone()
            old = None if r is None else Credential(*r)
            if old is not None and may_replace is not None and not may_replace(old):
                return False, old
            if old is not None:
                cur.execute(f"DELETE FROM otp_credentials WHERE id = {p('int')}", [old.id])
            failures, delayed, locked = _lockout_of(old)
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

