"""SQLite store: the embedded default, in WAL mode, safe across threads and processes.

URL forms (as SQLAlchemy writes them): ``sqlite:///relative/path.db`` and
``sqlite:////absolute/path.db``; a query string may set ``synchronous=normal`` (faster, but a
power cut may lose the last consumed steps) and ``timeout=SECONDS`` (how long a writer waits for
the lock, default 30). Every write transaction starts with ``BEGIN IMMEDIATE``, which takes the
database's write lock up front, so a check and the write it guards cannot interleave with another
connection's.
"""

# Statements are assembled from fixed fragments: placeholders, column names and the dialect's
# function names. Every value travels as a bound parameter, never inside the SQL text.
# ruff: noqa: S608

from __future__ import annotations

import ctypes
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import ClassVar
from urllib.parse import parse_qs, quote

from ..errors import InvalidStoreURL, StoreError, StoreNotFound
from .dbapi import Cursor, Param, Scalar
from .sql import SQLStore

__all__ = ["SQLiteStore"]

_SYNC = {"full": "FULL", "normal": "NORMAL"}


def _parse(url: str) -> tuple[str, str, float]:
    if not url.startswith("sqlite:///"):
        raise InvalidStoreURL("a SQLite URL looks like sqlite:///relative.db or sqlite:////abs.db")
    rest = url[len("sqlite:///"):]
    path, _, query = rest.partition("?")
    if not path:
        raise InvalidStoreURL("the SQLite URL names no database file")
    opts = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = set(opts) - {"synchronous", "timeout"}
    if unknown:
        raise InvalidStoreURL(f"unknown SQLite URL option(s): {', '.join(sorted(unknown))}")
    sync = _SYNC.get(opts.get("synchronous", "full").lower())
    if sync is None:
        raise InvalidStoreURL("synchronous must be 'full' or 'normal'")
    try:
        timeout = float(opts.get("timeout", "30"))
    except ValueError:
        raise InvalidStoreURL("timeout must be a number of seconds") from None
    return path, sync, timeout


#: How much free memory glibc may keep at the top of its heap before giving it back (mallopt's
#: M_TRIM_THRESHOLD, parameter -1). Its default is 128 KiB until the process happens to free a
#: large block, which raises it; below that, SQLite's page cache, freed and allocated again around
#: each transaction, made a lone verification round spend most of its time in brk() and page
#: faults (AMD Zen 4, one process: 190-213 us of CPU per `Verifier.verify` against 74-81 us with
#: the threshold raised).
_HEAP_TRIM_BYTES = 8 << 20
_M_TRIM_THRESHOLD = -1


