"""Tables the verification service keeps beside the verifier's: contacts, a notice outbox and
API keys (SQL stores only).

They are created by :meth:`ServiceTables.prepare_service` (``CREATE TABLE IF NOT EXISTS``, beside
schema version 1, which they leave as it is), never by :meth:`Store.migrate`, so a library user
who never runs the service never has them.

The outbox is transactional: once the tables exist, every store transaction that records an
event the user must hear about (a credential enabled, replaced or disabled; optionally a lockout
or a replay) also writes one outbox row per notice, addressed to the user's stored contact, in
the same transaction. A change that rolls back leaves no notice; a notice written is kept until a
delivery worker marks it sent (:meth:`claim_notices`, :meth:`notice_sent`,
:meth:`notice_failed`), however long the mail server is away.
"""

# Statements are assembled from fixed fragments: placeholders and column names. Every value
# travels as a bound parameter, never inside the SQL text.
# ruff: noqa: S608

from __future__ import annotations

import abc
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ...errors import InvalidArgument
from ..records import Event, EventKind
from .dbapi import Cursor
from .sql_dialect import SQLDialect

__all__ = ["ServiceTables", "Notice", "ApiKeyRow", "MANDATORY_NOTICES", "OPTIONAL_NOTICES"]

#: Notices every user gets, by the name their templates use.
MANDATORY_NOTICES = ("enabled", "replaced", "disabled")
#: Notices a site may turn on (``prepare_service(optional=...)``).
OPTIONAL_NOTICES = ("locked", "replay")

_OPTIONAL_META = "service_optional_notices"
# How long a store that had no outbox table believes so before looking again (seconds).
_RECHECK = 30.0
_MAX_EMAIL = 254


@dataclass(frozen=True)
class Notice:
    """One outbox row: a notice to deliver to ``email`` about ``user``'s settings."""

    id: int
    user: str
    email: str
    kind: str
    at: float
    detail: str
    attempts: int


@dataclass(frozen=True)
class ApiKeyRow:
    """One stored API key: its public id, name, SHA-256 digest of the secret, revocation time."""

    key_id: str
    name: str
    digest: bytes
    created_at: float
    revoked_at: float | None


def notices_for(events: Sequence[Event], optional: frozenset[str]) -> list[tuple[str, Event]]:
    """The notices (template name, event) one transaction's events call for.

    A replacement is one notice: the ``confirmed`` (or ``enrolled``) event of the same user in
    the same transaction does not add an "enabled" one.
    """
    replaced = {e.user for e in events if e.kind is EventKind.REPLACED}
    out: list[tuple[str, Event]] = []
    for e in events:
        kind = e.kind
        if kind is EventKind.REPLACED:
            out.append(("replaced", e))
        elif kind is EventKind.DISABLED:
            out.append(("disabled", e))
        elif kind is EventKind.CONFIRMED or (kind is EventKind.ENROLLED
                                            and e.detail != "pending"):
            if e.user not in replaced:
                out.append(("enabled", e))
        elif kind is EventKind.LOCKED and "locked" in optional:
            out.append(("locked", e))
        elif kind is EventKind.REPLAY and "replay" in optional:
            out.append(("replay", e))
    return out


