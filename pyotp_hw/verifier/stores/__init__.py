"""Verifier stores, chosen by URL: ``memory:``, ``sqlite:///path`` or ``postgresql://...``.

The PostgreSQL module (and psycopg with it) is imported only for a PostgreSQL URL.
"""

from __future__ import annotations

from ..errors import InvalidStoreURL
from .base import SCHEMA_VERSION, Store
from .memory import MemoryStore

__all__ = ["Store", "MemoryStore", "open_store", "SCHEMA_VERSION"]


def open_store(url: str) -> Store:
    """A store for ``url`` (not yet migrated; :meth:`Verifier.open` does that)."""
    if not isinstance(url, str):
        raise InvalidStoreURL(f"a store URL must be a str, not {type(url).__name__}")
    if url == "memory:":
        return MemoryStore()
    if url.startswith("sqlite:"):
        from .sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql:", "postgres:")):
        from .postgres import PostgresStore

        return PostgresStore(url)
    scheme = url.partition(":")[0] if ":" in url else url
    raise InvalidStoreURL(
        f"unknown store URL scheme {scheme[:20]!r}; use memory:, sqlite:///PATH or "
        "postgresql://USER@HOST:PORT/DB"
    )
