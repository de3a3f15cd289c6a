"""Verifier stores, chosen by URL: ``memory:``, ``sqlite:///path`` or ``postgresql://...``.

The PostgreSQL module (and psycopg with it) is imported only for a PostgreSQL URL.
"""

from __future__ import annotations

import re

from ..errors import InvalidStoreURL
from .base import SCHEMA_VERSION, Store
from .memory import MemoryStore

__all__ = ["Store", "MemoryStore", "open_store", "SCHEMA_VERSION"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,19}")


def open_store(url: str, *, create: bool = True) -> Store:
    """A store for ``url`` (not yet migrated; :meth:`Verifier.open` does that).

    With ``create`` false a SQLite file must exist already (nothing is created on disk).
    """
    if not isinstance(url, str):
        raise InvalidStoreURL(f"a store URL must be a str, not {type(url).__name__}")
    if url == "memory:":
        return MemoryStore()
    if url.startswith("sqlite:"):
        from .sqlite import SQLiteStore

        return SQLiteStore(url, create=create)
    if url.startswith(("postgresql:", "postgres:")):
        from .postgres import PostgresStore

        return PostgresStore(url)
    # Only a well-formed scheme is repeated: anything else may be a connection string that
    # holds a password.
    scheme = url.partition(":")[0]
    if "=" in url and "://" not in url:
        raise InvalidStoreURL(
            "a key=value connection string is not a store URL; write it as "
            "postgresql://USER@HOST:PORT/DB (keep the password in ~/.pgpass or PGPASSWORD)"
        )
    named = f" {scheme!r}" if ":" in url and _SCHEME.fullmatch(scheme) else ""
    raise InvalidStoreURL(
        f"unknown store URL scheme{named}; use memory:, sqlite:///PATH or "
        "postgresql://USER@HOST:PORT/DB"
    )
