"""Helpers for the verifier tests: independent code oracles and store spies.

Expected codes come from Python's ``hmac`` (tests/oracle.py) or pyotp, never from pyotp_hw.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from pyotp_hw.verifier.policy import Policy
from pyotp_hw.verifier.records import Attempt, Credential, Event, State, Verdict
from pyotp_hw.verifier.stores import Store
from tests import oracle


def totp(secret: bytes, t: int, *, step_offset: int = 0, digits: int = 6, digest: str = "sha1",
         period: int = 30, t0: int = 0) -> str:
    """The oracle's TOTP code at time ``t`` shifted by ``step_offset`` steps."""
    return oracle.totp(secret, t + step_offset * period, digits, digest, period, t0)


def hotp(secret: bytes, counter: int, *, digits: int = 6, digest: str = "sha1") -> str:
    """The oracle's HOTP code."""
    return oracle.hotp(secret, counter, digits, digest)


def step_of(t: int, period: int = 30, t0: int = 0) -> int:
    """The TOTP step of time ``t``."""
    return (t - t0) // period


def wrong_code(secret: bytes, t: int, window: int = 3, digits: int = 6, period: int = 30) -> str:
    """A code that matches no step within ``window`` of ``t`` (and none of the oracle's codes)."""
    taken = {totp(secret, t, step_offset=k, digits=digits, period=period)
             for k in range(-window - 2, window + 3)}
    for candidate in range(10**digits):
        code = str((candidate * 7919 + 123457) % 10**digits).zfill(digits)
        if code not in taken:
            return code
    raise AssertionError("no wrong code found")


def new_secret() -> bytes:
    """A random 160-bit secret."""
    return os.urandom(20)


class SpyStore(Store):
    """Wraps a store and records every call (name only), optionally failing some of them."""

    def __init__(self, inner: Store, fail: Sequence[str] = ()) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.fail = set(fail)
        self.url = inner.url

    def _record(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            from pyotp_hw.verifier.errors import StoreError

            raise StoreError(f"injected failure in {name}")

    def migrate(self, *, create: bool = True) -> None:
        self._record("migrate")
        self.inner.migrate(create=create)

    def init_meta(self, values: dict[str, str]) -> dict[str, str]:
        self._record("init_meta")
        return self.inner.init_meta(values)

    def load_states(self, users: Sequence[str]) -> dict[str, State]:
        self._record("load_states")
        return self.inner.load_states(users)

    def get(self, user: str, state: str) -> Credential | None:
        self._record("get")
        return self.inner.get(user, state)

    def commit(self, attempts: Sequence[Attempt], now: float, policy: Policy
               ) -> tuple[list[Verdict], list[Event]]:
        self._record("commit")
        return self.inner.commit(attempts, now, policy)

    def put_active(self, creds: Any, *, replace: bool, events: Any, on_replace: Any,
                   may_replace: Any = None) -> Any:
        self._record("put_active")
        return self.inner.put_active(creds, replace=replace, events=events, on_replace=on_replace,
                                     may_replace=may_replace)

    def put_pending(self, cred: Credential, *, events: Sequence[Event]) -> None:
        self._record("put_pending")
        self.inner.put_pending(cred, events=events)

    def promote(self, pending_id: int, step: int, drift: int, now: float, events: Any,
                replaced_events: Any = (), may_replace: Any = None) -> Any:
        self._record("promote")
        return self.inner.promote(pending_id, step, drift, now, events, replaced_events,
                                  may_replace)

    def delete(self, user: str, states: Sequence[str], events: Sequence[Event], *,
               forget: bool = False) -> list[int]:
        self._record("delete")
        return self.inner.delete(user, states, events, forget=forget)

    def unlock(self, user: str, events: Sequence[Event], *, now: float = 0.0,
               max_gap: float = 0.0) -> bool:
        self._record("unlock")
        return self.inner.unlock(user, events, now=now, max_gap=max_gap)

    def count_unknown(self, users: Sequence[str]) -> None:
        self._record("count_unknown")
        self.inner.count_unknown(users)

    def latest_use(self) -> float | None:
        self._record("latest_use")
        return self.inner.latest_use()

    def add_events(self, events: Sequence[Event]) -> None:
        self._record("add_events")
        self.inner.add_events(events)

    def events(self, user: str | None = None, after: int = 0, limit: int = 1000) -> list[Event]:
        self._record("events")
        return self.inner.events(user, after, limit)

    def stats(self) -> dict[str, int]:
        self._record("stats")
        return self.inner.stats()

    def close(self) -> None:
        self.inner.close()


def sql_execute(url: str, *statements: str) -> None:
    """Run statements on the store's database directly, as someone with write access would."""
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///"):].partition("?")[0], isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for stmt in statements:
                conn.execute(stmt)
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url) as pg, pg.transaction():
        for stmt in statements:
            pg.execute(stmt)


def sql_query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one query on the store's database."""
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///"):].partition("?")[0])
        try:
            return list(conn.execute(sql).fetchall())
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as pg:
        return list(pg.execute(sql).fetchall())


def credential_id(url: str, user: str, state: str = "active") -> int:
    """The database id of a user's credential row."""
    rows = sql_query(url, f"SELECT id FROM otp_credentials WHERE user_id = '{user}' "
                          f"AND state = '{state}'")
    assert len(rows) == 1, rows
    return int(rows[0][0])
