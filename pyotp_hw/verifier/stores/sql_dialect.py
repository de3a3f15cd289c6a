"""What every part of the SQL stores builds its statements from: the dialect's hooks and the
column lists.

Dialects differ in three places, supplied by subclasses: placeholders (``?`` or ``%s::type``),
how a batch of rows enters a statement (``json_each`` or ``unnest`` of arrays) and the names of a
few functions. Every batch statement is one round trip whatever the batch size (SQLite, which
has no round trips, consumes steps with one prepared statement per attempt: see
``SQLiteStore._consume``).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import ClassVar

from ..records import COLUMNS
from .dbapi import Cursor, Param, Scalar

__all__ = ["SQLDialect", "COLS", "INSERT_COLS", "STATE_COLS"]

COLS = ", ".join(COLUMNS)
INSERT_COLS = [c for c in COLUMNS if c != "id"]
# The columns of records.State, in its order.
STATE_COLS = ("id, user_id, kind, digest, digits, period, t0, sealed, last_step, drift, "
              "next_allowed_at, locked_at")


class SQLDialect(abc.ABC):
    """The hooks a SQL dialect supplies (placeholders, batch sources, transactions, locks)."""

    #: Column types, by abstract name, for the DDL.
    TYPES: ClassVar[dict[str, str]] = {}

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
    def _tx(self, *, write: bool = True) -> AbstractContextManager[Cursor]:
        """A cursor inside one transaction, committed on success; StoreError on failure."""

    @abc.abstractmethod
    def _schema_lock(self, cur: Cursor) -> None:
        """Serialise schema creation among concurrent openers (inside the transaction)."""

    @abc.abstractmethod
    def _table_exists(self, cur: Cursor, name: str) -> bool:
        """True when a table of this name exists."""

    def _lock_rows(self, cur: Cursor, ids: list[int]) -> None:  # noqa: B027 - a no-op default
        """Lock a batch's rows in id order before changing them (no-op where the whole
        database is locked for the transaction), so that concurrent batches cannot deadlock."""

    def _lock_clause(self) -> str:
        """Row-lock suffix for a SELECT that precedes an update in the same transaction."""
        return ""
