"""What the SQL stores need of a DB-API driver: the shapes of cursors and values, and a pool of
connections that survives threads and ``fork()``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

from ..errors import StoreError

__all__ = ["Scalar", "Param", "Row", "Cursor", "Closable", "ConnectionPool"]

Scalar = int | float | str | bytes | None
"""A value bound to a statement's placeholder."""

Param = Scalar | Sequence[Scalar] | Sequence[Sequence[Scalar]]
"""A bound parameter: a value, or an array of them (PostgreSQL ``ANY``/``unnest``)."""

Row = tuple[Any, ...]
"""A result row as the driver returns it (each column's value, of the column's type)."""


class Cursor(Protocol):
    """The part of a DB-API cursor the stores use."""

    def execute(self, sql: str, params: Sequence[Param] = ..., /) -> object:
        """Run one statement."""

    def executemany(self, sql: str, params: Iterable[Sequence[Param]], /) -> object:
        """Run one statement once per parameter row."""

    def fetchone(self) -> Row | None:
        """The next result row, or None."""

    def fetchall(self) -> list[Row]:
        """The remaining result rows."""

    def __iter__(self) -> Iterator[Row]:
        """The remaining result rows, one at a time."""

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed (summed over ``executemany``'s runs)."""


class Closable(Protocol):
    """A connection, as far as the pool is concerned."""

    def close(self) -> None:
        """Close the connection."""


C = TypeVar("C", bound=Closable)


def close_quietly(conn: Closable) -> None:
    """Close ``conn``, ignoring any error (closing is best effort)."""
    try:
        conn.close()
    except Exception:  # noqa: S110 - closing is best effort
        pass


class ConnectionPool(Generic[C]):
    """Idle connections kept for reuse; more concurrent transactions open more, closed after.

    Connections inherited through ``fork()`` are never used (nor closed) by the child, which
    would disturb the parent's sessions; they are kept referenced so that garbage collection
    leaves them alone too.
    """

    def __init__(self, connect: Callable[[], C], broken: Callable[[C], bool],
                 max_idle: int = 16) -> None:
        self._connect = connect
        self._broken = broken
        self.max_idle = max_idle
        self._idle: list[C] = []
        self._lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self._inherited: list[C] = []

    @contextmanager
    def lease(self) -> Iterator[C]:
        """A connection for one transaction, from the idle pool or new; back to the pool after.

        A connection that failed (``broken(conn)`` after an exception) is closed instead of
        being reused.
        """
        with self._lock:
            if os.getpid() != self._pid:
                self._inherited.extend(self._idle)
                self._idle = []
                self._pid = os.getpid()
            if self._closed:
                raise StoreError("the store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        keep = False
        try:
            yield conn
            keep = True
        finally:
            back: C | None = conn
            if keep or not self._broken(conn):
                with self._lock:
                    if not self._closed and len(self._idle) < self.max_idle:
                        self._idle.append(conn)
                        back = None
            if back is not None:
                close_quietly(back)

    def close(self) -> None:
        """Close every idle connection; connections in use close when their transaction ends."""
        with self._lock:
            self._closed = True
            conns, self._idle = self._idle, []
        for conn in conns:
            close_quietly(conn)
