"""A child process that rekeys a SQLite verifier store and is killed at its Nth SQL statement.

Usage: ``python rekey_child.py URL KEYFILE N``. Every ``execute`` of the store's cursors counts
(statements inside a transaction included); at call N the process SIGKILLs itself before the
statement runs. Exit status 0 means the rekey finished first.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from typing import Any

from pyotp_hw.verifier import KeyFile, Verifier


class _Cursor:
    count = 0
    limit = 0

    def __init__(self, inner: sqlite3.Cursor) -> None:
        self._inner = inner

    def execute(self, *args: Any) -> Any:
        _Cursor.count += 1
        if _Cursor.count == _Cursor.limit:
            os.kill(os.getpid(), signal.SIGKILL)
        return self._inner.execute(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Connection(sqlite3.Connection):
    def cursor(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return _Cursor(super().cursor(*args, **kwargs))


def main() -> None:
    url, key_file, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real_connect(*args, factory=_Connection, **kwargs)

    sqlite3.connect = connect  # type: ignore[assignment]
    with Verifier.open(url, key=KeyFile(key_file), create=False) as v:
        _Cursor.count, _Cursor.limit = 0, limit
        v.rekey(batch=2)


if __name__ == "__main__":
    main()