class ServiceTables(SQLDialect):
    """The service's tables for a SQL store (mixed into :class:`~.sql.SQLStore`)."""

    _service_seen: tuple[bool, float, frozenset[str]] | None = None

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections (the store cannot be used afterwards)."""

    # ------------------------------------------------------------------ tables

    def _service_ddl(self) -> list[str]:
        t = self.TYPES
        return [
            "CREATE TABLE IF NOT EXISTS otp_contacts (user_id TEXT PRIMARY KEY, "
            "email TEXT NOT NULL)",
            f"""CREATE TABLE IF NOT EXISTS otp_outbox (
                    id {t['pk']},
                    user_id TEXT NOT NULL,
                    email TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at {t['float']} NOT NULL,
                    detail TEXT NOT NULL DEFAULT '',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at {t['float']} NOT NULL DEFAULT 0,
                    sent_at {t['float']},
                    last_error TEXT NOT NULL DEFAULT ''
                )""",
            "CREATE INDEX IF NOT EXISTS otp_outbox_due ON otp_outbox (next_attempt_at) "
            "WHERE sent_at IS NULL",
            f"""CREATE TABLE IF NOT EXISTS otp_api_keys (
                    key_id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    digest {t['bytes']} NOT NULL,
                    created_at {t['float']} NOT NULL,
                    revoked_at {t['float']}
                )""",
        ]

    def prepare_service(self, optional: Sequence[str] = ()) -> None:
        """Create the service's tables if missing and choose the optional notices
        (``"locked"``, ``"replay"``); every process writing to the store follows the choice."""
        unknown = set(optional) - set(OPTIONAL_NOTICES)
        if unknown:
            raise InvalidArgument(f"unknown optional notice(s): {', '.join(sorted(unknown))}; "
                                  f"choose from {', '.join(OPTIONAL_NOTICES)}")
        p = self._p
        with self._tx() as cur:
            self._schema_lock(cur)
            for stmt in self._service_ddl():
                cur.execute(stmt)
            cur.execute(f"DELETE FROM otp_meta WHERE name = {p('text')}", [_OPTIONAL_META])
            cur.execute(f"INSERT INTO otp_meta (name, value) VALUES ({p('text')}, {p('text')})",
                        [_OPTIONAL_META, ",".join(sorted(set(optional)))])
        self._service_seen = None

    def _service_state(self, cur: Cursor) -> tuple[bool, frozenset[str]]:
        """(outbox present, optional notices), looked up at most every few seconds."""
        seen = self._service_seen
        now = time.monotonic()
        if seen is not None and (seen[0] or now - seen[1] < _RECHECK):
            return seen[0], seen[2]
        present = self._table_exists(cur, "otp_outbox")
        optional: frozenset[str] = frozenset()
        if present:
            cur.execute(f"SELECT value FROM otp_meta WHERE name = {self._p('text')}",
                        [_OPTIONAL_META])
            row = cur.fetchone()
            if row is not None and row[0]:
                optional = frozenset(str(row[0]).split(","))
        self._service_seen = (present, now, optional)
        return present, optional

    def _write_notices(self, cur: Cursor, events: Sequence[Event]) -> None:
        """Outbox rows for ``events``, in the caller's transaction (users without a contact
        get none)."""
        present, optional = self._service_state(cur)
        if not present:
            return
        wanted = notices_for(events, optional)
        if not wanted:
            return
        p = self._p
        cur.executemany(
            "INSERT INTO otp_outbox (user_id, email, kind, at, detail) "
            f"SELECT user_id, email, {p('text')}, {p('float')}, {p('text')} FROM otp_contacts "
            f"WHERE user_id = {p('text')}",
            [(name, e.at, e.detail, e.user) for name, e in wanted],
        )

    # ------------------------------------------------------------------ contacts

    def set_contact(self, user: str, email: str) -> None:
        """Store (or change) the address the user's notices go to."""
        if not isinstance(email, str) or not 3 <= len(email) <= _MAX_EMAIL or "@" not in email \
                or any(c in email for c in "\r\n\x00 <>,;"):
            raise InvalidArgument("email must be one address, like user@example.com")
        p = self._p
        with self._tx() as cur:
            cur.execute(
                f"INSERT INTO otp_contacts (user_id, email) VALUES ({p('text')}, {p('text')}) "
                "ON CONFLICT (user_id) DO UPDATE SET email = excluded.email", [user, email])

    def contact(self, user: str) -> str | None:
        """The user's stored address, or None."""
        with self._tx(write=False) as cur:
            cur.execute(f"SELECT email FROM otp_contacts WHERE user_id = {self._p('text')}",
                        [user])
            row = cur.fetchone()
        return None if row is None else str(row[0])

    # ------------------------------------------------------------------ outbox

    def claim_notices(self, now: float, lease: float, limit: int = 50) -> list[Notice]:
        """Notices due at ``now``, each leased for ``lease`` seconds to this caller (another
        worker skips them meanwhile); each claim counts as an attempt."""
        p = self._p
        lock = self._lock_clause()
        skip = f"{lock} SKIP LOCKED" if lock else ""
        with self._tx() as cur:
            cur.execute(
                f"UPDATE otp_outbox SET next_attempt_at = {p('float')}, "
                "attempts = attempts + 1 WHERE id IN (SELECT id FROM otp_outbox "
                f"WHERE sent_at IS NULL AND next_attempt_at <= {p('float')} ORDER BY id "
                f"LIMIT {p('int')} {skip}) "
                "RETURNING id, user_id, email, kind, at, detail, attempts",
                [now + lease, now, limit])
            rows = cur.fetchall()
        notices = [Notice(int(r[0]), str(r[1]), str(r[2]), str(r[3]), float(r[4]), str(r[5]),
                          int(r[6])) for r in rows]
        return sorted(notices, key=lambda n: n.id)

    def notice_sent(self, notice_id: int, now: float) -> None:
        """Mark a notice delivered."""
        p = self._p
        with self._tx() as cur:
            cur.execute(f"UPDATE otp_outbox SET sent_at = {p('float')} WHERE id = {p('int')}",
                        [now, notice_id])

    def notice_failed(self, notice_id: int, retry_at: float, error: str) -> None:
        """Put a notice back for another attempt at ``retry_at`` (``error`` without secrets)."""
        p = self._p
        with self._tx() as cur:
            cur.execute(f"UPDATE otp_outbox SET next_attempt_at = {p('float')}, "
                        f"last_error = {p('text')} WHERE id = {p('int')} AND sent_at IS NULL",
                        [retry_at, error[:500], notice_id])

    # ------------------------------------------------------------------ API keys

    def add_api_key(self, key_id: str, name: str, digest: bytes, now: float) -> None:
        """Store a new API key (only the digest of its secret part)."""
        p = self._p
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO otp_api_keys (key_id, name, digest, created_at) "
                f"VALUES ({p('text')}, {p('text')}, {p('bytes')}, {p('float')})",
                [key_id, name, digest, now])

    def revoke_api_keys(self, name: str, now: float) -> int:
        """Revoke every live key of ``name``; returns how many."""
        p = self._p
        with self._tx() as cur:
            cur.execute(f"UPDATE otp_api_keys SET revoked_at = {p('float')} "
                        f"WHERE name = {p('text')} AND revoked_at IS NULL RETURNING key_id",
                        [now, name])
            return len(cur.fetchall())

    def api_keys(self) -> list[ApiKeyRow]:
        """Every stored key (revoked ones included), by creation."""
        with self._tx(write=False) as cur:
            if not self._table_exists(cur, "otp_api_keys"):
                return []
            cur.execute("SELECT key_id, name, digest, created_at, revoked_at FROM otp_api_keys "
                        "ORDER BY created_at, key_id")
            rows = cur.fetchall()
        return [ApiKeyRow(str(r[0]), str(r[1]), bytes(r[2]), float(r[3]),
                          None if r[4] is None else float(r[4])) for r in rows]
