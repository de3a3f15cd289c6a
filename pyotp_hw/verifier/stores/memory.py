"""An in-memory store for tests and single-process use: one lock makes every method atomic."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence

from ..policy import Policy
from ..records import (
    Attempt,
    Credential,
    CredentialState,
    Event,
    EventKind,
    Params,
    State,
    Verdict,
)
from .base import (
    Store,
    _check_attempts,
    _check_replace,
    _check_users,
    _inherit_lockout,
    _lockout_of,
    unknown_buckets,
)

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """State held in this process only (lost when it exits); ``url`` is ``"memory:"``."""

    def __init__(self) -> None:
        self.url = "memory:"
        self._lock = threading.Lock()
        self._meta: dict[str, str] = {}
        self._rows: dict[int, Credential] = {}
        self._by_user: dict[tuple[str, CredentialState], int] = {}
        self._events: list[Event] = []
        self._next_id = 1
        self._unknown: dict[str, int] = {}
        self._next_event = 1

    def migrate(self, *, create: bool = True) -> None:
        """Nothing to create."""

    def init_meta(self, values: dict[str, str]) -> dict[str, str]:
        """Insert missing entries."""
        with self._lock:
            for k, v in values.items():
                self._meta.setdefault(k, v)
            return dict(self._meta)

    def load_states(self, users: Sequence[str]) -> dict[str, State]:
        """Snapshots of the active rows' state."""
        with self._lock:
            out: dict[str, State] = {}
            for user in users:
                cid = self._by_user.get((user, "active"))
                if cid is not None:
                    out[user] = self._rows[cid].state_now
            return out

    def get(self, user: str, state: CredentialState) -> Credential | None:
        """A copy of one row."""
        with self._lock:
            cid = self._by_user.get((user, state))
            return None if cid is None else dataclasses.replace(self._rows[cid])

    def sealed_rows(self, after: int, limit: int) -> list[Params]:
        """Rows by id, after ``after``."""
        with self._lock:
            ids = sorted(i for i in self._rows if i > after)[:limit]
            return [self._rows[i].params for i in ids]

    def reseal(self, updates: Sequence[tuple[int, bytes, bytes]]) -> int:
        """Compare-and-set of each row's sealed seed."""
        changed = 0
        with self._lock:
            for cid, old, new in updates:
                row = self._rows.get(cid)
                if row is not None and row.sealed == old:
                    self._rows[cid] = dataclasses.replace(row, sealed=new)
                    changed += 1
        return changed

    def commit(
        self, attempts: Sequence[Attempt], now: float, policy: Policy
    ) -> tuple[list[Verdict], list[Event]]:
        """Apply the batch under the lock."""
        _check_attempts(attempts)
        with self._lock:
            verdicts: list[Verdict] = []
            events: list[Event] = []
            for a in attempts:
                row = self._rows.get(a.cred_id)
                if row is None:
                    verdicts.append(Verdict.GONE)
                    continue
                if row.locked_at is not None:
                    verdicts.append(Verdict.LOCKED)
                    continue
                if row.next_allowed_at > now:
                    verdicts.append(Verdict.THROTTLED)
                    continue
                replay = a.replay
                if a.step is not None and not replay:
                    if row.last_step is None or row.last_step < a.step:
                        row.last_step = a.step
                        row.drift = a.drift
                        row.failures = 0
                        row.next_allowed_at = 0.0
                        row.accepted += 1
                        verdicts.append(Verdict.ACCEPTED)
                        continue
                    replay = True
                row.failures += 1
                if row.failures > policy.delay_after:
                    row.next_allowed_at = now + policy.delay(row.failures)
                if replay:
                    row.replayed += 1
                    events.append(self._event(EventKind.REPLAY, row.user, now))
                else:
                    row.rejected += 1
                if row.failures >= policy.lockout_after:
                    row.locked_at = now
                    events.append(
                        self._event(EventKind.LOCKED, row.user, now, f"{row.failures} failures")
                    )
                verdicts.append(Verdict.REPLAY if replay else Verdict.FAILED)
            return verdicts, events

    def _event(self, kind: EventKind, user: str, at: float, detail: str = "") -> Event:
        event = Event(kind, user, at, detail, self._next_event)
        self._next_event += 1
        self._events.append(event)
        return event

    def _store_events(self, events: Sequence[Event]) -> None:
        for e in events:
            self._event(e.kind, e.user, e.at, e.detail)

    def _insert(self, cred: Credential) -> None:
        row = dataclasses.replace(cred, id=self._next_id)
        self._next_id += 1
        self._rows[row.id] = row
        self._by_user[(row.user, row.state)] = row.id

    def _pop(self, user: str, state: CredentialState) -> Credential | None:
        cid = self._by_user.pop((user, state), None)
        return None if cid is None else self._rows.pop(cid)

    def put_active(
        self,
        creds: Sequence[Credential],
        *,
        replace: bool,
        events: Sequence[Event],
        on_replace: Callable[[Credential], Event],
        may_replace: Callable[[Credential], bool] | None = None,
    ) -> list[Credential]:
        """Insert (or replace) active rows."""
        _check_users(creds)
        with self._lock:
            current = [self._rows[cid] for cid in
                       (self._by_user.get((c.user, "active")) for c in creds) if cid is not None]
            _check_replace(current, replace, may_replace)
            olds: list[Credential] = []
            for cred in _inherit_lockout(creds, current):
                old = self._pop(cred.user, "active")
                if old is not None:
                    olds.append(old)
                self._insert(dataclasses.replace(cred, state="active"))
            self._store_events(events)
            self._store_events([on_replace(o) for o in olds])
            return olds

    def put_pending(self, cred: Credential, *, events: Sequence[Event]) -> None:
        """Insert the pending row, dropping an earlier one."""
        with self._lock:
            self._pop(cred.user, "pending")
            self._insert(dataclasses.replace(cred, state="pending"))
            self._store_events(events)

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
        """Pending to active, if still allowed."""
        with self._lock:
            row = self._rows.get(pending_id)
            if (
                row is None
                or row.state != "pending"
                or (row.expires_at is not None and row.expires_at <= now)
                or row.locked_at is not None
                or row.next_allowed_at > now
            ):
                return False, None
            cid = self._by_user.get((row.user, "active"))
            if cid is not None and may_replace is not None and not may_replace(self._rows[cid]):
                return False, dataclasses.replace(self._rows[cid])
            old = self._pop(row.user, "active")
            del self._by_user[(row.user, "pending")]
            row.state = "active"
            row.expires_at = None
            row.last_step = step
            row.drift = drift
            row.failures, row.next_allowed_at, row.locked_at = _lockout_of(old)
            row.accepted += 1
            self._by_user[(row.user, "active")] = row.id
            self._store_events(events)
            if old is not None:
                self._store_events(replaced_events)
            return True, old

    def delete(
        self, user: str, states: Sequence[CredentialState], events: Sequence[Event], *,
        forget: bool = False
    ) -> list[int]:
        """Drop rows (and with ``forget`` the user's events)."""
        with self._lock:
            gone = [row.id for row in (self._pop(user, s) for s in states) if row is not None]
            if forget:
                self._events = [e for e in self._events if e.user != user]
            if gone:
                self._store_events(events)
            return gone

    def unlock(
        self, user: str, events: Sequence[Event], *, now: float = 0.0, max_gap: float = 0.0
    ) -> bool:
        """Reset throttling of both rows (and forget a stored step far from ``now``)."""
        with self._lock:
            found = False
            for state in ("active", "pending"):
                cid = self._by_user.get((user, state))
                if cid is not None:
                    row = self._rows[cid]
                    row.failures = 0
                    row.next_allowed_at = 0.0
                    row.locked_at = None
                    if (max_gap > 0 and row.kind == "totp" and row.last_step is not None
                            and abs(_step_time(row.t0, row.last_step, row.period) - now)
                            > max_gap):
                        row.last_step = None
                    found = True
            if found:
                self._store_events(events)
            return found

    def count_unknown(self, users: Sequence[str]) -> None:
        """Add to the per-bucket counters."""
        with self._lock:
            for name, n in unknown_buckets(users).items():
                self._unknown[name] = self._unknown.get(name, 0) + n

    def latest_use(self) -> float | None:
        """The latest stored step's time over the active TOTP rows."""
        with self._lock:
            times = [_step_time(r.t0, r.last_step, r.period) for r in self._rows.values()
                     if r.state == "active" and r.kind == "totp" and r.last_step is not None]
            return max(times) if times else None

    def add_events(self, events: Sequence[Event]) -> None:
        """Append events."""
        with self._lock:
            self._store_events(events)

    def events(self, user: str | None = None, after: int = 0, limit: int = 1000) -> list[Event]:
        """Stored events in order."""
        with self._lock:
            out = [
                e for e in self._events
                if (user is None or e.user == user) and e.id is not None and e.id > after
            ]
            return out[:limit]

    def stats(self) -> dict[str, int]:
        """Counts over all rows."""
        with self._lock:
            rows = list(self._rows.values())
            return {
                "credentials": len(rows),
                "active": sum(r.state == "active" for r in rows),
                "pending": sum(r.state == "pending" for r in rows),
                "locked": sum(r.locked_at is not None for r in rows),
                "accepted": sum(r.accepted for r in rows),
                "rejected": sum(r.rejected for r in rows),
                "replayed": sum(r.replayed for r in rows),
                "lockouts": sum(e.kind == EventKind.LOCKED for e in self._events),
                "unknown": sum(self._unknown.values()),
            }


def _step_time(t0: int, step: int, period: int) -> float:
    """The time of a stored TOTP step."""
    return t0 + float(step) * period

