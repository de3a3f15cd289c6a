"""PostgreSQL store (psycopg 3): one database shared by several verifier machines.

The URL is a libpq URL, ``postgresql://user[:password]@host:port/dbname[?param=value&...]``; a
password (in the userinfo or as ``?password=``) is never shown: :attr:`url`, ``repr`` and errors
carry ``***`` instead (see :mod:`.redact`). Each thread gets its
own connection (autocommit outside explicit transactions). Consumption is a conditional
``UPDATE ... WHERE last_step < :s`` under READ COMMITTED: a second writer of the same row waits
for the first and then re-checks the condition against the row the first one committed, so only
one of them consumes a step. A verification round reads its rows ``FOR UPDATE`` in id order in
the transaction that writes them, so a concurrent round for the same user waits and then reads
the state the first one committed. A transaction that loses a deadlock to another batch is
rolled back whole and retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar, TypeVar
from urllib.parse import urlsplit

from ...errors import MissingExtra
from ..errors import InvalidStoreURL, StoreError
from ..policy import Policy
from ..records import Attempt, Credential, Decision, Event, State, Verdict
from .dbapi import Cursor, Param, Row, Scalar
from .redact import redact_url, scrub
from .sql import SQLStore

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

_PG_TYPES = {"int": "int8", "float": "float8", "text": "text", "bytes": "bytea"}
_RETRIES = 5
# Key of the advisory lock that serialises schema creation among concurrent openers.
_SCHEMA_LOCK_KEY = 0x70796F74705F6877  # "pyotp_hw"


_T = TypeVar("_T")


def _psycopg() -> ModuleType:
    try:
        import psycopg
    except ImportError:
        raise MissingExtra("the PostgreSQL verifier store", "postgres", "psycopg") from None
    return psycopg


class PostgresStore(SQLStore["psycopg.Connection[Row]"]):
    """A verifier store in a PostgreSQL database."""

    TYPES: ClassVar[dict[str, str]] = {
        "pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",  # identities are never reused
        "int64": "BIGINT",
        "float": "DOUBLE PRECISION",
        "bytes": "BYTEA",
    }

    def __init__(self, url: str, *, connect_timeout: int = 10) -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise InvalidStoreURL("a PostgreSQL URL looks like postgresql://user@host:port/db")
        path: str | None = None
        try:
            path = urlsplit(url).path
        except ValueError as exc:
            problem = scrub(str(exc), url)
        if path is None:
            raise InvalidStoreURL(
                f"the PostgreSQL URL cannot be parsed ({problem}); it looks like "
                "postgresql://user@host:port/db, an IPv6 host in [brackets]")
        if not path.strip("/"):
            raise InvalidStoreURL("the PostgreSQL URL names no database")
        self._psycopg = _psycopg()
        super().__init__()
        self._dsn = url
        self._connect_timeout = connect_timeout
        self.url = redact_url(url)

    def _p(self, kind: str) -> str:
        return f"%s::{_PG_TYPES[kind]}"

    def _source(self, names: Sequence[tuple[str, str]], rows: Sequence[Sequence[Scalar]]
                ) -> tuple[str, list[Param]]:
        arrays = ", ".join(f"%s::{_PG_TYPES[t]}[]" for _, t in names)
        alias = ", ".join(n for n, _ in names)
        columns: list[list[Scalar]] = [[] for _ in names]
        for row in rows:
            for j, v in enumerate(row):
                columns[j].append(v)
        params: list[Param] = [*columns]
        return f"unnest({arrays}) AS b({alias})", params

    def _in_list(self, column: str, values: Sequence[Scalar], kind: str
                 ) -> tuple[str, list[Param]]:
        return f"{column} = ANY(%s::{_PG_TYPES[kind]}[])", [list(values)]

    def _least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})"

    def _shift(self, exponent: str) -> str:
        return f"(1::int8 << ({exponent})::int4)"

    def _lock_clause(self) -> str:
        return "FOR UPDATE"

    def _lock_rows(self, cur: Cursor, ids: list[int]) -> None:
        cur.execute("SELECT 1 FROM otp_credentials WHERE id = ANY(%s::int8[]) ORDER BY id "
                    "FOR UPDATE", [ids])

    def _connect(self) -> psycopg.Connection[Row]:
        try:
            conn: psycopg.Connection[Row] = self._psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=self._connect_timeout
            )
            return conn
        except self._psycopg.Error as exc:
            problem = scrub(_first_line(exc), self._dsn)
        # Raised outside the handler: libpq's own error (which may quote the whole URL) must not
        # ride along as __context__.
        raise StoreError(f"cannot connect to PostgreSQL at {self.url}: {problem}")

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Cursor]:
        pg = self._psycopg
        with self._pool.lease() as conn:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    yield cur
            except (pg.errors.DeadlockDetected, pg.errors.SerializationFailure) as exc:
                raise _Retry(str(exc)) from None
            except pg.Error as exc:
                problem = scrub(_first_line(exc), self._dsn)
            else:
                return
            raise StoreError(f"PostgreSQL: {problem}")

    def _broken(self, conn: psycopg.Connection[Row]) -> bool:
        return bool(conn.closed or conn.broken)

    def commit(self, attempts: Sequence[Attempt], now: float, policy: Policy
               ) -> tuple[list[Verdict], list[Event]]:
        """As :meth:`SQLStore.commit`, retried when it loses a deadlock."""
        return _retrying(lambda: super(PostgresStore, self).commit(attempts, now, policy))

    def verify_round(self, users: Sequence[str], decide: Callable[[dict[str, State]], Decision],
                     now: float, policy: Policy) -> tuple[list[Verdict], list[Event]]:
        """As :meth:`SQLStore.verify_round`, retried (``decide`` included) when it loses a
        deadlock."""
        return _retrying(
            lambda: super(PostgresStore, self).verify_round(users, decide, now, policy))

    def promote(self, pending_id: int, step: int, drift: int, now: float,
                events: Sequence[Event], replaced_events: Sequence[Event] = (),
                may_replace: Callable[[Credential], bool] | None = None
                ) -> tuple[bool, Credential | None]:
        """As :meth:`SQLStore.promote`, retried when it loses a deadlock."""
        return _retrying(
            lambda: super(PostgresStore, self).promote(
                pending_id, step, drift, now, events, replaced_events, may_replace)
        )

    def _schema_lock(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s::int8)", [_SCHEMA_LOCK_KEY])

    def _table_exists(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT to_regclass(%s::text) IS NOT NULL", [name])
        row = cur.fetchone()
        return bool(row and row[0])

    def __repr__(self) -> str:
        return f"<PostgresStore {self.url}>"


class _Retry(StoreError):
    """A transaction lost a deadlock or serialisation conflict and was rolled back."""


def _retrying(call: Callable[[], _T]) -> _T:
    for attempt in range(_RETRIES):
        try:
            return call()
        except _Retry:
            time.sleep(0.002 * (attempt + 1))
    try:
        return call()
    except _Retry as exc:
        raise StoreError(f"PostgreSQL: gave up after {_RETRIES} retries: {exc}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
