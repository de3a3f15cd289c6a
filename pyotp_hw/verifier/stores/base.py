"""The store interface: every method is one atomic transaction.

A store keeps credential rows (seeds only sealed), the consumed step of each, throttling counters
and events. The verifier decides what a code means; the store makes each decision stick
atomically, across threads, processes and machines sharing the database:

- :meth:`Store.load_states` reads a whole batch's state, sealed seeds included, in one round
  trip;
- :meth:`Store.commit` consumes every accepted step with a conditional write
  (``last_step < :s`` and not locked, not in its delay) and counts every failure with an atomic
  increment, in one transaction, telling for each attempt what actually happened;
- :meth:`Store.verify_round` does both around the verifier's decision: the SQL stores read, let
  the caller decide and commit in one write transaction, other stores compose the two methods.
"""

from __future__ import annotations

import abc
import dataclasses
import zlib
from collections.abc import Callable, Sequence

from ...errors import InvalidArgument
from ..errors import AlreadyEnrolled, ReauthenticationRequired, StoreError
from ..policy import Policy
from ..records import (
    Attempt,
    Attempts,
    Credential,
    CredentialState,
    Decision,
    Event,
    Params,
    State,
    Verdict,
)

__all__ = ["Store", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


class Store(abc.ABC):
    """Persistent state of a verifier. Subclasses: memory, SQLite, PostgreSQL."""

    #: The URL the store was opened from, without any password.
    url: str = ""

    @abc.abstractmethod
    def migrate(self, *, create: bool = True) -> None:
        """Create the schema in an empty database, or upgrade an older one (idempotent).

        With ``create`` false a database without the schema raises
        :class:`~pyotp_hw.verifier.errors.StoreNotFound` and is left as it was.
        """

    @abc.abstractmethod
    def init_meta(self, values: dict[str, str]) -> dict[str, str]:
        """Insert the metadata entries that are missing; return every entry as stored."""

    @abc.abstractmethod
    def load_states(self, users: Sequence[str]) -> dict[str, State]:
        """The state of each user's active credential (users without one are left out)."""

    @abc.abstractmethod
    def get(self, user: str, state: CredentialState) -> Credential | None:
        """The user's credential in ``state`` ("active" or "pending"), or None."""

    @abc.abstractmethod
    def commit(
        self, attempts: Sequence[Attempt], now: float, policy: Policy
    ) -> tuple[list[Verdict], list[Event]]:
        """Apply a batch of evaluated attempts atomically; each credential appears at most once.

        An attempt with a ``step`` and not ``replay`` consumes the step only if the stored step is
        lower and the credential is neither locked nor in its delay; if another worker consumed it
        first, it turns into a replay. Every failure (wrong code or replay) adds one to the
        credential's consecutive failures, sets its delay, and locks it at
        ``policy.lockout_after``, unless it was already locked or in its delay. Replays and
        lockouts are recorded as events, which are returned.
        """

    def verify_round(
        self, users: Sequence[str], decide: Callable[[dict[str, State]], Decision], now: float,
        policy: Policy,
    ) -> tuple[list[Verdict], list[Event]]:
        """Read the states of ``users``, call ``decide(states)``, store what it decided.

        ``states`` is what :meth:`load_states` returns; ``decide`` is pure computation (it may
        read the store, never write it) and may be called more than once when a store retries
        the round. Its :class:`~pyotp_hw.verifier.records.Decision` is stored as by
        :meth:`count_unknown`, :meth:`add_events` and :meth:`commit`, whose verdicts and events
        for the decision's attempts are returned. If ``decide`` raises, the exception propagates.

        This default takes one transaction per step, the state read included, and is safe
        because :meth:`commit` re-checks every step it consumes. The SQL stores override it to
        do everything in one write transaction that holds the rows from the read to the commit
        (so the state ``decide`` sees is the one written) and writes nothing unless all of it
        is written.
        """
        decision = decide(self.load_states(users))
        if decision.unknown:
            self.count_unknown(decision.unknown)
        if decision.events:
            self.add_events(decision.events)
        if not decision.attempts:
            return [], []
        return self.commit(decision.attempts, now, policy)

    @abc.abstractmethod
    def put_active(
        self,
        creds: Sequence[Credential],
        *,
        replace: bool,
        events: Sequence[Event],
        on_replace: Callable[[Credential], Event],
        may_replace: Callable[[Credential], bool] | None = None,
    ) -> list[Credential]:
        """Store each of ``creds`` (one per user) as its user's active credential, atomically.

        Returns the active credentials they replaced. Raises
        :class:`~pyotp_hw.verifier.errors.AlreadyEnrolled` (storing nothing) when a user has one
        and ``replace`` is false, and
        :class:`~pyotp_hw.verifier.errors.ReauthenticationRequired` (storing nothing) when
        ``may_replace(old)`` is false for one. A new row takes over the failures, delay and lock
        of the row it replaces. ``events`` are stored, and ``on_replace(old)`` for each
        replaced credential.
        """

    @abc.abstractmethod
    def put_pending(self, cred: Credential, *, events: Sequence[Event]) -> None:
        """Store ``cred`` as the user's pending credential, dropping an earlier pending one."""

    @abc.abstractmethod
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
        """Make a pending credential active, consuming ``step``; return (done, replaced).

        Happens only while the row is still pending, unexpired, unlocked and not in its delay,
        and (with ``may_replace``) when ``may_replace(active)`` allows replacing the user's
        active credential, if any: otherwise nothing changes and (False, active) is returned.
        The replaced credential is deleted in the same transaction and its failures, delay and
        lock carry over. ``events`` are stored only when it happens, ``replaced_events`` only
        when an active one was replaced.
        """

    @abc.abstractmethod
    def delete(
        self, user: str, states: Sequence[CredentialState], events: Sequence[Event], *,
        forget: bool = False
    ) -> list[int]:
        """Delete the user's credentials in ``states``; with ``forget`` also their events.

        ``events`` are stored when a credential was deleted. Returns the deleted ids.
        """

    @abc.abstractmethod
    def unlock(
        self, user: str, events: Sequence[Event], *, now: float = 0.0, max_gap: float = 0.0
    ) -> bool:
        """Clear failures, delay and lock of the user's credentials; True when one existed.

        With ``max_gap`` > 0, also forget a TOTP stored step whose time lies more than
        ``max_gap`` seconds from ``now`` (left by a clock jump): no code of a window around
        ``now`` is that far from it, so forgetting it lets nothing be replayed.
        """

    @abc.abstractmethod
    def count_unknown(self, users: Sequence[str]) -> None:
        """Count attempts for users without a credential, in one write transaction (the write a
        wrong code of a known user costs; ``stats()["unknown"]`` sums them)."""

    @abc.abstractmethod
    def latest_use(self) -> float | None:
        """The latest time (seconds) of any active TOTP credential's stored step, or None."""

    @abc.abstractmethod
    def add_events(self, events: Sequence[Event]) -> None:
        """Record events."""

    @abc.abstractmethod
    def events(self, user: str | None = None, after: int = 0, limit: int = 1000) -> list[Event]:
        """Stored events in order (of one user, or all), those with ``id > after``."""

    @abc.abstractmethod
    def stats(self) -> dict[str, int]:
        """Counts: credentials, active, pending, locked, accepted, rejected, replayed, lockouts,
        unknown."""

    # Re-sealing under a new data key (``Verifier.rekey``): stores that support it override both.

    def sealed_rows(self, after: int, limit: int) -> list[Params]:
        """Up to ``limit`` credentials (active and pending) with ``id > after``, by id."""
        raise StoreError(f"the {type(self).__name__} cannot re-seal its credentials")

    def reseal(self, updates: Sequence[tuple[int, bytes, bytes]]) -> int:
        """For each ``(id, old, new)``: the row's sealed seed becomes ``new`` if it is still
        ``old`` (a row replaced or removed meanwhile is left alone), in one transaction.
        Returns how many rows changed. Nothing else of a row is written."""
        raise StoreError(f"the {type(self).__name__} cannot re-seal its credentials")

    def close(self) -> None:  # noqa: B027 - optional for stores without resources
        """Release connections (the store cannot be used afterwards)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_users(creds: Sequence[Credential]) -> None:
    users = [c.user for c in creds]
    if len(set(users)) != len(users):
        raise InvalidArgument("a batch of enrollments names one user twice")


def _check_attempts(attempts: Sequence[Attempt]) -> None:
    ids = attempts.ids if isinstance(attempts, Attempts) else [a.cred_id for a in attempts]
    if len(set(ids)) != len(ids):
        raise InvalidArgument("a commit batch names one credential twice")


def _check_may_replace(olds: Sequence[Credential],
                       may_replace: Callable[[Credential], bool] | None) -> None:
    """Raise ReauthenticationRequired unless every old row may be replaced."""
    for old in olds:
        if may_replace is not None and not may_replace(old):
            raise ReauthenticationRequired(
                f"user {old.user!r} has an active credential: replacing it needs a code from it "
                "(current_code=) or a fresh re-authentication (reauthenticated=True)")


def _inherit_lockout(creds: Sequence[Credential], olds: Sequence[Credential]
                     ) -> list[Credential]:
    """The new rows, each with the failures, delay and lock of the row it replaces."""
    by_user = {o.user: o for o in olds}
    out = []
    for cred in creds:
        old = by_user.get(cred.user)
        if old is not None:
            failures, next_allowed_at, locked_at = _lockout_of(old)
            cred = dataclasses.replace(cred, failures=failures, next_allowed_at=next_allowed_at,
                                       locked_at=locked_at)
        out.append(cred)
    return out


def _lockout_of(old: Credential | None) -> tuple[int, float, float | None]:
    """(failures, next_allowed_at, locked_at) a row replacing ``old`` takes over (none: clear)."""
    if old is None:
        return 0, 0.0, None
    return old.failures, old.next_allowed_at, old.locked_at


def _check_replace(olds: Sequence[Credential], replace: bool,
                   may_replace: Callable[[Credential], bool] | None) -> None:
    """Raise AlreadyEnrolled (``replace`` false) or ReauthenticationRequired unless the users'
    active rows ``olds`` may be replaced."""
    if olds and not replace:
        raise AlreadyEnrolled(f"user {olds[0].user!r} already has an active credential")
    _check_may_replace(olds, may_replace)


# Attempts for unknown users are counted in this many metadata rows, chosen by user, so that
# concurrent ones do not all wait for the same row lock.
UNKNOWN_BUCKETS = 16
UNKNOWN_PREFIX = "unknown_attempts:"


def unknown_buckets(users: Sequence[str]) -> dict[str, int]:
    """Metadata row name -> attempts to add, for a batch of unknown users."""
    out: dict[str, int] = {}
    for user in users:
        name = f"{UNKNOWN_PREFIX}{zlib.crc32(user.encode('utf-8')) % UNKNOWN_BUCKETS}"
        out[name] = out.get(name, 0) + 1
    return out