@functools.cache
def _keep_freed_heap() -> None:
    """Let glibc keep up to :data:`_HEAP_TRIM_BYTES` free at the top of the heap, once per
    process; nothing where the C library has no ``mallopt`` (macOS, Windows)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return
    mallopt(_M_TRIM_THRESHOLD, _HEAP_TRIM_BYTES)


class SQLiteStore(SQLStore[sqlite3.Connection]):
    """A verifier store in one SQLite file; with ``create`` false, only an existing file opens."""

    TYPES: ClassVar[dict[str, str]] = {
        "pk": "INTEGER PRIMARY KEY AUTOINCREMENT",  # AUTOINCREMENT: ids are never reused
        "int64": "INTEGER",
        "float": "REAL",
        "bytes": "BLOB",
    }

    def __init__(self, url: str, *, create: bool = True) -> None:
        super().__init__()
        self.path, self._sync, self._timeout = _parse(url)
        self.url = url
        self._create = create
        # Write transactions of this store's threads take turns here: SQLite has no waiting
        # lock, and its busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries, so two
        # threads of one process meeting at BEGIN IMMEDIATE cost the later one milliseconds.
        # Other processes are still waited out by the busy handler.
        self._writer = threading.Lock()
        _keep_freed_heap()
        if sqlite3.sqlite_version_info < (3, 35, 0):  # pragma: no cover - old platforms
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} is too old; the verifier needs 3.35 or newer "
                "(UPDATE ... FROM and RETURNING)"
            )

    def _p(self, kind: str) -> str:
        return "?"

    def _source(self, names: Sequence[tuple[str, str]], rows: Sequence[Sequence[Scalar]]
                ) -> tuple[str, list[Param]]:
        if len(rows) == 1:  # a lone verification: its values bound as they are
            cols = ", ".join(f"? AS {name}" for name, _ in names)
            return f"(SELECT {cols}) AS b", list(rows[0])
        cols = ", ".join(f"value ->> {i} AS {name}" for i, (name, _) in enumerate(names))
        return f"(SELECT {cols} FROM json_each(?)) AS b", [json.dumps(rows)]

    def _in_list(self, column: str, values: Sequence[Scalar], kind: str
                 ) -> tuple[str, list[Param]]:
        if len(values) == 1:  # a lone verification: no JSON to build and to parse
            return f"{column} = ?", [values[0]]
        return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(list(values))]

    def _least(self, a: str, b: str) -> str:
        return f"min({a}, {b})"

    def _consume(self, cur: Cursor, ids: Sequence[int], steps: Sequence[int | None],
                 drifts: Sequence[int], now: float) -> set[int] | None:
        """One prepared UPDATE by primary key per attempt (``executemany``), which SQLite runs
        in less than half the time of one UPDATE ... FROM over a JSON batch with RETURNING.

        Its summed row count says whether every step was consumed, the usual answer (a round
        holds the database's write lock from its read on). When it is short, the batch's writes
        are rolled back to a savepoint and the general statement tells which ones were.
        """
        sql = self._consume_one_sql()
        if len(ids) == 1:  # a lone attempt: the row count alone tells its fate
            cur.execute(sql, [steps[0], drifts[0], ids[0], now, steps[0]])
            return None if cur.rowcount == 1 else set()
        cur.execute("SAVEPOINT consume")
        cur.executemany(sql, zip(steps, drifts, ids, repeat(now), steps))
        if cur.rowcount == len(ids):
            cur.execute("RELEASE consume")
            return None
        cur.execute("ROLLBACK TO consume")
        cur.execute("RELEASE consume")
        return super()._consume(cur, ids, steps, drifts, now)

    def _shift(self, exponent: str) -> str:
        return f"(1 << {exponent})"

    def _create_owner_only(self) -> None:
        """Create a missing database file readable by its owner only.

        SQLite would create it with the umask (often 0644), and gives its -wal and -shm files
        the database file's mode, so creating it first with 0600 covers all three. An existing
        file keeps the mode its operator chose.
        """
        if self.path == ":memory:":
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        try:
            os.close(os.open(self.path, flags, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(
                f"cannot create SQLite database {self.path!r}: {exc.strerror}") from None

    def _connect(self) -> sqlite3.Connection:
        if self._create:
            self._create_owner_only()
            target, as_uri = self.path, False
        else:
            # mode=rw: SQLite opens the file only if it exists, instead of creating it.
            target, as_uri = f"file:{quote(self.path)}?mode=rw", True
        try:
            conn = sqlite3.connect(target, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False, uri=as_uri)
        except sqlite3.Error as exc:
            problem = str(exc)
        else:
            try:
                self._enter_wal(conn)
                conn.execute(f"PRAGMA synchronous = {self._sync}")
            except sqlite3.Error as exc:
                conn.close()
                problem = str(exc)
            else:
                return conn
        if not self._create and not os.path.exists(self.path):
            raise StoreNotFound(f"no verifier store at {self.url} (no such file)")
        raise StoreError(f"cannot open SQLite database {self.path!r}: {problem}")

    def _enter_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the database to write-ahead logging, waiting out other first openers.

        The switch needs the database to itself, and SQLite answers "database is locked" at
        once instead of calling its busy handler when another process holds it, so processes
        opening a new database together retry here, for as long as the store's timeout allows.
        """
        deadline = time.monotonic() + self._timeout
        pause = 0.001
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Cursor]:
        if not write:
            with self._transaction(write=False) as cur:
                yield cur
            return
        if not self._writer.acquire(timeout=self._timeout):
            raise StoreError(f"SQLite: another thread of this process kept the write lock "
                             f"for over {self._timeout:g} s (the store's timeout)")
        try:
            with self._transaction(write=True) as cur:
                yield cur
        finally:
            self._writer.release()

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Cursor]:
        with self._pool.lease() as conn:
            try:
                cur = conn.cursor()
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite: {exc}") from None
            try:
                yield cur
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise StoreError(f"SQLite: {exc}") from None
            except BaseException:
                self._rollback(conn)
                raise

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:  # pragma: no cover - the connection is gone
            pass

    def _schema_lock(self, cur: Cursor) -> None:
        """BEGIN IMMEDIATE already holds the database's write lock."""

    def _table_exists(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
        return cur.fetchone() is not None

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.path!r}>"
